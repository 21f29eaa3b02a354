/** Two responders on one incident through the stock y-websocket provider: live, durable, attributed. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { createEntry, entryText, getEntry, listEntries } from '../../shared/schema/doc.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import type { HistoryRecord } from '../../shared/api.js';

let server: TestServer;
const clients: CollabClient[] = [];
const open = (incidentId: string, token: string) => {
  const c = connect(server.wsUrl, incidentId, token);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server.close();
});

describe('live collaboration', () => {
  it('shows one responder’s entry to another, and both converge on concurrent edits', async () => {
    const alice = await server.createUser('responder', 'alice');
    const bob = await server.createUser('responder', 'bob');
    const incident = await server.createIncident(alice.token);
    const a = open(incident.id, alice.token);
    const b = open(incident.id, bob.token);
    await Promise.all([synced(a), synced(b)]);

    // The server wrote the incident's meta when it was created.
    expect(a.doc.getMap('meta').get('title')).toBe('Packet loss on ny-sw01');

    const id = createEntry(a.doc, { kind: 'test', title: 'iperf3 to db01', ranAt: '2026-03-04T06:20:00.000Z', command: 'iperf3 -c db01' });
    await vi.waitFor(() => expect(getEntry(b.doc, id)?.command).toBe('iperf3 -c db01'));

    // Both type into the same field at once.
    entryText(a.doc, id, 'command')!.insert(0, 'sudo ');
    entryText(b.doc, id, 'command')!.insert(entryText(b.doc, id, 'command')!.length, ' -t 30');
    await Promise.all([a.saved(), b.saved()]);
    await vi.waitFor(() => expect(getEntry(a.doc, id)?.command).toBe(getEntry(b.doc, id)?.command));
    expect(getEntry(a.doc, id)?.command).toBe('sudo iperf3 -c db01 -t 30');
    expect(Y.encodeStateVector(a.doc)).toEqual(Y.encodeStateVector(b.doc));
  });

  it('says an edit is saved only once it is in the history, attributed to its author', async () => {
    const carol = await server.createUser('responder', 'carol');
    const incident = await server.createIncident(carol.token);
    const c = open(incident.id, carol.token);
    await synced(c);
    createEntry(c.doc, { kind: 'note', title: 'switch stack rebooted 06:02Z', ranAt: new Date().toISOString() });
    expect(c.isSaved()).toBe(false);
    await c.saved();

    const history = (await (await server.api('GET', `/api/incidents/${incident.id}/history`, { token: carol.token })).json()) as HistoryRecord[];
    expect(history.map((h) => h.seq)).toEqual(history.map((_, i) => i + 1));
    const last = history.at(-1)!;
    expect(last.userName).toBe('carol');
    expect(last.userId).toBe(carol.id);
    expect(last.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Math.abs(Date.parse(last.at) - Date.now())).toBeLessThan(10_000);
    expect(last.bytes).toBeGreaterThan(0);
    // The first record is the incident's creation, by its creator.
    expect(history[0]!.userName).toBe('carol');
  });

  it('lets a latecomer load everything, and survives a restart with nothing lost', async () => {
    const dave = await server.createUser('responder', 'dave');
    const incident = await server.createIncident(dave.token);
    const d = open(incident.id, dave.token);
    await synced(d);
    for (let i = 0; i < 50; i++) createEntry(d.doc, { kind: 'test', title: `ping ${i}`, ranAt: new Date(Date.UTC(2026, 2, 4, 6, i)).toISOString() });
    await d.saved();
    const before = listEntries(d.doc);
    d.destroy();

    const dataDir = server.dataDir;
    await server.close();
    server = await startTestServer({ dataDir });

    const late = open(incident.id, dave.token);
    await synced(late);
    expect(listEntries(late.doc)).toEqual(before);
    expect(listEntries(late.doc)).toHaveLength(50);
  });

  it('gives a team joining at once the whole log, and one joining right after a change that change too', async () => {
    const fay = await server.createUser('responder', 'fay');
    const incident = await server.createIncident(fay.token);
    const f = open(incident.id, fay.token);
    await synced(f);
    for (let i = 0; i < 20; i++) createEntry(f.doc, { kind: 'test', title: `mtr hop ${i}`, ranAt: new Date(Date.UTC(2026, 2, 4, 7, i)).toISOString() });
    await f.saved();

    // Fresh browsers have nothing: the server encodes the document once for all of them.
    const team = await Promise.all(Array.from({ length: 6 }, async (_, i) => open(incident.id, (await server.createUser('viewer', `paged-${i}`)).token)));
    await Promise.all(team.map(synced));
    for (const t of team) expect(listEntries(t.doc)).toEqual(listEntries(f.doc));

    // A change in the next moment, and someone else arrives: they get it, from the join or live.
    const added = createEntry(f.doc, { kind: 'note', title: 'carrier confirms fibre cut', ranAt: '2026-03-04T07:30:00.000Z' });
    await f.saved();
    const late = open(incident.id, (await server.createUser('viewer', 'paged-late')).token);
    await synced(late);
    expect(getEntry(late.doc, added)?.title).toBe('carrier confirms fibre cut');
    expect(listEntries(late.doc)).toHaveLength(21);
    await vi.waitFor(() => expect(team.every((t) => listEntries(t.doc).length === 21)).toBe(true));
  });

  it('keeps viewers read-only: their edits are refused with 4403 and reach no one', async () => {
    const erin = await server.createUser('responder', 'erin');
    const vic = await server.createUser('viewer', 'vic');
    const incident = await server.createIncident(erin.token);
    const writer = open(incident.id, erin.token);
    const viewer = open(incident.id, vic.token);
    await Promise.all([synced(writer), synced(viewer)]);

    // The viewer sees the writer's entries live.
    const id = createEntry(writer.doc, { kind: 'test', title: 'mtr to 10.1.1.1', ranAt: new Date().toISOString() });
    await vi.waitFor(() => expect(getEntry(viewer.doc, id)).toBeDefined());

    createEntry(viewer.doc, { kind: 'note', title: 'viewer was here', ranAt: new Date().toISOString() });
    await vi.waitFor(() => expect(viewer.closes.map((c) => c.code)).toContain(4403));
    const history = (await (await server.api('GET', `/api/incidents/${incident.id}/history`, { token: ADMIN_TOKEN })).json()) as HistoryRecord[];
    expect(history.every((h) => h.userName !== 'vic')).toBe(true);
    await writer.saved();
    expect(listEntries(writer.doc).map((e) => e.title)).toEqual(['mtr to 10.1.1.1']);
  });

  it('refuses an update written under another user’s client id (4403), leaving the document as it was', async () => {
    const frank = await server.createUser('responder', 'frank');
    const mallory = await server.createUser('responder', 'mallory');
    const incident = await server.createIncident(frank.token);
    const f = open(incident.id, frank.token);
    await synced(f);
    createEntry(f.doc, { kind: 'test', title: 'tcpdump on ny-sw01', ranAt: new Date().toISOString() });
    await f.saved();

    // Mallory forges an edit under Frank's client id.
    const forged = new Y.Doc();
    Y.applyUpdate(forged, Y.encodeStateAsUpdate(f.doc));
    forged.clientID = f.doc.clientID; // continues Frank's clock, as if it were him
    const m = open(incident.id, mallory.token);
    await synced(m);
    forged.getMap('meta').set('title', 'nothing to see here');
    Y.applyUpdate(m.doc, Y.encodeStateAsUpdate(forged, Y.encodeStateVector(m.doc)));
    await vi.waitFor(() => expect(m.closes.map((c) => c.code)).toContain(4403));

    const check = open(incident.id, frank.token);
    await synced(check);
    expect(check.doc.getMap('meta').get('title')).toBe('Packet loss on ny-sw01');
  });

  it('shows presence under the authenticated name, whatever name a client claims', async () => {
    const pat = await server.createUser('responder', 'pat');
    const quinn = await server.createUser('viewer', 'quinn');
    const incident = await server.createIncident(pat.token);
    const p = open(incident.id, pat.token);
    const q = open(incident.id, quinn.token);
    await Promise.all([synced(p), synced(q)]);
    p.provider.awareness.setLocalStateField('user', { name: 'the CEO', color: '#e11d48' });
    await vi.waitFor(() => {
      const seen = q.provider.awareness.getStates().get(p.doc.clientID) as { user?: { name: string; id: string; color: string } } | undefined;
      expect(seen?.user).toEqual({ name: 'pat', id: pat.id, color: '#e11d48' });
    });
    // Viewers are present too (read-only does not mean invisible).
    q.provider.awareness.setLocalStateField('user', { name: 'whoever' });
    await vi.waitFor(() => expect((p.provider.awareness.getStates().get(q.doc.clientID) as { user?: { name: string } })?.user?.name).toBe('quinn'));
    // Leaving removes the presence.
    q.provider.disconnect();
    await vi.waitFor(() => expect(p.provider.awareness.getStates().has(q.doc.clientID)).toBe(false));
  });
});
