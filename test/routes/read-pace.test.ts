/**
 * Reads that grow with an incident (exports, history, replays) get each user a share of the server's
 * time: a viewer exporting in a loop is held back or answered 429 with Retry-After, and another
 * user's reads and saves go on meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { connect, synced } from '../helpers/collab-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  // A two-hundredth of a core after 10 ms: so small that two or three exports of a mid-sized incident use it up.
  server = await startTestServer({ config: { timeShare: { share: 0.005, burstMs: 10 } } });
});
afterAll(async () => {
  await server.close();
});

describe('read pace', () => {
  it('refuses (429, Retry-After) a user exporting in a loop past their share; others are not affected', async () => {
    const author = await server.createUser('responder', 'author');
    const looper = await server.createUser('viewer', 'looper');
    const other = await server.createUser('viewer', 'other');
    const incident = await server.createIncident(author.token);
    // 2,000 entries, written by the server on the author's behalf (their frames would be paced too).
    const room = await server.rooms.open(incident.id);
    await room.applyServerChange(author.id, (doc) => {
      for (let i = 0; i < 2000; i++) createEntry(doc, { kind: 'test', title: `ping ${i}`, ranAt: new Date().toISOString(), observations: 'x'.repeat(200) });
    });

    const statuses: number[] = [];
    let retryAfter: string | null = null;
    const started = performance.now();
    while (performance.now() - started < 8000 && !statuses.includes(429)) {
      const res = await server.api('GET', `/api/incidents/${incident.id}/export?format=json`, { token: looper.token });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
      else await res.arrayBuffer();
    }
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // Someone else exports (answered, not refused), and the author still saves.
    expect((await server.api('GET', `/api/incidents/${incident.id}/export?format=json`, { token: other.token })).status).toBe(200);
    // The looper's own live document is not held back by their reads: frames have a share of their
    // own (on the shared one, the page's reads on opening a 5,000-entry incident held its sync for 40 s).
    const live = connect(server.wsUrl, incident.id, looper.token);
    await synced(live);
    expect(listEntries(live.doc)).toHaveLength(2000);
    expect((await server.api('GET', `/api/incidents/${incident.id}/export?format=json`, { token: looper.token })).status).toBe(429);
    live.destroy();
    // And a responder on another incident saves as usual (syncing this big one would be charged too).
    const typist = await server.createUser('responder', 'typist');
    const small = await server.createIncident(typist.token);
    const writer = connect(server.wsUrl, small.id, typist.token);
    await synced(writer);
    createEntry(writer.doc, { kind: 'note', title: 'still saving', ranAt: new Date().toISOString() });
    await writer.saved();
    expect(listEntries(writer.doc).map((e) => e.title)).toEqual(['still saving']);
    writer.destroy();
  });
});
