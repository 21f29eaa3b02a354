/** A test server with notifications on fast settings, and the calls the notification tests make. */
import { expect } from 'vitest';
import type { CreatedDestination, Delivery, Destination } from '../../shared/notifications.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

/** Fast enough for tests, slow enough to see each step: a digest "minute" is one second. */
export const FAST_NOTIFY: Record<string, string> = {
  NOTIFY_ALLOW_PRIVATE: '1',
  NOTIFY_DERIVE_DELAY: '50ms',
  NOTIFY_POLL: '50ms',
  NOTIFY_SWEEP: '300ms',
  NOTIFY_RETRY_BASE: '100ms',
  NOTIFY_RETRY_MAX: '400ms',
  NOTIFY_CONCLUSION_QUIET: '600ms',
  NOTIFY_CONNECT_TIMEOUT: '1s',
  NOTIFY_RESPONSE_TIMEOUT: '1s',
  NOTIFY_DIGEST_MINUTE: '1s',
  PUBLIC_URL: 'https://bridgelog.example.com',
};

export interface NotifyServer extends TestServer {
  addDestination: (body: Record<string, unknown>) => Promise<CreatedDestination>;
  deliveries: (destinationId: string) => Promise<Delivery[]>;
  destination: (id: string) => Promise<Destination>;
  patch: (path: string, body: unknown, token?: string) => Promise<Response>;
}

export async function startNotifyServer(env: Record<string, string> = {}, dataDir?: string): Promise<NotifyServer> {
  const server = await startTestServer({ env: { ...FAST_NOTIFY, ...env }, ...(dataDir ? { dataDir } : {}) });
  return {
    ...server,
    async addDestination(body) {
      const res = await server.api('POST', '/api/notifications/destinations', { token: ADMIN_TOKEN, body });
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()) as CreatedDestination;
    },
    async deliveries(id) {
      const res = await server.api('GET', `/api/notifications/deliveries?destination=${id}`, { token: ADMIN_TOKEN });
      expect(res.status).toBe(200);
      return (await res.json()) as Delivery[];
    },
    async destination(id) {
      const res = await server.api('GET', `/api/notifications/destinations/${id}`, { token: ADMIN_TOKEN });
      expect(res.status).toBe(200);
      return (await res.json()) as Destination;
    },
    patch: (path, body, token = ADMIN_TOKEN) => server.api('PATCH', path, { token, body }),
  };
}
