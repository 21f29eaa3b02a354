/** A real Bridgelog server on port 0 with its own data directory, and a small API client for it. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startServer, type RunningServer } from '../../server/app.js';
import { configFromEnv, type Config } from '../../server/config.js';
import type { CreatedUser, Role } from '../../shared/api.js';

export const ADMIN_TOKEN = 'bl_test-admin-token-0123456789';

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-test-'));
}

export interface TestServer extends RunningServer {
  dataDir: string;
  /** Where it keeps everything, under `npm run test:postgres`. */
  databaseUrl?: string;
  wsUrl: string;
  api: (method: string, urlPath: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }) => Promise<Response>;
  createUser: (role: Role, name?: string, password?: string) => Promise<CreatedUser>;
  createIncident: (token: string, body?: Record<string, unknown>) => Promise<{ id: string; title: string }>;
}

let userCounter = 0;

/**
 * With `npm run test:postgres` (vitest.postgres.config.ts) every test server keeps everything in
 * PostgreSQL: one database per data directory, so a test that restarts "the same server" finds its
 * data again.
 */
export async function databaseFor(dataDir: string): Promise<Record<string, string>> {
  const server = process.env.BRIDGELOG_TEST_POSTGRES;
  if (!server) return {};
  const name = `t_${createHash('sha256').update(dataDir).digest('hex').slice(0, 20)}`;
  const admin = new pg.Client(server);
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return { DATABASE_URL: server.replace(/\/postgres$/, `/${name}`), CLUSTER_POLL_MS: '200' };
}

export async function startTestServer(
  opts: { dataDir?: string; env?: Record<string, string>; config?: Partial<Config> } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const config = {
    ...configFromEnv({
      PORT: '0', DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN_TOKEN, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', SEEN_AFTER_MS: '0',
      ...(await databaseFor(dataDir)),
      ...opts.env,
    }),
    ...opts.config,
  };
  const server = await startServer(config);
  const api: TestServer['api'] = (method, urlPath, { token, body, headers } = {}) =>
    fetch(server.url + urlPath, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  return {
    ...server,
    dataDir,
    databaseUrl: config.databaseUrl,
    wsUrl: server.url.replace(/^http/, 'ws'),
    api,
    async createUser(role, name = `${role}${++userCounter}`, password) {
      const res = await api('POST', '/api/users', { token: ADMIN_TOKEN, body: { name, role, ...(password ? { password } : {}) } });
      if (res.status !== 201) throw new Error(`createUser: ${res.status} ${await res.text()}`);
      return (await res.json()) as CreatedUser;
    },
    async createIncident(token, body = {}) {
      const res = await api('POST', '/api/incidents', { token, body: { title: 'Packet loss on ny-sw01', ...body } });
      if (res.status !== 201) throw new Error(`createIncident: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; title: string };
    },
  };
}
