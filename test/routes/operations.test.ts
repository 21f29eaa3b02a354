/** What operators see: readiness, metrics, the server clock, graceful shutdown, idle documents unloaded. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createEntry } from '../../shared/schema/doc.js';
import { estimateClockOffset, type ClockSample } from '../../shared/clock.js';
import { CloseCode } from '../../shared/protocol.js';
import { ADMIN_TOKEN, startTestServer } from '../helpers/server.js';
import { hasCheckpoint } from '../helpers/stored.js';
import { connect, synced } from '../helpers/collab-client.js';

describe('operations', () => {
  it('reports ready, and exposes connections, loaded docs, updates and fdatasync latency as Prometheus metrics', async () => {
    const server = await startTestServer();
    try {
      const health = await server.api('GET', '/healthz');
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });

      const user = await server.createUser('responder');
      const incident = await server.createIncident(user.token);
      const c = connect(server.wsUrl, incident.id, user.token);
      await synced(c);
      createEntry(c.doc, { kind: 'test', title: 'ping', ranAt: new Date().toISOString() });
      await c.saved();
      const text = await (await server.api('GET', '/metrics', { token: ADMIN_TOKEN })).text();
      expect(text).toMatch(/^bridgelog_connections 1$/m);
      expect(text).toMatch(/^bridgelog_loaded_docs 1$/m);
      expect(text).toMatch(/^bridgelog_updates_total [2-9]$/m);
      expect(text).toMatch(/^bridgelog_fdatasync_seconds_count [1-9]\d*$/m);
      c.destroy();
    } finally {
      await server.close();
    }
  });

  it('serves the web app’s pages with a strict CSP, and a missing asset as 404 rather than the page', async () => {
    const server = await startTestServer({ config: { clientDir: path.resolve('dist/client') } });
    try {
      const page = await server.api('GET', '/incidents/abc123');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await server.api('GET', '/assets/index-0ld.js')).status).toBe(404);
      expect((await server.api('GET', '/api/nothing-here')).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('gives clients the server clock, so a skewed laptop can still log "now" in UTC', async () => {
    const server = await startTestServer();
    try {
      const skew = -90_000; // this "laptop" is 90 s behind
      const samples: ClockSample[] = [];
      for (let i = 0; i < 5; i++) {
        const sentAt = Date.now() + skew;
        const { serverTime } = (await (await server.api('GET', '/api/clock')).json()) as { serverTime: number };
        samples.push({ sentAt, serverTime, receivedAt: Date.now() + skew });
      }
      const { offsetMs, roundTripMs } = estimateClockOffset(samples);
      expect(Math.abs(offsetMs - -skew)).toBeLessThanOrEqual(roundTripMs / 2 + 2);
    } finally {
      await server.close();
    }
  });

  it('on shutdown, closes sockets with 1001 "going away" and checkpoints; after idling, unloads a document', async () => {
    const server = await startTestServer({ config: { idleUnloadMs: 100 } });
    const user = await server.createUser('responder');
    const incident = await server.createIncident(user.token);
    const c = connect(server.wsUrl, incident.id, user.token);
    await synced(c);
    createEntry(c.doc, { kind: 'test', title: 'traceroute', ranAt: new Date().toISOString() });
    await c.saved();

    // Idle unload: leave, and the document leaves memory (checkpointed on the way out).
    c.provider.disconnect();
    await vi.waitFor(() => expect(server.rooms.loaded(incident.id)).toBeUndefined());
    await vi.waitFor(async () => expect(await hasCheckpoint(server, incident.id)).toBe(true));

    c.provider.connect();
    await synced(c);
    expect(server.rooms.loaded(incident.id)).toBeDefined();
    await server.close();
    await vi.waitFor(() => expect(c.closes.map((x) => x.code)).toContain(CloseCode.goingAway));
    c.destroy();
  });
});
