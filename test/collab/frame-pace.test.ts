/**
 * Each user's frames get a share of the server's time: a member who sends costly updates back to back
 * is slowed to their share, and another member's saves go on meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { encodeUpdate } from '../../server/collab/protocol.js';
import { createEntry } from '../../shared/schema/doc.js';
import { connect, synced } from '../helpers/collab-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  // A twentieth of a core after 50 ms: small, so a few costly updates show the pace.
  server = await startTestServer({ config: { timeShare: { share: 0.05, burstMs: 50 } } });
});
afterAll(async () => {
  await server.close();
});

/** An update of `entries` new entries: costly to decode and apply (8 nested types each). */
function bulk(entries: number): Uint8Array {
  const doc = new Y.Doc();
  for (let i = 0; i < entries; i++) createEntry(doc, { kind: 'note', title: `bulk ${i}`, ranAt: '2026-12-01T00:00:00.000Z' });
  return encodeUpdate(Y.encodeStateAsUpdate(doc));
}

describe('frame pace', () => {
  it('slows a user who sends costly updates back to back, and not anyone else', async () => {
    const heavy = await server.createUser('responder', 'bulk-sender');
    const light = await server.createUser('responder', 'typist');
    const incident = await server.createIncident(light.token);
    const typist = connect(server.wsUrl, incident.id, light.token);
    await synced(typist);

    const ws = new WebSocket(`${server.wsUrl}/collab/${incident.id}?token=${heavy.token}`);
    await new Promise((resolve) => ws.on('open', resolve));
    const started = performance.now();
    for (let i = 0; i < 40; i++) ws.send(bulk(200));

    // Meanwhile the typist saves as usual.
    const saves: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      createEntry(typist.doc, { kind: 'test', title: `ping ${i}`, ranAt: new Date().toISOString() });
      await typist.saved();
      saves.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - started) / 1000;
    const history = (await (await server.api('GET', `/api/incidents/${incident.id}/history`, { token: light.token })).json()) as Array<{ userName: string }>;
    const handled = history.filter((h) => h.userName === 'bulk-sender').length;
    // Each update took some milliseconds of the server's time; at a twentieth of a core, only a few of
    // the 40 were handled in these seconds (unpaced, all of them were, within the first second).
    expect(handled).toBeGreaterThan(0);
    expect(handled).toBeLessThan(20);
    expect(Math.max(...saves)).toBeLessThan(1000);
    console.log(`frame pace: ${handled} of 40 bulk updates handled in ${seconds.toFixed(1)} s; typist's saves ${saves.map((s) => s.toFixed(0)).join(', ')} ms`);
    ws.terminate();
    typist.destroy();
  });
});
