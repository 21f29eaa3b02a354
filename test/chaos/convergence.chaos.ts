/**
 * Seeded random editing from several responders with random disconnects, reconnects and server
 * restarts (in the spirit of yjs's own random tests): every replica, and a fresh load from disk, end
 * identical.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import {
  createEntry, createHypothesis, entriesOf, entryText, hypothesesOf, listEntries, listHypotheses, readMeta, setHypothesisStatus, setVerdict,
} from '../../shared/schema/doc.js';
import { HypothesisStatuses } from '../../shared/schema/doc.js';
import { startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { freePort } from '../helpers/child-server.js';
import { chaosSeed, seededRandom } from '../helpers/random.js';

const CLIENTS = 5;
const STEPS = 1500;
let server: TestServer;
const clients: CollabClient[] = [];
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
});

/** JSON with keys sorted: replicas may hold map keys in different insertion orders. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
const snapshot = (doc: Y.Doc) => canonical({ entries: listEntries(doc), hypotheses: listHypotheses(doc), meta: readMeta(doc) });

describe('convergence chaos', () => {
  it(`converges after ${STEPS} random steps by ${CLIENTS} clients with disconnects and server restarts`, async () => {
    const random = seededRandom(chaosSeed('convergence'));
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const dataDir = tempDataDir();
    const port = await freePort();
    server = await startTestServer({ dataDir, config: { port } });
    const users = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => server.createUser('responder', `editor${i}`)));
    const incident = await server.createIncident(users[0]!.token);
    for (const u of users) clients.push(connect(server.wsUrl, incident.id, u.token));
    await Promise.all(clients.map(synced));

    const counts = { entries: 0, textEdits: 0, verdicts: 0, disconnects: 0, restarts: 0 };
    for (let step = 0; step < STEPS; step++) {
      const c = pick(clients);
      const ids = [...entriesOf(c.doc).keys()];
      const r = random();
      if (r < 0.25 || ids.length === 0) {
        createEntry(c.doc, { kind: pick(['test', 'note', 'action', 'conclusion'] as const), title: `step ${step}`, ranAt: new Date(Date.UTC(2026, 2, 4, 6, 0, step)).toISOString() });
        counts.entries++;
      } else if (r < 0.75) {
        const text = entryText(c.doc, pick(ids), pick(['command', 'observations', 'conclusion'] as const));
        if (text && text.length > 0 && random() < 0.3) text.delete(Math.floor(random() * text.length), 1 + Math.floor(random() * 3));
        else text?.insert(Math.floor(random() * ((text?.length ?? 0) + 1)), `s${step} `);
        counts.textEdits++;
      } else if (r < 0.85) {
        const hyps = [...hypothesesOf(c.doc).keys()];
        if (hyps.length === 0 || random() < 0.3) createHypothesis(c.doc, `hypothesis ${step}`);
        else if (random() < 0.5) setHypothesisStatus(c.doc, pick(hyps), pick(HypothesisStatuses));
        else setVerdict(c.doc, pick(ids), pick(hyps), pick(['supports', 'refutes', null] as const));
        counts.verdicts++;
      } else if (r < 0.97) {
        if (c.provider.shouldConnect) c.provider.disconnect();
        else c.provider.connect();
        counts.disconnects++;
      } else if (r < 0.985) {
        c.doc.getMap('meta').set('status', pick(['investigating', 'identified', 'monitoring'] as const));
      } else {
        await server.close();
        server = await startTestServer({ dataDir, config: { port } });
        counts.restarts++;
      }
      if (random() < 0.2) await new Promise((r2) => setTimeout(r2, random() * 15));
    }

    for (const c of clients) if (!c.provider.shouldConnect) c.provider.connect();
    await vi.waitFor(() => {
      expect(new Set(clients.map((c) => Buffer.from(Y.encodeStateVector(c.doc)).toString('hex'))).size).toBe(1);
      expect(new Set(clients.map((c) => snapshot(c.doc))).size).toBe(1);
    }, { timeout: 60_000, interval: 100 });
    await Promise.all(clients.map((c) => c.saved()));

    // A reload from disk, by a server that starts cold, is the same document.
    const expected = snapshot(clients[0]!.doc);
    await server.close();
    server = await startTestServer({ dataDir, config: { port } });
    const fresh = connect(server.wsUrl, incident.id, users[1]!.token);
    clients.push(fresh);
    await synced(fresh);
    expect(snapshot(fresh.doc)).toBe(expected);
    expect(Y.encodeStateVector(fresh.doc)).toEqual(Y.encodeStateVector(clients[0]!.doc));
    console.log(`convergence chaos: ${JSON.stringify({ ...counts, finalEntries: listEntries(fresh.doc).length })}`);
    expect(counts.restarts).toBeGreaterThan(0);
  });
});
