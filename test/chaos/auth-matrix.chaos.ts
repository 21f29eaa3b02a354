/**
 * Every route and both sockets, tried without a token, with a wrong one, with a viewer's token for
 * writes, across incidents (a restricted incident the caller is not a member of) and from a foreign
 * Origin: all refused, and nothing changes. (Webhooks take integration tokens instead: see
 * test/alerts/webhooks.test.ts.) Users created by a sign-in through an identity provider (#17; a
 * real HTTP IdP, test/helpers/hostile-idp.ts) are tried exactly like local ones, with their session
 * cookies: an IdP viewer, an IdP responder outside the restricted incident, and an IdP member of the
 * group an incident is restricted to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import type { Role } from '../../shared/model.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { idpSession, startHostileIdp, type HostileIdp } from '../helpers/hostile-idp.js';

let server: TestServer;
let viewer: string;
let outsider: string;
let member: string;
let secretId: string;
let openId: string;
let idp: HostileIdp;
/** Session cookies of IdP-created users. */
let idpViewer: string;
let idpOutsider: string;
let idpMember: string;
let groupSecretId: string;

beforeAll(async () => {
  idp = await startHostileIdp();
  server = await startTestServer({
    env: { OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_RESPONDER_GROUPS: 'netops,matrix-team', OIDC_VIEWER_GROUPS: 'staff' },
  });
  viewer = (await server.createUser('viewer', 'matrix-viewer')).token;
  outsider = (await server.createUser('responder', 'matrix-outsider')).token;
  const memberUser = await server.createUser('responder', 'matrix-member');
  member = memberUser.token;
  secretId = (await server.createIncident(member, { title: 'restricted', members: [] })).id;
  openId = (await server.createIncident(member, { title: 'open' })).id;
  idpViewer = await idpSession(server.url, idp, 'matrix-idp-viewer', ['staff']);
  idpOutsider = await idpSession(server.url, idp, 'matrix-idp-outsider', ['netops']);
  idpMember = await idpSession(server.url, idp, 'matrix-idp-member', ['matrix-team']);
  groupSecretId = (await server.createIncident(member, { title: 'restricted to a group', members: ['group:matrix-team'] })).id;
});
afterAll(async () => {
  await server.close();
  await idp.close();
});

interface Route {
  method: string;
  path: (incidentId: string) => string;
  body?: unknown;
  /** Least role allowed. */
  role: Role;
  /** Whether the route is about one incident (so a non-member must get 404). */
  incident: boolean;
}

const routes: Route[] = [
  { method: 'GET', path: () => '/api/auth/me', role: 'viewer', incident: false },
  { method: 'GET', path: () => '/api/users', role: 'viewer', incident: false },
  { method: 'POST', path: () => '/api/users', body: { name: 'intruder', role: 'admin' }, role: 'admin', incident: false },
  { method: 'GET', path: () => '/api/incidents', role: 'viewer', incident: false },
  { method: 'POST', path: () => '/api/incidents', body: { title: 'intruded' }, role: 'responder', incident: false },
  { method: 'GET', path: (id) => `/api/incidents/${id}`, role: 'viewer', incident: true },
  { method: 'PATCH', path: (id) => `/api/incidents/${id}`, body: { status: 'resolved' }, role: 'responder', incident: true },
  { method: 'GET', path: (id) => `/api/incidents/${id}/history`, role: 'viewer', incident: true },
  { method: 'GET', path: (id) => `/api/incidents/${id}/state`, role: 'viewer', incident: true },
  { method: 'GET', path: (id) => `/api/incidents/${id}/authors`, role: 'viewer', incident: true },
  { method: 'GET', path: (id) => `/api/incidents/${id}/alert-suggestions`, role: 'viewer', incident: true },
  { method: 'GET', path: (id) => `/api/alerts?incident=${id}`, role: 'viewer', incident: true },
  { method: 'POST', path: (id) => `/api/incidents/${id}/alerts`, body: { alertId: 'some-alert' }, role: 'responder', incident: true },
  { method: 'DELETE', path: (id) => `/api/incidents/${id}/alerts/some-alert`, role: 'responder', incident: true },
  { method: 'GET', path: () => '/api/alerts', role: 'viewer', incident: false },
  { method: 'GET', path: () => '/api/alerts/some-alert', role: 'viewer', incident: false },
  { method: 'POST', path: () => '/api/alerts/some-alert/declare', body: {}, role: 'responder', incident: false },
  { method: 'GET', path: () => '/api/integrations', role: 'admin', incident: false },
  { method: 'POST', path: () => '/api/integrations', body: { name: 'intruder', kind: 'generic' }, role: 'admin', incident: false },
  { method: 'DELETE', path: () => '/api/integrations/some-integration', role: 'admin', incident: false },
  { method: 'GET', path: () => '/api/tokens', role: 'viewer', incident: false },
  { method: 'GET', path: () => '/api/admin/tokens', role: 'admin', incident: false },
  { method: 'DELETE', path: () => '/api/admin/tokens/some-token', role: 'admin', incident: false },
  { method: 'GET', path: () => '/api/auth/device/BCDF-GHJK', role: 'viewer', incident: false },
  { method: 'POST', path: () => '/api/auth/device/BCDF-GHJK/approve', role: 'viewer', incident: false },
];

const call = (route: Route, incidentId: string, headers: Record<string, string>) =>
  server.api(route.method, route.path(incidentId), { body: route.body, headers });

describe('auth matrix', () => {
  it.each(routes.map((r) => [`${r.method} ${r.path(':id')}`, r] as const))('%s refuses every caller who may not', async (_name, route) => {
    expect((await call(route, openId, {})).status).toBe(401);
    expect((await call(route, openId, { authorization: 'Bearer bl_wrong' })).status).toBe(401);
    expect((await call(route, openId, { cookie: 'bridgelog_session=bls_forged' })).status).toBe(401);
    expect((await call(route, openId, { authorization: `Bearer ${ADMIN_TOKEN}`, origin: 'https://evil.example' })).status).toBe(403);
    if (route.role !== 'viewer') expect((await call(route, openId, { authorization: `Bearer ${viewer}` })).status).toBe(403);
    if (route.role !== 'viewer') expect((await call(route, openId, { cookie: idpViewer })).status).toBe(403);
    if (route.role === 'admin') expect((await call(route, openId, { authorization: `Bearer ${outsider}` })).status).toBe(403);
    if (route.role === 'admin') expect((await call(route, openId, { cookie: idpOutsider })).status).toBe(403);
    if (route.incident) {
      for (const token of [outsider, viewer, ADMIN_TOKEN]) {
        const res = await call(route, secretId, { authorization: `Bearer ${token}` });
        expect(res.status).toBe(404);
      }
      for (const cookie of [idpOutsider, idpViewer, idpMember]) expect((await call(route, secretId, { cookie })).status).toBe(404);
      // Restricted to a group: everyone outside it, local or IdP, admin or not, gets 404.
      for (const token of [outsider, viewer, ADMIN_TOKEN]) expect((await call(route, groupSecretId, { authorization: `Bearer ${token}` })).status).toBe(404);
      for (const cookie of [idpOutsider, idpViewer]) expect((await call(route, groupSecretId, { cookie })).status).toBe(404);
    }
  });

  it('leaves the restricted incident out of every non-member’s list, and nothing was changed', async () => {
    for (const token of [outsider, viewer, ADMIN_TOKEN]) {
      const list = (await (await server.api('GET', '/api/incidents', { token })).json()) as Array<{ id: string }>;
      expect(list.map((i) => i.id)).not.toContain(secretId);
      expect(list.map((i) => i.id)).not.toContain(groupSecretId);
    }
    for (const cookie of [idpOutsider, idpViewer]) {
      const list = (await (await server.api('GET', '/api/incidents', { headers: { cookie } })).json()) as Array<{ id: string }>;
      expect(list.map((i) => i.id)).not.toContain(groupSecretId);
    }
    const memberList = (await (await server.api('GET', '/api/incidents', { headers: { cookie: idpMember } })).json()) as Array<{ id: string }>;
    expect(memberList.map((i) => i.id)).toContain(groupSecretId);
    const groupSecret = (await (await server.api('GET', `/api/incidents/${groupSecretId}`, { headers: { cookie: idpMember } })).json()) as { status: string };
    expect(groupSecret.status).toBe('investigating');
    const secret = (await (await server.api('GET', `/api/incidents/${secretId}`, { token: member })).json()) as { status: string };
    expect(secret.status).toBe('investigating');
    const open = (await (await server.api('GET', `/api/incidents/${openId}`, { token: member })).json()) as { status: string };
    expect(open.status).toBe('investigating');
    const users = (await (await server.api('GET', '/api/users', { token: member })).json()) as Array<{ name: string }>;
    expect(users.map((u) => u.name)).not.toContain('intruder');
  });

  const socketResult = (path: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`${server.wsUrl}${path}`, { headers });
      ws.on('unexpected-response', (_req, res) => (resolve(res.statusCode ?? 0), ws.terminate()));
      ws.on('close', (code) => resolve(code));
      ws.on('open', () => undefined);
      ws.on('error', () => undefined);
    });

  it('refuses the collaboration socket to every caller who may not', async () => {
    expect(await socketResult(`/collab/${openId}`)).toBe(401);
    expect(await socketResult(`/collab/${openId}?token=bl_wrong`)).toBe(401);
    expect(await socketResult(`/collab/${openId}?token=${ADMIN_TOKEN}`, { origin: 'https://evil.example' })).toBe(403);
    for (const token of [outsider, viewer, ADMIN_TOKEN]) expect(await socketResult(`/collab/${secretId}?token=${token}`)).toBe(4404);
    for (const cookie of [idpOutsider, idpViewer]) expect(await socketResult(`/collab/${groupSecretId}`, { cookie })).toBe(4404);
    expect(await socketResult(`/collab/${openId}`, { cookie: 'bridgelog_session=bls_forged' })).toBe(401);
    // A viewer's writes: see test/collab/sync.test.ts (4403 with the stock provider).
  });

  it('refuses app events (socket.io) without a valid token or from a foreign origin', async () => {
    const attempt = (opts: Parameters<typeof io>[1]) =>
      new Promise<boolean>((resolve) => {
        const socket = io(server.url, { transports: ['websocket'], reconnection: false, ...opts });
        socket.on('connect', () => (resolve(true), socket.close()));
        socket.on('connect_error', () => (resolve(false), socket.close()));
      });
    expect(await attempt({})).toBe(false);
    expect(await attempt({ auth: { token: 'bl_wrong' } })).toBe(false);
    expect(await attempt({ auth: { token: viewer }, extraHeaders: { origin: 'https://evil.example' } })).toBe(false);
    expect(await attempt({ auth: { token: viewer } })).toBe(true);
    expect(await attempt({ extraHeaders: { cookie: idpViewer } })).toBe(true);
  });
});
