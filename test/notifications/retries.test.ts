/**
 * Receivers that fail (#20): 500s, 429 with Retry-After, answers that never come, connections
 * closed — each attempt in the delivery log with its status code, error and duration; the same
 * message id on every attempt; given up after NOTIFY_GIVE_UP_AFTER, shown as failed, and sent when an
 * admin retries it. A dead receiver does not slow logging.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEntry } from '../../shared/schema/doc.js';
import { backoffMs } from '../../server/notifications/dispatcher.js';
import { retryAfterMs } from '../../server/notifications/send.js';
import { connect, synced } from '../helpers/collab-client.js';
import { ADMIN_TOKEN } from '../helpers/server.js';
import { startReceiver, type Receiver } from './receivers.js';
import { startNotifyServer, type NotifyServer } from './setup.js';

let server: NotifyServer;
const receivers: Receiver[] = [];
beforeAll(async () => {
  server = await startNotifyServer({ NOTIFY_GIVE_UP_AFTER: '3s' });
});
afterAll(async () => {
  await server?.close();
  for (const r of receivers) await r.close();
});

async function destinationFor(answer: Parameters<typeof startReceiver>[0]) {
  const r = await startReceiver(answer);
  receivers.push(r);
  const d = await server.addDestination({ name: 'flaky', kind: 'webhook', url: r.url, events: ['incident.declared'] });
  return { r, d };
}

const single = async (destinationId: string) => (await server.deliveries(destinationId))[0];

describe('retries', () => {
  it('tries again after 500s with backoff, under the same webhook-id, and logs each attempt', async () => {
    const { r, d } = await destinationFor((n) => (n <= 2 ? { status: 500, body: 'x'.repeat(5000) } : { status: 200 }));
    await server.createIncident(ADMIN_TOKEN, { title: 'flaky receiver' });
    await expect.poll(async () => (await single(d.id))?.status).toBe('delivered');
    expect(r.received).toHaveLength(3);
    expect(new Set(r.received.map((x) => x.headers['webhook-id'])).size).toBe(1);
    // The backoff grows: the second wait is longer than half the first's ceiling doubled.
    const [a, b, c] = r.received.map((x) => x.at);
    expect(b! - a!).toBeGreaterThanOrEqual(40);
    expect(c! - b!).toBeGreaterThanOrEqual(90);
    const delivery = (await single(d.id))!;
    expect(delivery.attempts).toBe(3);
    expect(delivery.log.map((l) => l.statusCode)).toEqual([200, 500, 500]);
    expect(delivery.log[1]).toMatchObject({ ok: false, error: 'HTTP 500' });
    // Only a short excerpt of what the receiver said is kept.
    expect(delivery.log[1]!.excerpt).toBe('x'.repeat(200));
    expect(delivery.log.every((l) => l.durationMs >= 0 && l.durationMs < 1000)).toBe(true);
  });

  it('waits as long as a 429’s Retry-After says', async () => {
    const { r, d } = await destinationFor((n) => (n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 }));
    await server.createIncident(ADMIN_TOKEN, { title: 'rate limited' });
    await expect.poll(async () => (await single(d.id))?.status, { timeout: 10_000 }).toBe('delivered');
    expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(1900);
    expect((await single(d.id))!.log[1]).toMatchObject({ statusCode: 429, error: 'HTTP 429' });
  });

  it('gives up on an answer that does not come within the response timeout, and tries again', async () => {
    const { r, d } = await destinationFor((n) => (n === 1 ? 'slow' : { status: 200 }));
    await server.createIncident(ADMIN_TOKEN, { title: 'slow receiver' });
    await expect.poll(async () => (await single(d.id))?.status, { timeout: 10_000 }).toBe('delivered');
    const log = (await single(d.id))!.log;
    expect(log[1]!.error).toBe('no answer within 1000 ms');
    expect(log[1]!.durationMs).toBeGreaterThanOrEqual(950);
    expect(r.received).toHaveLength(2);
  });

  it('takes a closed connection as a failed attempt', async () => {
    const { d } = await destinationFor((n) => (n === 1 ? 'close' : { status: 200 }));
    await server.createIncident(ADMIN_TOKEN, { title: 'hung up' });
    await expect.poll(async () => (await single(d.id))?.status).toBe('delivered');
    expect((await single(d.id))!.log[1]!.error).toMatch(/ECONNRESET|socket hang up/);
  });

  it('fails at once where trying again cannot help (404), and says so', async () => {
    const { r, d } = await destinationFor(() => ({ status: 404, body: 'no_service' }));
    await server.createIncident(ADMIN_TOKEN, { title: 'revoked webhook' });
    await expect.poll(async () => (await single(d.id))?.status).toBe('failed');
    expect(await single(d.id)).toMatchObject({ attempts: 1, lastError: 'HTTP 404', log: [{ statusCode: 404, excerpt: 'no_service' }] });
    expect(r.received).toHaveLength(1);
  });

  it('never follows a redirect', async () => {
    const target = await startReceiver();
    receivers.push(target);
    const { d } = await destinationFor(() => ({ status: 307, headers: { location: `${target.url}/elsewhere` } }));
    await server.createIncident(ADMIN_TOKEN, { title: 'redirected' });
    await expect.poll(async () => (await single(d.id))?.status).toBe('failed');
    expect((await single(d.id))!.lastError).toMatch(/HTTP 307 \(redirect to .* not followed\)/);
    expect(target.received).toEqual([]);
  });

  it('marks a message failed after NOTIFY_GIVE_UP_AFTER, and an admin’s retry sends it', async () => {
    const { r, d } = await destinationFor(() => ({ status: 503 }));
    await server.createIncident(ADMIN_TOKEN, { title: 'receiver down' });
    await expect.poll(async () => (await single(d.id))?.status, { timeout: 10_000 }).toBe('failed');
    const failed = (await single(d.id))!;
    expect(failed.lastError).toMatch(/^gave up after \d+ attempts over \d s: HTTP 503$/);
    expect(failed.nextAttemptAt).toBeNull();
    expect((await server.destination(d.id)).counts).toMatchObject({ failed: 1, delivered: 0 });

    const viewer = await server.createUser('viewer');
    expect((await server.api('POST', `/api/notifications/deliveries/${failed.id}/retry`, { token: viewer.token })).status).toBe(403);
    expect((await server.api('POST', '/api/notifications/deliveries/nope/retry', { token: ADMIN_TOKEN })).status).toBe(404);
    r.answer = () => ({ status: 200 });
    const retried = await server.api('POST', `/api/notifications/deliveries/${failed.id}/retry`, { token: ADMIN_TOKEN });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ id: failed.id, status: 'pending' });
    await expect.poll(async () => (await single(d.id))?.status).toBe('delivered');
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set([failed.id]));
  });
});

describe('off the hot path', () => {
  it('keeps saving at speed while every destination hangs', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await startReceiver(() => 'slow');
      receivers.push(r);
      await server.addDestination({ name: `dead ${i}`, kind: 'webhook', url: r.url, events: ['tests.digest', 'incident.updated', 'incident.declared'], digestMinutes: 1 });
    }
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'busy incident' });
    const c = connect(server.wsUrl, incident.id, ADMIN_TOKEN);
    try {
      await synced(c);
      const times: number[] = [];
      for (let i = 0; i < 40; i++) {
        const started = performance.now();
        createEntry(c.doc, { kind: 'test', title: `test ${i}`, ranAt: new Date().toISOString() });
        await c.saved();
        times.push(performance.now() - started);
      }
      times.sort((x, y) => x - y);
      expect(times[Math.floor(times.length * 0.95)]).toBeLessThan(250);
    } finally {
      c.destroy();
    }
  });
});

describe('the timing rules', () => {
  it('backs off exponentially with full jitter, up to a ceiling', () => {
    expect(backoffMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffMs(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffMs(20, 1000, 60_000, () => 1)).toBe(60_000);
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('30')).toBe(30_000);
    expect(retryAfterMs(new Date(Date.parse('2030-01-01T00:01:00Z')).toUTCString(), Date.parse('2030-01-01T00:00:00Z'))).toBe(60_000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
