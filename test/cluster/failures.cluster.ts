/**
 * What the nodes do when what they stand on fails: PostgreSQL stopped (fast and immediate), Redis
 * killed and restarted, and a client ID claimed by two users on two nodes at the same moment. Real
 * processes; the stock y-websocket provider as the client.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import pg from 'pg';
import { inspectUpdate } from '../../server/history/attribution.js';
import { CloseCode } from '../../shared/protocol.js';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { ADMIN_TOKEN } from '../helpers/server.js';
import { api } from '../helpers/api.js';
import { printNodeLogsOnFailure } from '../helpers/cluster-logs.js';

let cluster: LocalCluster;
printNodeLogsOnFailure(() => cluster);
const clients: CollabClient[] = [];

const ws = (url: string) => url.replace(/^http/, 'ws');
const vectorOf = (c: CollabClient) => Buffer.from(Y.encodeStateVector(c.doc)).toString('hex');
function open(url: string, incidentId: string, token: string, doc?: Y.Doc): CollabClient {
  const c = connect(ws(url), incidentId, token, doc);
  clients.push(c);
  return c;
}

/** Runs one query on a fresh connection (PostgreSQL is stopped and started under these tests). */
async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<T[]> {
  const db = new pg.Client(cluster.postgres.url);
  db.on('error', () => undefined);
  await db.connect();
  try {
    return (await db.query<T>(sql, params)).rows;
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** Every entry title PostgreSQL holds for the incident, read from its table. */
async function storedTitles(incidentId: string): Promise<Set<string>> {
  const rows = await query<{ update: Buffer }>('SELECT "update" FROM incident_updates WHERE incident_id = $1 ORDER BY seq', [incidentId]);
  const doc = new Y.Doc();
  for (const r of rows) Y.applyUpdate(doc, r.update);
  return new Set(listEntries(doc).map((e) => e.title));
}

/** A writer logging entries until stopped, remembering the clock each ended at (to tell what was acknowledged). */
function writeLoop(c: CollabClient, name: string, everyMs = 30) {
  const written: Array<{ title: string; clock: number }> = [];
  let on = true;
  const done = (async () => {
    for (let n = 0; on; n++) {
      const title = `${name} entry ${n}`;
      createEntry(c.doc, { kind: 'test', title, ranAt: new Date().toISOString() });
      written.push({ title, clock: Y.getState(c.doc.store, c.doc.clientID) });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    written,
    acked: () => written.filter((e) => e.clock <= (c.durable.get(c.doc.clientID) ?? 0)).map((e) => e.title),
    stop: async () => {
      on = false;
      await done;
    },
  };
}

beforeAll(async () => {
  cluster = await startLocalCluster({ nodes: 2, haproxy: false, env: { BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'warn', CLUSTER_POLL_MS: '500' } });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await cluster?.stop();
});

describe('failures', () => {
  for (const mode of ['fast', 'immediate'] as const) {
    it(`PostgreSQL stopped (${mode}): sockets closed with 4503, writes refused with 503, nothing acknowledged; all saved once it is back`, async () => {
      const [n1, n2] = cluster.nodes;
      const user = await api(n1!.url, 'POST', '/api/users', ADMIN_TOKEN, { name: `pg-${mode}`, role: 'responder' });
      const incident = await api(n1!.url, 'POST', '/api/incidents', user.token, { title: `PostgreSQL ${mode} stop` });
      const writer = open(n1!.url, incident.id, user.token);
      const reader = open(n2!.url, incident.id, ADMIN_TOKEN);
      await Promise.all([synced(writer), synced(reader)]);
      const loop = writeLoop(writer, mode);
      await new Promise((r) => setTimeout(r, 500));

      await cluster.postgres.stop(mode);
      const ackedBefore = new Set(loop.acked());
      // The node finds out within a couple of seconds: not ready, sockets closed with 4503.
      await vi.waitFor(async () => expect((await fetch(`${n1!.url}/readyz`)).status).toBe(503), { timeout: 10_000, interval: 100 });
      await vi.waitFor(() => expect(writer.closes.map((c) => c.code)).toContain(CloseCode.storageUnavailable), { timeout: 10_000, interval: 100 });
      const refused = await fetch(`${n2!.url}/api/incidents`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'while down' }) });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      // While it is down, whatever is written is never acknowledged.
      const durableWhileDown = writer.durable.get(writer.doc.clientID) ?? 0;
      await new Promise((r) => setTimeout(r, 2000));
      expect(writer.durable.get(writer.doc.clientID) ?? 0).toBe(durableWhileDown);
      const ackedDuring = loop.acked().filter((t) => !ackedBefore.has(t));
      // (Acknowledged in the instant before the stop took effect, at most.)
      expect((await fetch(`${n1!.url}/readyz`)).status).toBe(503);

      await cluster.postgres.start();
      await vi.waitFor(async () => expect((await fetch(`${n1!.url}/readyz`)).status).toBe(200), { timeout: 20_000, interval: 200 });
      await loop.stop();
      // The provider reconnects by itself and sends what was not acknowledged.
      await vi.waitFor(() => expect(writer.isSaved()).toBe(true), { timeout: 30_000, interval: 100 });
      await vi.waitFor(() => expect(vectorOf(reader)).toBe(vectorOf(writer)), { timeout: 20_000, interval: 100 });
      const titles = await storedTitles(incident.id);
      const lost = [...ackedBefore, ...ackedDuring].filter((t) => !titles.has(t));
      expect(lost).toEqual([]);
      expect(titles).toEqual(new Set(loop.written.map((e) => e.title)));
      writer.destroy();
      reader.destroy();
    });
  }

  it('Redis killed and restarted under load: saving goes on, nothing is lost, the nodes converge', async () => {
    const [n1, n2] = cluster.nodes;
    // Both nodes serving again after the PostgreSQL stops above (the tests before waited for node 1 only).
    for (const n of [n1!, n2!]) await vi.waitFor(async () => expect((await fetch(`${n.url}/readyz`)).status).toBe(200), { timeout: 20_000, interval: 200 });
    const [a, b] = await Promise.all(['redis-a', 'redis-b'].map((name) => api(n1!.url, 'POST', '/api/users', ADMIN_TOKEN, { name, role: 'responder' })));
    const incident = await api(n1!.url, 'POST', '/api/incidents', a!.token, { title: 'Redis restart' });
    const x = open(n1!.url, incident.id, a!.token);
    const y = open(n2!.url, incident.id, b!.token);
    await Promise.all([synced(x), synced(y)]);
    const lx = writeLoop(x, 'on node1', 40);
    const ly = writeLoop(y, 'on node2', 40);
    await new Promise((r) => setTimeout(r, 500));
    await cluster.redis!.kill();
    const ackedAtKill = lx.acked().length;
    // Saving goes on without Redis: acknowledgements keep coming.
    await vi.waitFor(() => expect(lx.acked().length).toBeGreaterThan(ackedAtKill + 10), { timeout: 10_000 });
    // And the other node's copy follows by polling PostgreSQL.
    const seen = lx.acked().at(-1)!;
    await vi.waitFor(() => expect(listEntries(y.doc).map((e) => e.title)).toContain(seen), { timeout: 10_000 });
    await cluster.redis!.start();
    await new Promise((r) => setTimeout(r, 1500));
    await Promise.all([lx.stop(), ly.stop()]);
    await vi.waitFor(() => expect(x.isSaved() && y.isSaved()).toBe(true), { timeout: 20_000 });
    await vi.waitFor(() => expect(vectorOf(x)).toBe(vectorOf(y)), { timeout: 20_000 });
    const titles = await storedTitles(incident.id);
    expect([...lx.acked(), ...ly.acked()].filter((t) => !titles.has(t))).toEqual([]);
    expect(titles.size).toBe(lx.written.length + ly.written.length);
    x.destroy();
    y.destroy();
  });

  it('one client ID sent by two users to two nodes at the same moment: one owns it, the other is refused, nothing of hers is stored under it', async () => {
    const [n1, n2] = cluster.nodes;
    const [dana, mallory] = await Promise.all(['dana-id', 'mallory-id'].map((name) => api(n1!.url, 'POST', '/api/users', ADMIN_TOKEN, { name, role: 'responder' })));
    const incident = await api(n1!.url, 'POST', '/api/incidents', dana!.token, { title: 'Client IDs' });
    const shared = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    const docs = [new Y.Doc(), new Y.Doc()];
    for (const d of docs) d.clientID = shared;
    const d = open(n1!.url, incident.id, dana!.token, docs[0]);
    const m = open(n2!.url, incident.id, mallory!.token, docs[1]);
    await Promise.all([synced(d), synced(m)]);
    createEntry(d.doc, { kind: 'test', title: 'dana with the id', ranAt: new Date().toISOString() });
    createEntry(m.doc, { kind: 'test', title: 'mallory with the id', ranAt: new Date().toISOString() });
    // One of them is refused: her node's commit fails (the other node claimed the ID first) and closes
    // the incident's sockets there (1011: resend elsewhere); when she resends, the ID is someone else's (4403).
    await vi.waitFor(() => expect([...d.closes, ...m.closes].some((c) => c.code === CloseCode.internalError || c.code === CloseCode.forbidden)).toBe(true), { timeout: 20_000, interval: 100 });
    await new Promise((r) => setTimeout(r, 1000));
    const rows = await query<{ user_id: string; update: Buffer }>('SELECT user_id, "update" FROM incident_updates WHERE incident_id = $1', [incident.id]);
    const writers = new Set(rows.filter((r) => inspectUpdate(r.update).clients.has(shared)).map((r) => r.user_id));
    expect(writers.size).toBe(1);
    const owners = await query<{ user_id: string }>('SELECT user_id FROM incident_client_owners WHERE incident_id = $1 AND client_id = $2', [incident.id, shared]);
    expect(owners.map((o) => o.user_id)).toEqual([...writers]);
    // Only the owner's entry is stored under it.
    const winner = [...writers][0] === dana!.id ? 'dana with the id' : 'mallory with the id';
    const titles = await storedTitles(incident.id);
    expect([...titles]).toEqual([winner]);
    d.destroy();
    m.destroy();
  });
});
