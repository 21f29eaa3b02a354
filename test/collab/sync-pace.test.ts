/**
 * Sync requests are answered within each user's share of the server's time (sync-pace.ts): past it
 * they wait, and a connection piling them up is closed with 4429. Here the share is made tiny, so
 * that any answer at all uses it up: what a flood against a very large incident would do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { CloseCode } from '../../shared/protocol.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';

let server: TestServer;
let writer: CollabClient;
let incidentId: string;
let viewerToken: string;

// One millisecond of encoding is paid back after a second; no burst.
const pace = { share: 0.001, burstMs: 0, maxWaiting: 2 };

beforeAll(async () => {
  server = await startTestServer({ config: { syncPace: pace } });
  const responder = await server.createUser('responder', 'writer');
  incidentId = (await server.createIncident(responder.token)).id;
  viewerToken = (await server.createUser('viewer', 'asks-too-often')).token;
  writer = connect(server.wsUrl, incidentId, responder.token);
  await synced(writer);
  for (let i = 0; i < 30; i++) createEntry(writer.doc, { kind: 'test', title: `traceroute ${i}`, ranAt: '2026-03-04T06:00:00.000Z' });
  await writer.saved();
});
afterAll(async () => {
  writer.destroy();
  await server.close();
});

/** "Send me everything you have from a client I made up": an answer the server must encode afresh each time. */
const syncRequest = (() => {
  const sv = Y.encodeStateVector(new Map([[4242, 1]]) as unknown as Y.Doc);
  return Uint8Array.from([0, 0, sv.length, ...sv]);
})();

/** Sends `count` sync requests at once; resolves with when each answer came and how the socket closed. */
function flood(count: number, closeAfterAnswers = Infinity) {
  return new Promise<{ answeredAt: number[]; code: number; reason: string }>((resolve) => {
    const ws = new WebSocket(`${server.wsUrl}/collab/${incidentId}?token=${viewerToken}`);
    const answeredAt: number[] = [];
    let sentAt = 0;
    ws.on('open', () => {
      sentAt = performance.now();
      for (let i = 0; i < count; i++) ws.send(syncRequest);
    });
    ws.on('message', (data: Buffer) => {
      if (data[0] !== 0 || data[1] !== 1) return; // only sync step 2: the answers
      answeredAt.push(performance.now() - sentAt);
      if (answeredAt.length >= closeAfterAnswers) ws.close();
    });
    ws.on('close', (code, reason) => resolve({ answeredAt, code, reason: reason.toString() }));
  });
}

describe('sync requests within a share of the server', () => {
  it('answers the first at once, parks the next ones, and closes a connection that piles up more with 4429', async () => {
    const result = await flood(10);
    expect(result.code).toBe(CloseCode.tooManyRequests);
    expect(result.reason).toBe('too many sync requests');
    // One answered; two parked (maxWaiting) and dropped with the connection; the fourth closed it.
    expect(result.answeredAt).toHaveLength(1);

    // Others are not held up by it: another user's client syncs and sees everything.
    const other = connect(server.wsUrl, incidentId, (await server.createUser('viewer', 'bystander')).token);
    await synced(other);
    expect(listEntries(other.doc)).toHaveLength(30);
    other.destroy();

    const text = await (await server.api('GET', '/metrics', { token: ADMIN_TOKEN })).text();
    expect(text).toMatch(/bridgelog_rejected_messages_total\{reason="too many sync requests"\} [1-9]/);
  });

  it('answers a parked request once the allowance has refilled, on the same connection', async () => {
    // Any answer costs at least tens of microseconds to encode: tens of milliseconds of allowance here.
    const result = await flood(2, 2);
    expect(result.answeredAt).toHaveLength(2);
    expect(result.answeredAt[1]! - result.answeredAt[0]!).toBeGreaterThan(10);
    expect(result.code).toBe(1005); // closed by us after the answers, not by the server
  }, 60_000);
});
