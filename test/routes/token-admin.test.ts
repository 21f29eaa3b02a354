/**
 * Admins list everyone's personal API tokens (name, owner, created, last used; never the secret) and
 * revoke any of them: the token stops at once. Everyone else gets 403, and revoking one that does not
 * exist is a 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('admins and everyone\'s tokens', () => {
  it('lists every user\'s tokens without secrets, revokes one, and refuses non-admins', async () => {
    const kim = await server.createUser('responder', 'tok-kim');
    const created = (await (await server.api('POST', '/api/tokens', { token: kim.token, body: { name: 'nightly export' } })).json()) as { id: string; token: string };
    expect((await server.api('GET', '/api/auth/me', { token: created.token })).status).toBe(200);

    const all = (await (await server.api('GET', '/api/admin/tokens', { token: ADMIN_TOKEN })).json()) as Array<Record<string, unknown>>;
    const row = all.find((t) => t.id === created.id)!;
    expect(row).toMatchObject({ name: 'nightly export', userId: kim.id, userName: 'tok-kim' });
    expect(row.lastUsedAt).toEqual(expect.any(String));
    expect(JSON.stringify(all)).not.toContain(created.token);
    expect(Object.keys(row).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'userId', 'userName']);

    expect((await server.api('GET', '/api/admin/tokens', { token: kim.token })).status).toBe(403);
    expect((await server.api('DELETE', `/api/admin/tokens/${created.id}`, { token: kim.token })).status).toBe(403);
    // A user cannot revoke someone else's token through their own route either.
    const lee = await server.createUser('responder', 'tok-lee');
    expect((await server.api('DELETE', `/api/tokens/${created.id}`, { token: lee.token })).status).toBe(404);

    expect((await server.api('DELETE', `/api/admin/tokens/${created.id}`, { token: ADMIN_TOKEN })).status).toBe(204);
    expect((await server.api('GET', '/api/auth/me', { token: created.token })).status).toBe(401);
    expect((await server.api('DELETE', `/api/admin/tokens/${created.id}`, { token: ADMIN_TOKEN })).status).toBe(404);
    expect((await server.api('GET', '/api/auth/me', { token: kim.token })).status).toBe(200);
  });
});

describe('bridgelog login starts', () => {
  it('are limited per address (20 a minute), with a message and Retry-After', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 21; i++) last = await server.api('POST', '/api/auth/device');
    expect(last!.status).toBe(429);
    expect(((await last!.json()) as { error: string }).error).toContain('too many logins started');
    expect(last!.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
