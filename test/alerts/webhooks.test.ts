/**
 * Alerts from monitoring, in the real payload shapes: received, deduplicated, transitions recorded in
 * UTC, attached to the incidents whose matchers they satisfy, announced live — and bad input of every
 * kind refused whole, with nothing stored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { io } from 'socket.io-client';
import { alertAsOf, type Alert, type AlertSuggestion } from '../../shared/alerts.js';
import { ServerEvent } from '../../shared/events.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { inPostgres } from '../helpers/stored.js';

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/alerts', name), 'utf8')) as Record<string, unknown>;

let server: TestServer;
let responder: string;
beforeAll(async () => {
  server = await startTestServer();
  responder = (await server.createUser('responder', 'resp')).token;
});
afterAll(async () => {
  await server.close();
});

async function integration(kind: 'alertmanager' | 'grafana' | 'generic', name = `${kind}-${Math.random()}`) {
  const res = await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name, kind } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}
const hook = (kind: string, token: string | undefined, body: unknown) => server.api('POST', `/api/hooks/${kind}`, { token, body });
const alertsOf = async (query: string, token = responder) => (await (await server.api('GET', `/api/alerts${query}`, { token })).json()) as Alert[];

describe('Alertmanager webhook', () => {
  it('receives firing alerts in UTC, attaches them by matchers, and resolves them', async () => {
    const am = await integration('alertmanager');
    const incident = await server.createIncident(responder, { title: 'Discards at ny', alertMatchers: ['site=ny', 'alertname=~Interface.*'] });
    const other = await server.createIncident(responder, { title: 'Unrelated', alertMatchers: ['site=ams'] });

    const firing = await hook('alertmanager', am.token, fixture('alertmanager-v4-firing.json'));
    expect(firing.status).toBe(200);
    expect(await firing.json()).toMatchObject({ received: 2, created: 2, attached: 2 });

    const attached = await alertsOf(`?incident=${incident.id}`);
    expect(attached).toHaveLength(2);
    const sw01 = attached.find((a) => a.fingerprint === '7f3a9c0d21e4b6a8')!;
    expect(sw01).toMatchObject({
      status: 'firing',
      title: 'Output discards rising on ny-sw01 Gi1/0/12',
      startsAt: '2026-03-04T06:12:30.500Z', // sent as 01:12:30.5-05:00
      endsAt: null, // 0001-01-01T00:00:00Z means still firing
      source: 'alertmanager',
      url: expect.stringContaining('prometheus.ny.internal'),
      incidents: [incident.id],
      labels: { alertname: 'InterfaceDiscards', instance: 'ny-sw01:Gi1/0/12', severity: 'warning', site: 'ny' },
    });
    expect(await alertsOf(`?incident=${other.id}`)).toEqual([]);

    // The resolved notification (groupKey null) updates the same alert.
    const resolved = await hook('alertmanager', am.token, fixture('alertmanager-v4-resolved.json'));
    expect(await resolved.json()).toMatchObject({ received: 1, created: 0, changed: 1 });
    const after = (await alertsOf(`?incident=${incident.id}`)).find((a) => a.fingerprint === '7f3a9c0d21e4b6a8')!;
    expect(after).toMatchObject({ status: 'resolved', endsAt: '2026-03-04T07:40:00.000Z' });
    expect(after.transitions.map((t) => [t.status, t.at])).toEqual([
      ['firing', '2026-03-04T06:12:30.500Z'],
      ['resolved', '2026-03-04T07:40:00.000Z'],
    ]);
    expect(after.transitions.every((t) => t.receivedAt.endsWith('Z'))).toBe(true);
    // The same notification again changes nothing and creates no duplicate.
    expect(await (await hook('alertmanager', am.token, fixture('alertmanager-v4-resolved.json'))).json()).toMatchObject({ created: 0, changed: 0 });
    expect((await alertsOf(`?incident=${incident.id}`)).length).toBe(2);
  });

  it.skipIf(inPostgres)('keeps every raw payload', async () => {
    const raw = fs.readFileSync(path.join(server.dataDir, 'alerts-raw.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { payload: { receiver?: string } });
    expect(raw.length).toBeGreaterThanOrEqual(3);
    expect(raw[0]!.payload.receiver).toBe('bridgelog');
  });
});

describe('Grafana and generic webhooks', () => {
  it('receives a Grafana alert with its time converted to UTC and a link to the panel', async () => {
    const grafana = await integration('grafana');
    const res = await hook('grafana', grafana.token, fixture('grafana-v1-firing.json'));
    expect(res.status).toBe(200);
    const alert = (await alertsOf('?inbox=true')).find((a) => a.fingerprint === 'd41e8a0f6b2c7395')!;
    expect(alert).toMatchObject({
      source: 'grafana',
      startsAt: '2026-03-04T06:11:58.215Z', // sent as 07:11:58.215301+01:00
      title: 'p99 page time above 1.5 s',
      url: 'https://grafana.internal/d/web-overview?viewPanel=4',
      incidents: [],
    });
  });

  it('receives a generic alert (as the README’s Nagios command sends) and resolves it by fingerprint', async () => {
    const generic = await integration('generic');
    const body = { title: 'PING CRITICAL db01', severity: 'critical', labels: { host: 'db01', site: 'ny' }, startsAt: '2026-03-04T06:20:00Z', fingerprint: 'nagios-db01-ping' };
    expect((await hook('generic', generic.token, body)).status).toBe(200);
    expect((await hook('generic', generic.token, { ...body, status: 'resolved', endsAt: '2026-03-04T06:31:00+00:00' })).status).toBe(200);
    const alert = (await alertsOf('?inbox=1')).find((a) => a.fingerprint === 'nagios-db01-ping')!;
    expect(alert).toMatchObject({ status: 'resolved', endsAt: '2026-03-04T06:31:00.000Z', labels: { host: 'db01', site: 'ny', severity: 'critical' } });
  });
});

describe('bad input is refused whole, with nothing stored', () => {
  let am: { id: string; token: string };
  let count: number;
  beforeAll(async () => {
    am = await integration('alertmanager', 'bad-input');
  });
  const stored = async () => (await alertsOf('', ADMIN_TOKEN)).length;

  it.each([
    ['no token', undefined, fixture('alertmanager-v4-firing.json'), 401, /integration token/],
    ['a wrong token', 'bli_wrong', fixture('alertmanager-v4-firing.json'), 401, /integration token/],
    ['a user’s token instead of an integration’s', ADMIN_TOKEN, fixture('alertmanager-v4-firing.json'), 401, /integration token/],
    ['malformed JSON', 'AM', '{"version": "4", "alerts": [', 400, /malformed JSON/],
    ['an unknown version', 'AM', { ...fixture('alertmanager-v4-firing.json'), version: '5' }, 400, /version "5"/],
    ['a missing alerts list', 'AM', { version: '4' }, 400, /alerts/],
    ['an alert without startsAt, after a good one', 'AM', { version: '4', alerts: [{ status: 'firing', labels: { a: 'b' }, startsAt: '2026-03-04T06:00:00Z', fingerprint: 'good-one' }, { status: 'firing', labels: { a: 'c' } }] }, 400, /alerts\.1\.startsAt/],
    ['a time without a zone', 'AM', { version: '4', alerts: [{ status: 'firing', labels: { a: 'b' }, startsAt: '2026-03-04 06:00:00' }] }, 400, /alerts\.0\.startsAt/],
    ['an array instead of an object', 'AM', [1, 2, 3], 400, /JSON object/],
    ['a payload over the size limit', 'AM', { version: '4', alerts: [], pad: 'x'.repeat(1_100_000) }, 413, /too large/],
  ])('%s', async (_name, token, body, status, message) => {
    count = await stored();
    const res = await hook('alertmanager', token === 'AM' ? am.token : token, body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
    expect(await stored()).toBe(count);
  });

  it('refuses a revoked token, and a token of another kind', async () => {
    const grafana = await integration('grafana');
    expect((await hook('alertmanager', grafana.token, fixture('alertmanager-v4-firing.json'))).status).toBe(403);
    const doomed = await integration('alertmanager', 'doomed');
    expect((await server.api('DELETE', `/api/integrations/${doomed.id}`, { token: ADMIN_TOKEN })).status).toBe(204);
    const res = await hook('alertmanager', doomed.token, fixture('alertmanager-v4-firing.json'));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/revoked/);
    const listed = (await (await server.api('GET', '/api/integrations', { token: ADMIN_TOKEN })).json()) as Array<{ id: string; revokedAt?: string; token?: string }>;
    expect(listed.find((i) => i.id === doomed.id)).toMatchObject({ revokedAt: expect.stringMatching(/Z$/) });
    expect(JSON.stringify(listed)).not.toMatch(/tokenHash|bli_/);
    expect((await server.api('POST', '/api/integrations', { token: responder, body: { name: 'x', kind: 'generic' } })).status).toBe(403);
  });

  it('rate limits a flood per integration (429), without slowing the others', async () => {
    const flood = await integration('generic', 'flood');
    const calm = await integration('generic', 'calm');
    const statuses: number[] = [];
    for (let i = 0; i < 110; i++) statuses.push((await hook('generic', flood.token, { title: 'flood', fingerprint: 'flood' })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(100);
    expect(statuses.at(-1)).toBe(429);
    expect((await hook('generic', calm.token, { title: 'calm one' })).status).toBe(200);
  });
});

describe('responders and alerts', () => {
  it('attaches and detaches by hand, keeps a detached alert detached, and declares an incident from the inbox', async () => {
    const generic = await integration('generic');
    const incident = await server.createIncident(responder, { title: 'Web slow', alertMatchers: ['service=web-shop'] });
    await hook('generic', generic.token, { title: 'web 5xx', labels: { service: 'web-shop' }, fingerprint: 'web-5xx' });
    const [alert] = await alertsOf(`?incident=${incident.id}`);
    expect(alert!.title).toBe('web 5xx');

    // The answer is the alert after the change (the web app shows it as is).
    const detached = await server.api('DELETE', `/api/incidents/${incident.id}/alerts/${alert!.id}`, { token: responder });
    expect(detached.status).toBe(200);
    expect(((await detached.json()) as { incidents: string[] }).incidents).toEqual([]);
    await hook('generic', generic.token, { title: 'web 5xx', labels: { service: 'web-shop' }, fingerprint: 'web-5xx' });
    expect(await alertsOf(`?incident=${incident.id}`)).toEqual([]);
    const attached = await server.api('POST', `/api/incidents/${incident.id}/alerts`, { token: responder, body: { alertId: alert!.id } });
    expect(attached.status).toBe(200);
    expect(((await attached.json()) as { incidents: string[] }).incidents).toEqual([incident.id]);
    expect((await alertsOf(`?incident=${incident.id}`)).map((a) => a.id)).toEqual([alert!.id]);

    await hook('generic', generic.token, { title: 'disk full on db02', labels: { host: 'db02' }, fingerprint: 'db02-disk' });
    const inbox = await alertsOf('?inbox=true');
    const disk = inbox.find((a) => a.fingerprint === 'db02-disk')!;
    const declared = await server.api('POST', `/api/alerts/${disk.id}/declare`, { token: responder, body: {} });
    expect(declared.status).toBe(201);
    const created = (await declared.json()) as { id: string; title: string };
    expect(created.title).toBe('disk full on db02');
    expect((await alertsOf(`?incident=${created.id}`)).map((a) => a.id)).toEqual([disk.id]);
    expect((await alertsOf('?inbox=true')).map((a) => a.id)).not.toContain(disk.id);
  });

  it('remembers when an alert was attached and detached, and by whom: a moment back, it was on the incident', async () => {
    const generic = await integration('generic');
    const me = (await (await server.api('GET', '/api/auth/me', { token: responder })).json()) as { id: string };
    const incident = await server.createIncident(responder, { title: 'API down', alertMatchers: ['service=api'] });
    await hook('generic', generic.token, { title: 'api 503s', labels: { service: 'api' }, fingerprint: 'api-503' });
    await new Promise((r) => setTimeout(r, 20));
    const whileAttached = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const [alert] = await alertsOf(`?incident=${incident.id}`);
    expect((await server.api('DELETE', `/api/incidents/${incident.id}/alerts/${alert!.id}`, { token: responder })).status).toBe(200);

    // Attached now: none. Ever attached: the alert, with its history.
    expect(await alertsOf(`?incident=${incident.id}`)).toEqual([]);
    const [detached] = await alertsOf(`?incident=${incident.id}&include=detached`);
    expect(detached).toMatchObject({ id: alert!.id, incidents: [] });
    expect(detached!.links.map((l) => [l.incidentId, l.attached, l.by])).toEqual([
      [incident.id, true, null], // by the incident's label matchers
      [incident.id, false, me.id],
    ]);
    expect(detached!.links[0]!.at < whileAttached && whileAttached < detached!.links[1]!.at).toBe(true);
    expect(alertAsOf(detached!, whileAttached)?.incidents).toEqual([incident.id]);
    expect(alertAsOf(detached!, new Date().toISOString())?.incidents).toEqual([]);
    expect((await server.api('GET', `/api/alerts?incident=${incident.id}&include=everything`, { token: responder })).status).toBe(400);

    // The report as of that moment lists it; the report of now does not.
    const report = async (at?: string) =>
      (await (await server.api('GET', `/api/incidents/${incident.id}/export?format=json${at ? `&at=${at}` : ''}`, { token: responder })).json()) as { alerts: Array<{ id: string; links?: unknown[] }> };
    const then = await report(whileAttached);
    expect(then.alerts.map((a) => a.id)).toEqual([alert!.id]);
    expect(then.alerts[0]!.links).toHaveLength(1);
    expect((await report()).alerts).toEqual([]);
  });

  it('refuses bad matchers with the matcher named', async () => {
    const res = await server.api('POST', '/api/incidents', { token: responder, body: { title: 'x', alertMatchers: ['site ny'] } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'alertMatchers.0', error: expect.stringContaining('site ny') });
  });

  it('hides alerts of a restricted incident from non-members', async () => {
    const generic = await integration('generic');
    const secret = await server.createIncident(responder, { title: 'Breach', members: [], alertMatchers: ['team=sec'] });
    await hook('generic', generic.token, { title: 'suspicious login', labels: { team: 'sec' }, fingerprint: 'sec-1' });
    const outsider = (await server.createUser('responder')).token;
    expect((await alertsOf('', outsider)).map((a) => a.fingerprint)).not.toContain('sec-1');
    expect((await server.api('GET', `/api/alerts?incident=${secret.id}`, { token: outsider })).status).toBe(404);
    expect((await alertsOf(`?incident=${secret.id}`)).map((a) => a.fingerprint)).toEqual(['sec-1']);
  });

  it('announces alerts live over socket.io', async () => {
    const generic = await integration('generic');
    const socket = io(server.url, { auth: { token: responder }, transports: ['websocket'] });
    const seen: Alert[] = [];
    socket.on(ServerEvent.alertChanged, (a: Alert) => seen.push(a));
    await vi.waitFor(() => expect(socket.connected).toBe(true));
    await hook('generic', generic.token, { title: 'live one', fingerprint: 'live-1' });
    await vi.waitFor(() => expect(seen.map((a) => a.fingerprint)).toContain('live-1'));
    socket.close();
  });

  it('suggests the alerts firing around a test’s time on the incident’s labels, saying why', async () => {
    const generic = await integration('generic');
    const incident = await server.createIncident(responder, { title: 'lon packet loss', alertMatchers: ['site=lon'] });
    await hook('generic', generic.token, { title: 'lon-sw01 discards', labels: { site: 'lon' }, startsAt: '2026-05-01T10:00:00Z', fingerprint: 's1' });
    await hook('generic', generic.token, { title: 'ams latency', labels: { site: 'ams' }, startsAt: '2026-05-01T10:01:00Z', fingerprint: 's2' });
    await hook('generic', generic.token, { title: 'lon backup late', labels: { site: 'lon' }, startsAt: '2026-05-01T08:00:00Z', endsAt: '2026-05-01T08:30:00Z', fingerprint: 's3' });
    const res = await server.api('GET', `/api/incidents/${incident.id}/alert-suggestions?at=2026-05-01T10:02:00Z`, { token: responder });
    const suggestions = (await res.json()) as AlertSuggestion[];
    expect(suggestions[0]!.alert.title).toBe('lon-sw01 discards');
    expect(suggestions[0]!.reason).toBe('attached to this incident, firing when this test ran (since 2 min before), same site');
    expect(suggestions.map((s) => s.alert.title)).not.toContain('ams latency');
    const backup = suggestions.find((s) => s.alert.title === 'lon backup late');
    expect(backup?.reason).toBe('attached to this incident, resolved 92 min before this test, same site');
    expect(backup!.score).toBeLessThan(suggestions[0]!.score);
  });
});
