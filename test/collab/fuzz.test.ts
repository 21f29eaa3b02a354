/**
 * Seeded fuzzing of the collaboration socket: mutated and truncated real frames (sync steps,
 * updates, awareness) from a hostile responder, while an honest one keeps working on another
 * incident. The server must answer every frame (apply it, or close with a named code) and never
 * hang or crash. Issue 9's chaos suite scales this up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connect, synced } from '../helpers/collab-client.js';

const FRAMES = 1500;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedFrames(): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  createEntry(doc, { kind: 'test', title: 'seed', ranAt: '2026-03-04T06:00:00.000Z', command: 'ping -c 3 db01', observations: 'ok' });
  doc.getMap('meta').set('status', 'identified');
  const frame = (type: number, sub: number | null, payload: Uint8Array) => {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, type);
    if (sub !== null) encoding.writeVarUint(e, sub);
    encoding.writeVarUint8Array(e, payload);
    return encoding.toUint8Array(e);
  };
  const awareness = (() => {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint(e, 42);
    encoding.writeVarUint(e, 3);
    encoding.writeVarString(e, JSON.stringify({ user: { name: 'x', color: '#fff' }, cursor: null }));
    return encoding.toUint8Array(e);
  })();
  return [
    frame(0, 0, Y.encodeStateVector(doc)),
    frame(0, 1, Y.encodeStateAsUpdate(doc)),
    ...updates.map((u) => frame(0, 2, u)),
    frame(1, null, awareness),
  ];
}

function mutate(frame: Uint8Array, rand: () => number): Uint8Array {
  const out = Uint8Array.from(frame);
  switch (Math.floor(rand() * 4)) {
    case 0: // flip some bytes
      for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
      return out;
    case 1: // truncate
      return out.subarray(0, Math.floor(rand() * out.length));
    case 2: // huge varint somewhere (crafted length fields)
    {
      const at = Math.floor(rand() * out.length);
      return Uint8Array.from([...out.subarray(0, at), 0xff, 0xff, 0xff, 0xff, 0x0f, ...out.subarray(at + 1)]);
    }
    default: // random bytes after a valid prefix
      return Uint8Array.from([...out.subarray(0, 3), ...Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))]);
  }
}

describe('fuzzing the collaboration socket', () => {
  it(`answers ${FRAMES} mutated frames without hanging, and honest work goes on`, async () => {
    const hostile = await server.createUser('responder', 'fuzzer');
    const honestUser = await server.createUser('responder', 'honest');
    const target = await server.createIncident(hostile.token, { title: 'fuzz target' });
    const other = await server.createIncident(honestUser.token, { title: 'real work' });
    const honest = connect(server.wsUrl, other.id, honestUser.token);
    await synced(honest);

    const rand = prng(20261122);
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
    for (const code of closedWith.keys()) expect([1000, 1005, 1009, 4400, 4403, 4413]).toContain(code);
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
