/**
 * What an IdP user may see follows their groups, checked at every access and reaching open sockets:
 * a restricted incident naming a group (`group:security-team`) exists for its members — incident,
 * list, search, collaboration socket, app events — and for nobody else; a sign-in with other groups
 * closes the sockets that lost sight (4404), and a sign-in in no allowed group ends the account's
 * sessions, tokens and sockets (4401). The IdP is a real HTTP server signing real ID tokens
 * (test/helpers/hostile-idp.ts, answering correctly here).
 */
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerEvent } from '../../shared/events.js';
import { CloseCode } from '../../shared/protocol.js';
import { idpSession, startHostileIdp, type HostileIdp } from '../helpers/hostile-idp.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let idp: HostileIdp;
let server: TestServer;

beforeAll(async () => {
  idp = await startHostileIdp();
  server = await startTestServer({
    env: { OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_RESPONDER_GROUPS: 'security-team,netops', OIDC_VIEWER_GROUPS: 'staff' },
  });
}, 30_000);

afterAll(async () => {
  await server?.close();
  await idp?.close();
});

/** A collaboration socket with a session cookie; resolves `closed` with the close code. */
function sessionSocket(incidentId: string, cookie: string) {
  const ws = new WebSocket(`${server.wsUrl}/collab/${incidentId}`, { headers: { cookie } });
  const opened = new Promise<void>((resolve) => ws.once('open', () => resolve()));
  const closed = new Promise<number>((resolve) => {
    ws.once('close', (code) => resolve(code));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  });
  ws.on('error', () => undefined);
  return { ws, opened, closed };
}

const get = (path: string, cookie: string) => server.api('GET', path, { headers: { cookie } });

describe('IdP groups and restricted incidents', () => {
  it('lets a group member see the incident everywhere, and a non-member nowhere (404)', async () => {
    const member = await idpSession(server.url, idp, 'sub-ana', ['security-team'], 'ana');
    const outsider = await idpSession(server.url, idp, 'sub-ben', ['netops'], 'ben');
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'Credential stuffing on vpn-gw', members: ['group:security-team'] });
    for (const path of [`/api/incidents/${incident.id}`, `/api/incidents/${incident.id}/history`, `/api/incidents/${incident.id}/state`, `/api/incidents/${incident.id}/export?format=md`]) {
      expect((await get(path, member)).status, path).toBe(200);
      expect((await get(path, outsider)).status, path).toBe(404);
    }
    const listed = async (cookie: string) => ((await (await get('/api/incidents', cookie)).json()) as Array<{ id: string }>).some((i) => i.id === incident.id);
    expect(await listed(member)).toBe(true);
    expect(await listed(outsider)).toBe(false);
    const found = async (cookie: string) => ((await (await get('/api/search?q=stuffing', cookie)).json()) as { results: Array<{ incidentId: string }> }).results.some((r) => r.incidentId === incident.id);
    await expect.poll(() => found(member), { timeout: 10_000 }).toBe(true);
    expect(await found(outsider)).toBe(false);
    const memberSocket = sessionSocket(incident.id, member);
    await memberSocket.opened;
    expect(await sessionSocket(incident.id, outsider).closed).toBe(CloseCode.notFound);
    memberSocket.ws.close();
  });

  it('announces a group-restricted incident to the group\'s members only (app events)', async () => {
    const member = await idpSession(server.url, idp, 'sub-cat', ['security-team'], 'cat');
    const outsider = await idpSession(server.url, idp, 'sub-dan', ['netops'], 'dan');
    const heard = (cookie: string) => {
      const socket = io(server.url, { transports: ['websocket'], reconnection: false, extraHeaders: { cookie } });
      const titles: string[] = [];
      socket.on(ServerEvent.incidentCreated, (i: { title: string }) => titles.push(i.title));
      return { socket, titles, connected: new Promise<void>((resolve) => socket.on('connect', () => resolve())) };
    };
    const a = heard(member);
    const b = heard(outsider);
    await Promise.all([a.connected, b.connected]);
    await server.createIncident(ADMIN_TOKEN, { title: 'open one' });
    await server.createIncident(ADMIN_TOKEN, { title: 'for security only', members: ['group:security-team'] });
    await expect.poll(() => a.titles).toEqual(['open one', 'for security only']);
    await expect.poll(() => b.titles).toContain('open one');
    expect(b.titles).not.toContain('for security only');
    a.socket.close();
    b.socket.close();
  });

  it('closes the socket of someone whose next sign-in no longer has the group (4404), and ends everything when no group is allowed (4401)', async () => {
    const first = await idpSession(server.url, idp, 'sub-eve', ['security-team'], 'eve');
    const restricted = await server.createIncident(ADMIN_TOKEN, { title: 'restricted to security', members: ['group:security-team'] });
    const open = await server.createIncident(ADMIN_TOKEN, { title: 'open to all' });
    const onRestricted = sessionSocket(restricted.id, first);
    const onOpen = sessionSocket(open.id, first);
    await Promise.all([onRestricted.opened, onOpen.opened]);
    const token = ((await (await server.api('POST', '/api/tokens', { headers: { cookie: first }, body: { name: 'eve script' } })).json()) as { token: string }).token;

    // Moved to netops: still a responder, no longer in security-team.
    await idpSession(server.url, idp, 'sub-eve', ['netops'], 'eve');
    expect(await onRestricted.closed).toBe(CloseCode.notFound);
    expect(onOpen.ws.readyState).toBe(WebSocket.OPEN);
    expect((await get(`/api/incidents/${restricted.id}`, first)).status).toBe(404);

    // Removed from every allowed group: refused, and their sessions, tokens and sockets end.
    await expect(idpSession(server.url, idp, 'sub-eve', ['marketing'], 'eve')).rejects.toThrow(/403/);
    expect(await onOpen.closed).toBe(CloseCode.unauthenticated);
    expect((await get('/api/auth/me', first)).status).toBe(401);
    expect((await server.api('GET', '/api/auth/me', { token })).status).toBe(401);

    // Back in an allowed group: the same account again (not a new one).
    const again = await idpSession(server.url, idp, 'sub-eve', ['staff'], 'eve');
    expect(await (await get('/api/auth/me', again)).json()).toMatchObject({ name: 'eve', role: 'viewer' });
    const users = (await (await server.api('GET', '/api/users', { token: ADMIN_TOKEN })).json()) as Array<{ name: string }>;
    expect(users.filter((u) => u.name.startsWith('eve'))).toHaveLength(1);
  });

  it('keeps an account an admin removed removed, whatever its groups', async () => {
    const session = await idpSession(server.url, idp, 'sub-fay', ['netops'], 'fay');
    const fay = (await (await get('/api/auth/me', session)).json()) as { id: string };
    expect((await server.api('DELETE', `/api/users/${fay.id}`, { token: ADMIN_TOKEN })).status).toBe(204);
    await expect(idpSession(server.url, idp, 'sub-fay', ['netops'], 'fay')).rejects.toThrow(/removed by an admin/);
  });
});

describe('group members: bad input', () => {
  it.each(['group:', 'group:a,b', 'group: padded', 'group:x\u0007'])('refuses %j as a member with a message naming it, changing nothing', async (bad) => {
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'open to all still' });
    const created = await server.api('POST', '/api/incidents', { token: ADMIN_TOKEN, body: { title: 'x', members: [bad] } });
    expect(created.status).toBe(400);
    expect(((await created.json()) as { error: string; field: string })).toMatchObject({ field: 'members', error: expect.stringContaining('is not a group name') });
    const patched = await server.api('PATCH', `/api/incidents/${incident.id}`, { token: ADMIN_TOKEN, body: { members: [bad] } });
    expect(patched.status).toBe(400);
    expect(((await (await server.api('GET', `/api/incidents/${incident.id}`, { token: ADMIN_TOKEN })).json()) as { members?: string[] }).members).toBeUndefined();
  });
});
