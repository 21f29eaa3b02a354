/**
 * `GET /api/incidents/:id/authors`: who created each entry, when the server logged it, and who
 * changed it since — from the history, whatever the document claims, and the same after a restart.
 */
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Authorship } from '../../server/history/authorship.js';
import { EmbeddedIncidentLogs } from '../../server/storage/embedded/embedded-incident-log.js';
import * as Y from 'yjs';
import { createEntry, entriesOf, entryText, setVerdict, createHypothesis } from '../../shared/schema/doc.js';
import type { IncidentAuthors } from '../../shared/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';

let server: TestServer;
const clients: CollabClient[] = [];
const open = (incidentId: string, token: string, doc?: Y.Doc) => {
  const c = connect(server.wsUrl, incidentId, token, doc);
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

async function authors(incidentId: string, token: string, after?: number): Promise<IncidentAuthors> {
  const res = await server.api('GET', `/api/incidents/${incidentId}/authors${after === undefined ? '' : `?after=${after}`}`, { token });
  expect(res.status).toBe(200);
  return (await res.json()) as IncidentAuthors;
}

describe('entry authorship', () => {
  it('names the creator and everyone who changed an entry since, from the history', async () => {
    const alice = await server.createUser('responder', 'alice');
    const bob = await server.createUser('responder', 'bob');
    const viewer = await server.createUser('viewer', 'vera');
    const incident = await server.createIncident(alice.token);
    const a = open(incident.id, alice.token);
    const b = open(incident.id, bob.token);
    await Promise.all([synced(a), synced(b)]);

    const before = Date.now();
    const ping = createEntry(a.doc, { kind: 'test', title: 'ping db01 from app03', ranAt: '2026-03-04T06:20:00.000Z', command: 'ping -c 100 db01' });
    // A client that claims authorship in the document changes nothing.
    entriesOf(a.doc).get(ping)!.set('createdBy', bob.id);
    const reboot = createEntry(b.doc, { kind: 'action', title: 'rebooted ny-sw01', ranAt: '2026-03-04T06:25:00.000Z' });
    await Promise.all([a.saved(), b.saved()]);
    const first = await authors(incident.id, viewer.token);
    expect(first.entries[ping]).toMatchObject({ createdBy: { id: alice.id, name: 'alice' }, editors: [] });
    expect(first.entries[reboot]).toMatchObject({ createdBy: { id: bob.id, name: 'bob' }, editors: [] });
    const loggedAt = Date.parse(first.entries[ping]!.loggedAt);
    expect(loggedAt).toBeGreaterThanOrEqual(before);
    expect(loggedAt).toBeLessThanOrEqual(Date.now());

    // Bob types into Alice's entry, and deletes some of it; Alice's own later edit is not "someone else's".
    await synced(b);
    const observations = entryText(b.doc, ping, 'observations')!;
    observations.insert(0, '3 % loss, all in bursts');
    entryText(a.doc, ping, 'conclusion')!.insert(0, 'loss is on the path, not the host');
    await Promise.all([a.saved(), b.saved()]);
    const changed = await authors(incident.id, alice.token, first.seq);
    expect(Object.keys(changed.entries)).toEqual([ping]);
    expect(changed.entries[ping]!.editors).toEqual([{ id: bob.id, name: 'bob' }]);
    expect(Date.parse(changed.entries[ping]!.editedAt!)).toBeGreaterThan(loggedAt - 1);

    // Marking evidence is a change too; a deletion alone is attributed to whoever deleted.
    const hypothesis = createHypothesis(a.doc, 'switch stack bug');
    setVerdict(a.doc, reboot, hypothesis, 'supports');
    await a.saved();
    await synced(b);
    entryText(b.doc, ping, 'command')!.delete(0, 5);
    // A deletion adds nothing to the state vector, so "saved" cannot see it: wait for the history.
    let later: IncidentAuthors | undefined;
    await vi.waitFor(async () => {
      later = await authors(incident.id, alice.token, changed.seq);
      expect(Object.keys(later.entries).sort()).toEqual([ping, reboot].sort());
    });
    expect(later!.entries[reboot]!.editors).toEqual([{ id: alice.id, name: 'alice' }]);
    expect(later!.entries[ping]!.editors).toEqual([{ id: bob.id, name: 'bob' }]);
    expect((await authors(incident.id, alice.token, later!.seq)).entries).toEqual({});
  });

  it('attributes an entry written offline to its author, logged when it reached the server', async () => {
    const dana = await server.createUser('responder', 'dana');
    const incident = await server.createIncident(dana.token);
    const offline = new Y.Doc();
    const id = createEntry(offline, { kind: 'note', title: 'written on the train', ranAt: '2026-03-04T05:00:00.000Z' });
    const synchronisedAfter = Date.now();
    const d = open(incident.id, dana.token, offline);
    await synced(d);
    await d.saved();
    const answer = await authors(incident.id, dana.token);
    expect(answer.entries[id]!.createdBy.name).toBe('dana');
    expect(Date.parse(answer.entries[id]!.loggedAt)).toBeGreaterThanOrEqual(synchronisedAfter);
  });

  it('gives the same answer after a restart, from the log on disk', async () => {
    const erin = await server.createUser('responder', 'erin');
    const frank = await server.createUser('responder', 'frank');
    const incident = await server.createIncident(erin.token);
    const e = open(incident.id, erin.token);
    await synced(e);
    const id = createEntry(e.doc, { kind: 'test', title: 'mtr to 10.0.0.1', ranAt: '2026-03-04T06:40:00.000Z' });
    await e.saved();
    const f = open(incident.id, frank.token);
    await synced(f);
    entryText(f.doc, id, 'observations')!.insert(0, 'hop 4 drops');
    await f.saved();
    const live = await authors(incident.id, erin.token);

    const { dataDir } = server;
    for (const c of clients.splice(0)) c.destroy();
    await server.close();
    server = await startTestServer({ dataDir });
    expect(await authors(incident.id, erin.token)).toEqual(live);
  });

  it('hides a restricted incident’s authors from non-members, and checks `after`', async () => {
    const gina = await server.createUser('responder', 'gina');
    const outsider = await server.createUser('responder', 'hank');
    const incident = await server.createIncident(gina.token, { members: [] });
    expect((await server.api('GET', `/api/incidents/${incident.id}/authors`, { token: outsider.token })).status).toBe(404);
    const bad = await server.api('GET', `/api/incidents/${incident.id}/authors?after=-1`, { token: gina.token });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'after' });
  });
});

describe('authorship kept in memory', () => {
  it('keeps the incidents asked about most recently, and forgets the least recently asked about', () => {
    const authorship = new Authorship(2);
    const logs = new EmbeddedIncidentLogs(path.join(os.tmpdir(), 'bridgelog-authorship'), pino({ level: 'silent' }));
    const history = (id: string) => logs.of(id);
    const a = authorship.of('a', history('a'));
    const firstB = authorship.of('b', history('b'));
    expect(authorship.of('a', history('a'))).toBe(a); // a is now the most recent
    authorship.of('c', history('c')); // b goes
    expect(authorship.size).toBe(2);
    expect(authorship.of('a', history('a'))).toBe(a);
    expect(authorship.of('b', history('b'))).not.toBe(firstB); // read again from its log when next asked about
  });
});
