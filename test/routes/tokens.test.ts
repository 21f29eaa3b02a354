/**
 * Personal API tokens (each user lists, creates and revokes their own) and users managed by admins
 * (role changes, removal), including the data of servers from before tokens were their own records.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiToken, CreatedApiToken } from '../../shared/api.js';
import { hashToken } from '../../server/auth/secrets.js';
import { ADMIN_TOKEN, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';
import { inPostgres } from '../helpers/stored.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const me = (token: string) => server.api('GET', '/api/auth/me', { token });

describe('personal API tokens', () => {
  it('are listed by name with when they were created and last used, never the secret', async () => {
    const user = await server.createUser('responder', 'tokens1');
    const res = await server.api('POST', '/api/tokens', { token: user.token, body: { name: 'ci runner' } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as CreatedApiToken;
    expect(created).toMatchObject({ name: 'ci runner', token: expect.stringMatching(/^bl_/), createdAt: expect.any(String) });
    expect((await me(created.token)).status).toBe(200);

    const listRes = await server.api('GET', '/api/tokens', { token: user.token });
    const text = await listRes.text();
    expect(text).not.toContain(created.token);
    expect(text).not.toMatch(/hash/i);
    const list = JSON.parse(text) as ApiToken[];
    expect(list.map((t) => t.name).sort()).toEqual(['ci runner', 'created with the account']);
    expect(list.find((t) => t.id === created.id)?.lastUsedAt).toEqual(expect.any(String));
  });

  it('can be revoked by their owner only; a revoked token is refused at once', async () => {
    const owner = await server.createUser('responder', 'tokens2');
    const stranger = await server.createUser('responder', 'tokens3');
    const created = (await (await server.api('POST', '/api/tokens', { token: owner.token, body: { name: 'old laptop' } })).json()) as CreatedApiToken;
    expect((await server.api('DELETE', `/api/tokens/${created.id}`, { token: stranger.token })).status).toBe(404);
    expect((await me(created.token)).status).toBe(200);
    expect((await server.api('DELETE', `/api/tokens/${created.id}`, { token: owner.token })).status).toBe(204);
    expect((await me(created.token)).status).toBe(401);
    expect((await me(owner.token)).status).toBe(200);
  });

  it('refuses a token without a name with a clear message', async () => {
    const user = await server.createUser('viewer', 'tokens4');
    const res = await server.api('POST', '/api/tokens', { token: user.token, body: { name: '  ' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'name' });
  });
});

describe('users managed by admins', () => {
  it('changes roles, and never leaves the server without an admin', async () => {
    const user = await server.createUser('viewer', 'promoted');
    const res = await server.api('PATCH', `/api/users/${user.id}`, { token: ADMIN_TOKEN, body: { role: 'responder' } });
    expect(await res.json()).toMatchObject({ role: 'responder' });
    expect((await server.api('POST', '/api/incidents', { token: user.token, body: { title: 'now I can' } })).status).toBe(201);
    expect((await server.api('PATCH', `/api/users/${user.id}`, { token: user.token, body: { role: 'admin' } })).status).toBe(403);

    const admins = (await (await server.api('GET', '/api/users', { token: ADMIN_TOKEN })).json()) as Array<{ id: string; name: string }>;
    const admin = admins.find((u) => u.name === 'admin')!;
    const last = await server.api('PATCH', `/api/users/${admin.id}`, { token: ADMIN_TOKEN, body: { role: 'viewer' } });
    expect(last.status).toBe(409);
    expect(((await last.json()) as { error: string }).error).toMatch(/last admin/);
    expect((await server.api('DELETE', `/api/users/${admin.id}`, { token: ADMIN_TOKEN })).status).toBe(409);
  });

  it.skipIf(inPostgres)('keeps working with a data directory written before tokens were their own records', async () => {
    const dataDir = tempDataDir();
    const legacyToken = 'bl_legacy-token-from-an-older-server';
    const createdAt = '2026-11-01T00:00:00.000Z';
    fs.writeFileSync(path.join(dataDir, 'bridgelog.json'), JSON.stringify({
      version: 1,
      users: [{ id: 'u-old', name: 'veteran', role: 'admin', tokenHash: hashToken(legacyToken), createdAt }],
      sessions: [],
      incidents: [],
    }));
    const old = await startTestServer({ dataDir });
    try {
      expect(await (await old.api('GET', '/api/auth/me', { token: legacyToken })).json()).toMatchObject({ name: 'veteran' });
      const tokens = (await (await old.api('GET', '/api/tokens', { token: legacyToken })).json()) as ApiToken[];
      expect(tokens).toEqual([expect.objectContaining({ name: 'created with the account', createdAt })]);
      // Moved, durably, on the first start: the users no longer carry it.
      const stored = JSON.parse(fs.readFileSync(path.join(dataDir, 'bridgelog.json'), 'utf8')) as { users: object[]; tokens: object[] };
      expect(stored.users[0]).not.toHaveProperty('tokenHash');
      expect(stored.tokens).toEqual([expect.objectContaining({ userId: 'u-old', tokenHash: hashToken(legacyToken) })]);
    } finally {
      await old.close();
    }
  });
});
