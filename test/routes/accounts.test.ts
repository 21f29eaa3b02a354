/** Accounts and access: bootstrap token, first-run setup, login sessions, roles, API tokens. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedUser } from '../../shared/api.js';
import { ADMIN_TOKEN, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const cookieOf = (res: Response) => res.headers.get('set-cookie')?.split(';')[0] ?? '';

describe('accounts', () => {
  it('makes the bootstrap token the API token of the admin user "admin"', async () => {
    const me = await server.api('GET', '/api/auth/me', { token: ADMIN_TOKEN });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ name: 'admin', role: 'admin' });
  });

  it('lets an admin create users, whose token works once shown and is never listed', async () => {
    const res = await server.api('POST', '/api/users', { token: ADMIN_TOKEN, body: { name: 'grace', role: 'responder' } });
    expect(res.status).toBe(201);
    const grace = (await res.json()) as CreatedUser;
    expect(grace).toMatchObject({ name: 'grace', role: 'responder', token: expect.stringMatching(/^bl_/) });
    expect(await (await server.api('GET', '/api/auth/me', { token: grace.token })).json()).toMatchObject({ id: grace.id });
    const list = await (await server.api('GET', '/api/users', { token: grace.token })).text();
    expect(list).toContain('grace');
    expect(list).not.toContain(grace.token);
    expect(list).not.toMatch(/hash/i);
  });

  it('refuses user creation to non-admins (403) and strangers (401)', async () => {
    const responder = await server.createUser('responder');
    expect((await server.api('POST', '/api/users', { token: responder.token, body: { name: 'x1', role: 'admin' } })).status).toBe(403);
    expect((await server.api('POST', '/api/users', { body: { name: 'x2', role: 'admin' } })).status).toBe(401);
    expect((await server.api('POST', '/api/users', { token: 'bl_nope', body: { name: 'x3', role: 'admin' } })).status).toBe(401);
  });

  it('names the faulty field on a 400, and refuses malformed JSON', async () => {
    const missing = await server.api('POST', '/api/users', { token: ADMIN_TOKEN, body: { name: 'heidi' } });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ field: 'role', error: expect.stringContaining('role') });
    const badRole = await server.api('POST', '/api/users', { token: ADMIN_TOKEN, body: { name: 'heidi', role: 'root' } });
    expect(await badRole.json()).toMatchObject({ field: 'role' });
    const malformed = await server.api('POST', '/api/users', { token: ADMIN_TOKEN, body: '{"name": "heidi",' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'malformed JSON body' });
    const duplicate = await server.api('POST', '/api/users', { token: ADMIN_TOKEN, body: { name: 'admin', role: 'viewer' } });
    expect(duplicate.status).toBe(409);
  });

  it('logs in with a password into an HttpOnly, SameSite session cookie, and logs out', async () => {
    await server.createUser('responder', 'ivan', 'correct horse battery');
    const wrong = await server.api('POST', '/api/auth/login', { body: { name: 'ivan', password: 'wrong password!' } });
    expect(wrong.status).toBe(401);
    const res = await server.api('POST', '/api/auth/login', { body: { name: 'ivan', password: 'correct horse battery' } });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const cookie = cookieOf(res);
    expect(await (await server.api('GET', '/api/auth/me', { headers: { cookie } })).json()).toMatchObject({ name: 'ivan' });
    expect((await server.api('POST', '/api/auth/logout', { headers: { cookie } })).status).toBe(204);
    expect((await server.api('GET', '/api/auth/me', { headers: { cookie } })).status).toBe(401);
  });

  it('rate limits login attempts (429) with a clear message', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 12; i++) last = await server.api('POST', '/api/auth/login', { body: { name: 'judy', password: `guess number ${i}` } });
    expect(last!.status).toBe(429);
    expect(await last!.json()).toMatchObject({ error: expect.stringContaining('too many') });
  });
});

describe('first-run setup without a bootstrap token', () => {
  it('prints a one-time setup URL that creates the first admin in the browser', async () => {
    const fresh = await startTestServer({ dataDir: tempDataDir(), env: { BRIDGELOG_BOOTSTRAP_TOKEN: '' } });
    try {
      expect(fresh.setupUrl).toMatch(/\/setup\?token=setup_/);
      const token = new URL(fresh.setupUrl!).searchParams.get('token')!;
      expect(await (await fresh.api('GET', '/api/auth/setup')).json()).toEqual({ needed: true });
      const bad = await fresh.api('POST', '/api/auth/setup', { body: { token: 'setup_wrong', name: 'root', password: 'long enough pass' } });
      expect(bad.status).toBe(403);
      const res = await fresh.api('POST', '/api/auth/setup', { body: { token, name: 'root', password: 'long enough pass' } });
      expect(res.status).toBe(201);
      expect(await (await fresh.api('GET', '/api/auth/me', { headers: { cookie: cookieOf(res) } })).json()).toMatchObject({ name: 'root', role: 'admin' });
      const again = await fresh.api('POST', '/api/auth/setup', { body: { token, name: 'root2', password: 'long enough pass' } });
      expect(again.status).toBe(403);
    } finally {
      await fresh.close();
    }
  });
});
