/**
 * Refused connections: a flood becomes a log line per user per interval, each saying how many it
 * stands for; and past the allowance a user's new connections are held back, then refused with 429,
 * while everyone else connects as usual.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_REFUSAL_PACE, Refusals } from '../../server/collab/refusals.js';
import { refusalPace } from '../../server/config.js';
import { ADMIN_TOKEN, startTestServer } from '../helpers/server.js';
import { connect, synced } from '../helpers/collab-client.js';

describe('refused connections', () => {
  it('writes the first refusal of each user, then one line per interval with the count it stands for', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
    const log = pino({ level: 'info' }, sink);
    const refusals = new Refusals(DEFAULT_REFUSAL_PACE, 200);
    const fields = (user: string) => ({ user, incident: 'i1', code: 4400, reason: 'malformed message' });

    for (let i = 0; i < 1000; i++) refusals.refused(log, 'u_mallory', fields('mallory'));
    refusals.refused(log, 'u_kim', fields('kim'));
    await new Promise((r) => setTimeout(r, 250));
    refusals.refused(log, 'u_mallory', fields('mallory'));
    await new Promise((r) => setImmediate(r));

    expect(lines.map((l) => [l.user, l.refusedSinceLastLine])).toEqual([
      ['mallory', undefined],
      ['kim', undefined],
      ['mallory', 999],
    ]);
    expect(lines.every((l) => l.msg === 'closing connection on a refused message' && l.code === 4400)).toBe(true);
  });

  it('holds back, then refuses with 429, the new connections of a user whose connections keep being refused', async () => {
    // 1 refusal a second with a burst of 2: slow enough that a busy machine's own delays cannot pass
    // for the server's holding back, or hide it.
    const server = await startTestServer({ config: { refusalPace: refusalPace(1) } });
    try {
      const mallory = await server.createUser('responder', 'mallory');
      const kim = await server.createUser('responder', 'kim');
      const incident = await server.createIncident(kim.token, { title: 'paced' });
      const url = (token: string) => `${server.wsUrl}/collab/${incident.id}?token=${token}`;
      /** Opens a socket: how long the upgrade took, or the HTTP status and Retry-After it got instead. */
      const open = (token: string) =>
        new Promise<{ ws?: WebSocket; ms: number; status?: number; retryAfter?: string }>((resolve) => {
          const started = performance.now();
          const ws = new WebSocket(url(token));
          ws.on('open', () => resolve({ ws, ms: performance.now() - started }));
          ws.on('unexpected-response', (_req, res) => resolve({ ms: performance.now() - started, status: res.statusCode, retryAfter: res.headers['retry-after'] }));
          ws.on('error', () => undefined);
        });
      const refuse = (ws: WebSocket) =>
        new Promise<number>((resolve) => {
          ws.on('close', (c) => resolve(c));
          ws.send(Uint8Array.of(0, 9, 0)); // a sync message with an unknown step
        });

      // The burst and one more are admitted at once, and refused.
      for (let i = 0; i < 3; i++) {
        const { ws, ms } = await open(mallory.token);
        expect(ms).toBeLessThan(400);
        expect(await refuse(ws!)).toBe(4400);
      }
      // The allowance is used up: the next connection waits for it to refill (1 s a refusal, less
      // the time the three took)...
      const held = await open(mallory.token);
      expect(held.ws).toBeDefined();
      expect(held.ms).toBeGreaterThan(400);
      // ...while another user connects at once and works as usual.
      const honest = connect(server.wsUrl, incident.id, kim.token);
      const started = performance.now();
      await synced(honest);
      expect(performance.now() - started).toBeLessThan(400);
      honest.destroy();

      // Refused once more, then five at once: four are held back, the fifth gets 429 right away.
      expect(await refuse(held.ws!)).toBe(4400);
      const burst = await Promise.all(Array.from({ length: 5 }, () => open(mallory.token)));
      const tooMany = burst.filter((b) => b.status === 429);
      expect(tooMany).toHaveLength(1);
      expect(Number(tooMany[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(tooMany[0]!.ms).toBeLessThan(400);
      expect(burst.filter((b) => b.ws).length).toBe(4);
      for (const b of burst) b.ws?.close();
      const metrics = await (await server.api('GET', '/metrics', { token: ADMIN_TOKEN })).text();
      expect(metrics).toMatch(/reason="too many refusals"} [1-9]/);
    } finally {
      await server.close();
    }
  });
});
