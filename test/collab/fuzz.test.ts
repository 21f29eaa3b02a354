/**
 * Seeded fuzzing of the collaboration socket: mutated and truncated real frames (sync steps,
 * updates, awareness) from a hostile responder, while an honest one keeps working on another
 * incident. The server must answer every frame (apply it, or close with a named code) and never
 * hang or crash. Issue 9's chaos suite scales this up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { refusalPace } from '../../server/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connect, synced } from '../helpers/collab-client.js';
import { seededRandom } from '../helpers/random.js';
import { mutate, seedFrames } from '../helpers/hostile-frames.js';

const FRAMES = 1500;
let server: TestServer;
beforeAll(async () => {
  // This test is about every frame being answered, not about pacing a user whose connections keep
  // being refused (test/collab/refusals.test.ts): an allowance it never uses up.
  server = await startTestServer({ config: { refusalPace: refusalPace(1_000_000) } });
});
afterAll(async () => {
  await server.close();
});

describe('fuzzing the collaboration socket', () => {
  it(`answers ${FRAMES} mutated frames without hanging, and honest work goes on`, async () => {
    const hostile = await server.createUser('responder', 'fuzzer');
    const honestUser = await server.createUser('responder', 'honest');
    const target = await server.createIncident(hostile.token, { title: 'fuzz target' });
    const other = await server.createIncident(honestUser.token, { title: 'real work' });
    const honest = connect(server.wsUrl, other.id, honestUser.token);
    await synced(honest);

    const rand = seededRandom(20261122);
    const seeds = seedFrames();
    let ws: WebSocket | undefined;
    let closedWith = new Map<number, number>();
    const open = () =>
      new Promise<WebSocket>((resolve, reject) => {
        const s = new WebSocket(`${server.wsUrl}/collab/${target.id}?token=${hostile.token}`);
        s.on('open', () => resolve(s));
        s.on('error', reject);
        s.on('close', (code) => closedWith.set(code, (closedWith.get(code) ?? 0) + 1));
      });
    for (let i = 0; i < FRAMES; i++) {
      if (!ws || ws.readyState !== WebSocket.OPEN) ws = await open();
      ws.send(mutate(seeds[Math.floor(rand() * seeds.length)]!, rand));
      if (i % 50 === 0) {
        createEntry(honest.doc, { kind: 'note', title: `honest ${i}`, ranAt: new Date().toISOString() });
        await honest.saved();
      }
      // Let the server answer before the next frame, so a hang would show up here.
      await new Promise((r) => setImmediate(r));
    }
    ws?.close();

    // Every refusal was one of the named codes; the server still serves everyone.
    for (const code of closedWith.keys()) expect([1000, 1005, 1009, 4400, 4403, 4413, 4429]).toContain(code);
    expect(closedWith.get(4400)).toBeGreaterThan(100);
    const health = await server.api('GET', '/healthz');
    expect(health.status).toBe(200);
    const check = connect(server.wsUrl, other.id, honestUser.token);
    await synced(check);
    expect(listEntries(check.doc)).toHaveLength(FRAMES / 50);
    expect(Y.encodeStateVector(check.doc)).toEqual(Y.encodeStateVector(honest.doc));
    const fuzzed = connect(server.wsUrl, target.id, hostile.token);
    await synced(fuzzed); // the fuzzed incident still loads and syncs
    check.destroy();
    fuzzed.destroy();
    honest.destroy();
    closedWith = new Map();
  });
});
