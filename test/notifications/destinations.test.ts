/**
 * Destinations through the API (#20): what an admin configures, what comes back (a webhook's secret
 * once, never again; an SMTP password never), and every kind of bad input refused with a message
 * naming the field — including URLs that point inside the network, unless NOTIFY_ALLOW_PRIVATE says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Destination } from '../../shared/notifications.js';
import { ADMIN_TOKEN } from '../helpers/server.js';
import { startNotifyServer, type NotifyServer } from './setup.js';

let open: NotifyServer;
let strict: NotifyServer;
beforeAll(async () => {
  open = await startNotifyServer();
  strict = await startNotifyServer({ NOTIFY_ALLOW_PRIVATE: '0' });
});
afterAll(async () => {
  await open?.close();
  await strict?.close();
});

const webhook = { name: 'ops bus', kind: 'webhook', url: 'http://127.0.0.1:9/hook', events: ['incident.declared', 'incident.updated'] };

async function refused(server: NotifyServer, body: unknown, token = ADMIN_TOKEN): Promise<{ status: number; error: string; field?: string }> {
  const res = await server.api('POST', '/api/notifications/destinations', { token, body });
  return { status: res.status, ...((await res.json()) as { error: string; field?: string }) };
}

describe('destinations', () => {
  it('shows a webhook’s signing secret once, and never again', async () => {
    const created = await open.addDestination(webhook);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect(created).toMatchObject({ name: 'ops bus', kind: 'webhook', url: 'http://127.0.0.1:9/hook', enabled: true, hasSecret: true, digestMinutes: 15, restrictedIncidents: [] });
    const list = (await (await open.api('GET', '/api/notifications/destinations', { token: ADMIN_TOKEN })).json()) as Destination[];
    const listed = list.find((d) => d.id === created.id)!;
    expect(JSON.stringify(listed)).not.toContain(created.secret!);
    expect(listed).not.toHaveProperty('secret');
    expect(JSON.stringify(await open.destination(created.id))).not.toContain(created.secret!);
  });

  it('keeps a Matrix token and an SMTP password, and never shows them', async () => {
    const matrix = await open.addDestination({ name: 'war room', kind: 'matrix', url: 'http://127.0.0.1:9', roomId: '!ops:example.org', accessToken: 'syt_very_secret', events: ['milestone.set'] });
    expect(matrix).toMatchObject({ roomId: '!ops:example.org', hasSecret: true });
    expect(matrix).not.toHaveProperty('secret');
    expect(JSON.stringify(matrix)).not.toContain('syt_very_secret');
    const email = await open.addDestination({
      name: 'managers', kind: 'email', url: 'smtp://bridgelog:hunter2@127.0.0.1:2525', from: 'bridgelog@example.com', to: ['oncall@example.com'], events: ['incident.declared'],
    });
    expect(email.url).toBe('smtp://bridgelog@127.0.0.1:2525');
    expect(email.hasSecret).toBe(true);
    expect(JSON.stringify(await open.destination(email.id))).not.toContain('hunter2');
  });

  it('changes events, digest interval, restricted incidents and whether it is enabled; removes it', async () => {
    const d = await open.addDestination(webhook);
    const incident = await open.createIncident(ADMIN_TOKEN, { title: 'restricted one', members: [] });
    const res = await open.patch(`/api/notifications/destinations/${d.id}`, { events: ['tests.digest'], digestMinutes: 5, restrictedIncidents: [incident.id], enabled: false });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ events: ['tests.digest'], digestMinutes: 5, restrictedIncidents: [incident.id], enabled: false });
    expect((await open.patch(`/api/notifications/destinations/${d.id}`, { restrictedIncidents: ['nope'] })).status).toBe(400);
    expect((await open.api('DELETE', `/api/notifications/destinations/${d.id}`, { token: ADMIN_TOKEN })).status).toBe(204);
    expect((await open.api('GET', `/api/notifications/destinations/${d.id}`, { token: ADMIN_TOKEN })).status).toBe(404);
    expect((await open.api('GET', `/api/notifications/deliveries?destination=${d.id}`, { token: ADMIN_TOKEN })).status).toBe(404);
  });
});

describe('bad input', () => {
  it.each([
    ['an unknown kind', { ...webhook, kind: 'pager' }, 'kind'],
    ['a URL that is not one', { ...webhook, url: 'not a url' }, 'url'],
    ['a URL of another scheme', { ...webhook, url: 'ftp://127.0.0.1/hook' }, 'url'],
    ['credentials in a webhook URL', { ...webhook, url: 'http://user:pw@127.0.0.1/hook' }, 'url'],
    ['an unknown event', { ...webhook, events: ['incident.exploded'] }, 'events.0'],
    ['no events', { ...webhook, events: [] }, 'events'],
    ['no name', { ...webhook, name: '' }, 'name'],
    ['no URL', { name: 'x', kind: 'slack', events: ['incident.declared'] }, 'url'],
    ['a Matrix room without its id', { name: 'x', kind: 'matrix', url: 'http://127.0.0.1:9', accessToken: 't', events: ['milestone.set'] }, 'roomId'],
    ['a Matrix room id that is not one', { name: 'x', kind: 'matrix', url: 'http://127.0.0.1:9', roomId: 'ops', accessToken: 't', events: ['milestone.set'] }, 'roomId'],
    ['a Matrix room without a token', { name: 'x', kind: 'matrix', url: 'http://127.0.0.1:9', roomId: '!a:b.c', events: ['milestone.set'] }, 'accessToken'],
    ['an email without recipients', { name: 'x', kind: 'email', url: 'smtp://127.0.0.1:25', from: 'a@b.c', events: ['incident.declared'] }, 'to'],
    ['an email recipient that is not an address', { name: 'x', kind: 'email', url: 'smtp://127.0.0.1:25', from: 'a@b.c', to: ['nobody'], events: ['incident.declared'] }, 'to.0'],
    ['an email server that is not SMTP', { name: 'x', kind: 'email', url: 'http://127.0.0.1:25', from: 'a@b.c', to: ['x@y.z'], events: ['incident.declared'] }, 'url'],
    ['a digest interval of zero', { ...webhook, digestMinutes: 0 }, 'digestMinutes'],
    ['a field nobody asked for', { ...webhook, secret: 'mine' }, undefined],
    ['a restricted incident that does not exist', { ...webhook, restrictedIncidents: ['nope'] }, 'restrictedIncidents.0'],
  ])('refuses %s with a 400 naming the field', async (_what, body, field) => {
    const r = await refused(open, body);
    expect(r.status).toBe(400);
    expect(r.error).toBeTruthy();
    if (field) expect(r.field).toBe(field);
  });

  it('refuses a body that is not a JSON object', async () => {
    const res = await open.api('POST', '/api/notifications/destinations', { token: ADMIN_TOKEN, body: '[1,2]' });
    expect(res.status).toBe(400);
  });

  it('lets only admins configure or look (403 for responders and viewers, 401 without credentials)', async () => {
    const responder = await open.createUser('responder');
    const viewer = await open.createUser('viewer');
    for (const token of [responder.token, viewer.token]) {
      expect((await refused(open, webhook, token)).status).toBe(403);
      expect((await open.api('GET', '/api/notifications/destinations', { token })).status).toBe(403);
      expect((await open.api('GET', '/api/notifications/deliveries?destination=x', { token })).status).toBe(403);
    }
    expect((await open.api('GET', '/api/notifications/destinations')).status).toBe(401);
  });

  it('asks which destination’s deliveries', async () => {
    const res = await open.api('GET', '/api/notifications/deliveries', { token: ADMIN_TOKEN });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'destination' });
  });
});

describe('URL safety (NOTIFY_ALLOW_PRIVATE unset)', () => {
  it.each([
    ['loopback', 'http://127.0.0.1:8080/hook', /loopback/],
    ['a name for loopback', 'http://localhost:8080/hook', /localhost resolves to .*loopback/],
    ['IPv6 loopback', 'http://[::1]/hook', /loopback/],
    ['a private network', 'https://10.1.2.3/hook', /private/],
    ['the cloud metadata address (link-local)', 'http://169.254.169.254/latest/meta-data', /linkLocal/],
    ['an IPv6 unique-local address', 'http://[fd00::1]/hook', /uniqueLocal/],
    ['multicast', 'http://224.0.0.1/hook', /multicast/],
    ['the unspecified address', 'http://0.0.0.0/hook', /unspecified/],
    ['an IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/hook', /loopback/],
  ])('refuses %s with a clear 400', async (_what, url, message) => {
    const r = await refused(strict, { ...webhook, url });
    expect(r.status).toBe(400);
    expect(r.field).toBe('url');
    expect(r.error).toMatch(message);
    expect(r.error).toMatch(/NOTIFY_ALLOW_PRIVATE/);
  });

  it('refuses an SMTP server on a private address too', async () => {
    const r = await refused(strict, { name: 'x', kind: 'email', url: 'smtp://192.168.1.10:25', from: 'a@b.c', to: ['x@y.z'], events: ['incident.declared'] });
    expect(r).toMatchObject({ status: 400, field: 'url' });
    expect(r.error).toMatch(/private/);
  });

  it('takes a public address', async () => {
    const res = await strict.api('POST', '/api/notifications/destinations', { token: ADMIN_TOKEN, body: { ...webhook, url: 'https://8.8.8.8/hook' } });
    expect(res.status).toBe(201);
  });
});
