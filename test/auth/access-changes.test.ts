/**
 * Losing access reaches sockets that are already open: restricting an incident, logging out,
 * revoking a token, changing a role or removing a user closes each affected socket with its named
 * code — and nothing written or broadcast after that gets through.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { io, type Socket } from 'socket.io-client';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { ServerEvent } from '../../shared/events.js';
import { CloseCode } from '../../shared/protocol.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const cleanup: Array<() => void> = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const stop of cleanup) stop();
  await server.close();
});

function open(incidentId: string, token: string): CollabClient {
  const client = connect(server.wsUrl, incidentId, token);
  // Stop the stock provider from reconnecting after a close, so each test sees the code once.
  client.provider.on('connection-close', () => (client.provider.shouldConnect = false));
  cleanup.push(client.destroy);
  return client;
}

const closeCodes = (c: CollabClient) => c.closes.map((x) => x.code);

async function login(name: string, password: string): Promise<string> {
  const res = await server.api('POST', '/api/auth/login', { body: { name, password } });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

/** A collaboration socket opened with a browser session cookie; resolves with its close code. */
function sessionSocket(incidentId: string, cookie: string) {
  const ws = new WebSocket(`${server.wsUrl}/collab/${incidentId}`, { headers: { cookie } });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const opened = new Promise<void>((resolve) => ws.on('open', () => resolve()));
  cleanup.push(() => ws.terminate());
  return { ws, opened, closed };
}

describe('losing access closes open sockets', () => {
  it('closes a non-member’s socket with 4404 when the incident is restricted, and it sees nothing after', async () => {
    const lead = await server.createUser('responder', 'lead-sec');
    const outsider = await server.createUser('responder', 'outsider-sec');
    const incident = await server.createIncident(lead.token);
    const l = open(incident.id, lead.token);
    const o = open(incident.id, outsider.token);
    await Promise.all([synced(l), synced(o)]);

    const events: Socket = io(server.url, { auth: { token: outsider.token }, transports: ['websocket'], reconnection: false });
    cleanup.push(() => events.disconnect());
    const gone: string[] = [];
    const updated: string[] = [];
    events.on(ServerEvent.incidentGone, ({ id }) => gone.push(id));
    events.on(ServerEvent.incidentUpdated, (i) => updated.push(i.id));
    await vi.waitFor(() => expect(events.connected).toBe(true));

    const res = await server.api('PATCH', `/api/incidents/${incident.id}`, { token: lead.token, body: { members: [] } });
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(closeCodes(o)).toContain(CloseCode.notFound));
    await vi.waitFor(() => expect(gone).toContain(incident.id));

    createEntry(l.doc, { kind: 'test', title: 'tcpdump on the bastion', ranAt: new Date().toISOString() });
    await l.saved();
    await server.api('PATCH', `/api/incidents/${incident.id}`, { token: lead.token, body: { severity: 'sev1' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(listEntries(o.doc).map((e) => e.title)).not.toContain('tcpdump on the bastion');
    expect(updated).not.toContain(incident.id); // the later severity change went to members only
    expect((await server.api('GET', `/api/incidents/${incident.id}`, { token: outsider.token })).status).toBe(404);
  });

  it('closes sockets opened with a session with 4401 when that session logs out; other sessions stay', async () => {
    const user = await server.createUser('responder', 'logs-out', 'a long passphrase');
    const incident = await server.createIncident(user.token);
    const first = await login('logs-out', 'a long passphrase');
    const second = await login('logs-out', 'a long passphrase');
    const a = sessionSocket(incident.id, first);
    const b = sessionSocket(incident.id, second);
    await Promise.all([a.opened, b.opened]);
    await server.api('POST', '/api/auth/logout', { headers: { cookie: first } });
    expect(await a.closed).toBe(CloseCode.unauthenticated);
    await new Promise((r) => setTimeout(r, 200));
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
    expect((await server.api('GET', '/api/auth/me', { headers: { cookie: first } })).status).toBe(401);
  });

  it('closes sockets that use a revoked token with 4401; the user’s other token keeps working', async () => {
    const user = await server.createUser('responder', 'rotates');
    const incident = await server.createIncident(user.token);
    const created = await server.api('POST', '/api/tokens', { token: user.token, body: { name: 'laptop' } });
    const laptop = (await created.json()) as { id: string; token: string };
    const viaLaptop = open(incident.id, laptop.token);
    const viaFirst = open(incident.id, user.token);
    await Promise.all([synced(viaLaptop), synced(viaFirst)]);
    expect((await server.api('DELETE', `/api/tokens/${laptop.id}`, { token: user.token })).status).toBe(204);
    await vi.waitFor(() => expect(closeCodes(viaLaptop)).toContain(CloseCode.unauthenticated));
    createEntry(viaFirst.doc, { kind: 'note', title: 'still here', ranAt: new Date().toISOString() });
    await viaFirst.saved();
    expect(closeCodes(viaFirst)).toEqual([]);
  });

  it('closes a writer made a viewer with 4403; reconnected, it reads but cannot write', async () => {
    const user = await server.createUser('responder', 'demoted');
    const incident = await server.createIncident(user.token);
    const c = open(incident.id, user.token);
    await synced(c);
    const res = await server.api('PATCH', `/api/users/${user.id}`, { token: ADMIN_TOKEN, body: { role: 'viewer' } });
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(closeCodes(c)).toContain(CloseCode.forbidden));
    const again = open(incident.id, user.token);
    await synced(again);
    createEntry(again.doc, { kind: 'note', title: 'sneaky', ranAt: new Date().toISOString() });
    await vi.waitFor(() => expect(closeCodes(again)).toContain(CloseCode.forbidden));
  });

  it('closes every socket of a removed user (4401, and socket.io), and refuses their token and name', async () => {
    const user = await server.createUser('responder', 'leaver', 'a long passphrase');
    const incident = await server.createIncident(user.token);
    const c = open(incident.id, user.token);
    await synced(c);
    const events: Socket = io(server.url, { auth: { token: user.token }, transports: ['websocket'], reconnection: false });
    cleanup.push(() => events.disconnect());
    await vi.waitFor(() => expect(events.connected).toBe(true));

    expect((await server.api('DELETE', `/api/users/${user.id}`, { token: ADMIN_TOKEN })).status).toBe(204);
    await vi.waitFor(() => expect(closeCodes(c)).toContain(CloseCode.unauthenticated));
    await vi.waitFor(() => expect(events.connected).toBe(false));
    expect((await server.api('GET', '/api/auth/me', { token: user.token })).status).toBe(401);
    expect((await server.api('POST', '/api/auth/login', { body: { name: 'leaver', password: 'a long passphrase' } })).status).toBe(401);
    // Still named in the history and the user list, marked as removed.
    const users = (await (await server.api('GET', '/api/users', { token: ADMIN_TOKEN })).json()) as Array<{ id: string; deactivatedAt?: string }>;
    expect(users.find((u) => u.id === user.id)?.deactivatedAt).toEqual(expect.any(String));
  });
});
