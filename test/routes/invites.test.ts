/** Invite links: an admin makes one with a role; the invitee signs up once with it and is signed in; expired, used, revoked and bad input refused. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedInvite, Invite } from '../../shared/invites.js';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ADMIN_TOKEN, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const cookieOf = (res: Response) => res.headers.get('set-cookie')?.split(';')[0] ?? '';
const PASSWORD = 'a long enough password';

async function newInvite(body: Record<string, unknown> = { role: 'responder' }): Promise<CreatedInvite> {
  const res = await server.api('POST', '/api/invites', { token: ADMIN_TOKEN, body });
  expect(res.status).toBe(201);
  return (await res.json()) as CreatedInvite;
}
const accept = (token: string, name: string, password = PASSWORD) => server.api('POST', '/api/invites/accept', { body: { token, name, password } });

describe('invites', () => {
  it('signs the invitee in with the invite’s role, once; the admin sees who used it', async () => {
    const invite = await newInvite({ role: 'viewer', expiresInHours: 2 });
    expect(invite.token).toMatch(/^blinv_/);
    expect(invite.path).toBe(`/invite/${invite.token}`);
    expect(Date.parse(invite.expiresAt) - Date.parse(invite.createdAt)).toBe(2 * 3_600_000);

    const preview = await server.api('POST', '/api/invites/preview', { body: { token: invite.token } });
    expect(await preview.json()).toEqual({ role: 'viewer', expiresAt: invite.expiresAt });

    const res = await accept(invite.token, 'olga');
    expect(res.status).toBe(201);
    const me = await fetch(`${server.url}/api/auth/me`, { headers: { cookie: cookieOf(res) } });
    expect(await me.json()).toMatchObject({ name: 'olga', role: 'viewer' });

    const again = await accept(invite.token, 'olga2');
    expect(again.status).toBe(410);
    expect((await again.json()).error).toMatch(/used already/);
    const list = (await (await server.api('GET', '/api/invites', { token: ADMIN_TOKEN })).json()) as Invite[];
    const listed = list.find((i) => i.id === invite.id)!;
    expect(listed.usedBy).toBe(((await res.json()) as { id: string }).id);
    expect(listed.usedAt).toBeTruthy();
    expect(JSON.stringify(list)).not.toContain(invite.token);
  });

  it('gives one account when the same link is used twice at once', async () => {
    const invite = await newInvite();
    const results = await Promise.all([accept(invite.token, 'race1'), accept(invite.token, 'race2')]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 410]);
  });

  it('refuses an expired link with a clear message', async () => {
    const dataDir = tempDataDir();
    let s2 = await startTestServer({ dataDir });
    const invite = (await (await s2.api('POST', '/api/invites', { token: ADMIN_TOKEN, body: { role: 'responder', expiresInHours: 1 } })).json()) as CreatedInvite;
    await s2.close();
    // An hour is the shortest life a link can be given: move its expiry into the past where it is stored.
    const past = new Date(Date.now() - 1000).toISOString();
    if (s2.databaseUrl) {
      const client = new pg.Client(s2.databaseUrl);
      await client.connect();
      await client.query('UPDATE invites SET expires_at = $1 WHERE id = $2', [past, invite.id]);
      await client.end();
    } else {
      const file = path.join(dataDir, 'invites.json');
      const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { invites: Invite[] };
      data.invites.find((i) => i.id === invite.id)!.expiresAt = past;
      fs.writeFileSync(file, JSON.stringify(data));
    }
    s2 = await startTestServer({ dataDir });
    const res = await s2.api('POST', '/api/invites/accept', { body: { token: invite.token, name: 'late', password: PASSWORD } });
    expect(res.status).toBe(410);
    expect((await res.json()).error).toMatch(/expired/);
    const preview = await s2.api('POST', '/api/invites/preview', { body: { token: invite.token } });
    expect(preview.status).toBe(410);
    await s2.close();
  });

  it('keeps invites across a restart (durable), and a revoked link no longer works', async () => {
    const dataDir = tempDataDir();
    let s = await startTestServer({ dataDir });
    const kept = (await (await s.api('POST', '/api/invites', { token: ADMIN_TOKEN, body: { role: 'responder' } })).json()) as CreatedInvite;
    const revoked = (await (await s.api('POST', '/api/invites', { token: ADMIN_TOKEN, body: { role: 'admin' } })).json()) as CreatedInvite;
    expect((await s.api('DELETE', `/api/invites/${revoked.id}`, { token: ADMIN_TOKEN })).status).toBe(204);
    expect((await s.api('DELETE', `/api/invites/${revoked.id}`, { token: ADMIN_TOKEN })).status).toBe(404);
    await s.close();
    s = await startTestServer({ dataDir });
    const bad = await s.api('POST', '/api/invites/accept', { body: { token: revoked.token, name: 'mallory', password: PASSWORD } });
    expect(bad.status).toBe(404);
    expect((await bad.json()).error).toMatch(/not valid/);
    const ok = await s.api('POST', '/api/invites/accept', { body: { token: kept.token, name: 'kept', password: PASSWORD } });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ name: 'kept', role: 'responder' });
    await s.close();
  });

  it('lets only admins make, list and revoke invites', async () => {
    const responder = await server.createUser('responder');
    expect((await server.api('POST', '/api/invites', { token: responder.token, body: { role: 'admin' } })).status).toBe(403);
    expect((await server.api('GET', '/api/invites', { token: responder.token })).status).toBe(403);
    expect((await server.api('DELETE', '/api/invites/x', { token: responder.token })).status).toBe(403);
    expect((await server.api('POST', '/api/invites', { body: { role: 'admin' } })).status).toBe(401);
  });

  it('names the field at fault, and does not spend the link on a refused sign-up', async () => {
    const badRole = await server.api('POST', '/api/invites', { token: ADMIN_TOKEN, body: { role: 'root' } });
    expect(badRole.status).toBe(400);
    expect(await badRole.json()).toMatchObject({ field: 'role' });
    const tooLong = await server.api('POST', '/api/invites', { token: ADMIN_TOKEN, body: { role: 'viewer', expiresInHours: 24 * 31 } });
    expect(await tooLong.json()).toMatchObject({ field: 'expiresInHours' });

    const invite = await newInvite();
    const shortPassword = await accept(invite.token, 'pat', 'short');
    expect(shortPassword.status).toBe(400);
    expect(await shortPassword.json()).toMatchObject({ field: 'password' });
    const badName = await accept(invite.token, 'has space');
    expect(await badName.json()).toMatchObject({ field: 'name' });
    const taken = await accept(invite.token, 'admin');
    expect(taken.status).toBe(409);
    expect(await taken.json()).toMatchObject({ field: 'name' });
    const noToken = await server.api('POST', '/api/invites/preview', { body: {} });
    expect(noToken.status).toBe(400);
    const unknown = await server.api('POST', '/api/invites/preview', { body: { token: 'blinv_nope' } });
    expect(unknown.status).toBe(404);
    // After all those refusals the link still works.
    expect((await accept(invite.token, 'pat')).status).toBe(201);
  });
});
