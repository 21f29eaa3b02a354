/** One user cannot hold an unbounded number of collaboration sockets; others are not affected. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode } from '../../shared/protocol.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { MAX_SOCKETS_PER_USER: '3' } });
});
afterAll(async () => {
  await server.close();
});

/** Opens a socket and resolves once the server has either kept it (200 ms) or closed it. */
function openSocket(incidentId: string, token: string): Promise<{ ws: WebSocket; closedWith?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.wsUrl}/collab/${incidentId}?token=${token}`);
    ws.on('close', (code) => resolve({ ws, closedWith: code }));
    ws.on('open', () => setTimeout(() => resolve({ ws }), 200));
  });
}

describe('sockets per user', () => {
  it('closes a user’s socket past MAX_SOCKETS_PER_USER with 4429, and frees the slot when one closes', async () => {
    const hog = await server.createUser('viewer', 'hog');
    const other = await server.createUser('viewer', 'other');
    const incident = await server.createIncident((await server.createUser('responder')).token);
    const kept = await Promise.all([1, 2, 3].map(() => openSocket(incident.id, hog.token)));
    expect(kept.map((k) => k.closedWith)).toEqual([undefined, undefined, undefined]);
    const fourth = await openSocket(incident.id, hog.token);
    expect(fourth.closedWith).toBe(CloseCode.tooManyRequests);
    expect((await openSocket(incident.id, other.token)).closedWith).toBeUndefined();

    kept[0]!.ws.close();
    await new Promise((r) => kept[0]!.ws.on('close', r));
    const again = await openSocket(incident.id, hog.token);
    expect(again.closedWith).toBeUndefined();
    for (const k of [...kept, again]) k.ws.terminate();
  });
});
