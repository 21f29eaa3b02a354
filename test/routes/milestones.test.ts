/**
 * Milestones over HTTP (#18): set now, back-dated and relative; bad input refused with the field named
 * and nothing stored; viewers and non-members kept out; status and the `resolved` milestone in step
 * both ways; who set each from authentication, never from the client.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HistoryRecord, Incident } from '../../shared/api.js';
import { createEntry, metaOf, setMitigated } from '../../shared/schema/doc.js';
import { milestonesOf, readMilestones, type IncidentMilestones, type MilestoneView } from '../../shared/schema/milestones.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { connect, synced } from '../helpers/collab-client.js';

let server: TestServer;
let dana: { id: string; token: string };
let kim: { id: string; token: string };
let viewer: { id: string; token: string };
let outsider: { id: string; token: string };
beforeAll(async () => {
  server = await startTestServer();
  dana = await server.createUser('responder', 'dana');
  kim = await server.createUser('responder', 'kim-m');
  viewer = await server.createUser('viewer', 'vic');
  outsider = await server.createUser('responder', 'otto');
});
afterAll(async () => {
  await server.close();
});

const path = (id: string, name = '') => `/api/incidents/${id}/milestones${name ? `/${encodeURIComponent(name)}` : ''}`;
const put = (token: string, id: string, name: string, body: unknown = {}) => server.api('PUT', path(id, name), { token, body });
const get = async (token: string, id: string) => (await (await server.api('GET', path(id), { token })).json()) as IncidentMilestones;
const incident = async (id: string) => (await (await server.api('GET', `/api/incidents/${id}`, { token: ADMIN_TOKEN })).json()) as Incident;
const historyLength = async (id: string) => ((await (await server.api('GET', `/api/incidents/${id}/history`, { token: ADMIN_TOKEN })).json()) as HistoryRecord[]).length;

describe('setting milestones', () => {
  it('sets one at the server\'s now by default, attributed to the caller, and mirrors it into the incident', async () => {
    const { id } = await server.createIncident(dana.token);
    const before = Date.now();
    const res = await put(dana.token, id, 'detected');
    expect(res.status).toBe(200);
    const view = (await res.json()) as MilestoneView;
    expect(view).toMatchObject({ name: 'detected', label: 'Detected', setBy: { id: dana.id, name: 'dana' }, backfilled: false });
    expect(Date.parse(view.at)).toBeGreaterThanOrEqual(before - 5);
    expect(Date.parse(view.at)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(view.setAt)).toBeGreaterThanOrEqual(Date.parse(view.at));
    expect((await incident(id)).milestones).toEqual({ detected: view.at });
    const answer = await get(viewer.token, id);
    expect(answer.milestones).toEqual([view]);
    expect(answer.durations.find((d) => d.name === 'timeToDetect')).toMatchObject({ problem: 'impact started is not set', running: false });
  });

  it('back-dates with an ISO time or a relative one, marks late ones backfilled, and derives durations', async () => {
    const { id } = await server.createIncident(dana.token);
    const impact = new Date(Date.now() - 2 * 3600_000).toISOString();
    const a = (await (await put(dana.token, id, 'impactStarted', { at: impact.replace('Z', '+00:00') })).json()) as MilestoneView;
    expect(a).toMatchObject({ at: impact, backfilled: true });
    const b = (await (await put(kim.token, id, 'mitigated', { at: '-5m' })).json()) as MilestoneView;
    expect(Math.abs(Date.parse(b.at) - (Date.now() - 5 * 60_000))).toBeLessThan(5_000);
    expect(b.setBy.name).toBe('kim-m');
    const c = (await (await put(kim.token, id, 'acknowledged', { at: '-1h30m' })).json()) as MilestoneView;
    expect(Math.abs(Date.parse(c.at) - (Date.now() - 90 * 60_000))).toBeLessThan(5_000);
    const d = (await (await put(dana.token, id, 'customers notified', { at: 'now' })).json()) as MilestoneView;
    expect(d).toMatchObject({ name: 'customers notified', label: 'customers notified', backfilled: false });

    const answer = await get(viewer.token, id);
    expect(answer.milestones.map((m) => m.name)).toEqual(['impactStarted', 'acknowledged', 'mitigated', 'customers notified']);
    const ttm = answer.durations.find((x) => x.name === 'timeToMitigate')!;
    expect(ttm.running).toBe(false);
    expect(ttm.ms).toBe(Date.parse(b.at) - Date.parse(impact));
    expect(answer.durations.find((x) => x.name === 'timeToResolve')).toMatchObject({ running: true });
    expect(answer.durations.find((x) => x.name === 'timeToAcknowledge')).toMatchObject({ problem: 'detected is not set' });
  });

  it('refuses bad input with a clear error naming the field, and stores nothing', async () => {
    const { id } = await server.createIncident(dana.token);
    const created = Date.parse((await incident(id)).createdAt);
    const records = await historyLength(id);
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['mitigated', { at: 'yesterday at noon' }, 'at', /ISO-8601/],
      ['mitigated', { at: '2026-03-04T06:12:30' }, 'at', /with a zone/],
      ['mitigated', { at: '2026-02-30T06:12:30Z' }, 'at', /not a valid time|ISO/],
      ['mitigated', { at: 42 }, 'at', /string/],
      ['mitigated', { at: new Date(Date.now() + 3600_000).toISOString() }, 'at', /in the future/],
      ['impactStarted', { at: new Date(created - 31 * 86_400_000).toISOString() }, 'at', /before the incident was declared/],
      ['x'.repeat(65), {}, 'name', /at most 64/],
      [' padded', {}, 'name', /spaces/],
      ['bell\u0007', {}, 'name', /control/],
    ];
    for (const [name, body, field, message] of cases) {
      const res = await put(dana.token, id, name, body);
      expect(res.status, `${name} ${JSON.stringify(body)}`).toBe(400);
      const error = (await res.json()) as { error: string; field: string };
      expect(error.field).toBe(field);
      expect(error.error).toMatch(message);
    }
    expect(await historyLength(id)).toBe(records);
    expect((await get(dana.token, id)).milestones).toEqual([]);
    expect((await incident(id)).milestones).toBeUndefined();
  });

  it('allows 20 custom milestones and refuses the 21st, while standard ones and changes still go', async () => {
    const { id } = await server.createIncident(dana.token);
    for (let i = 1; i <= 20; i++) expect((await put(dana.token, id, `step ${i}`)).status).toBe(200);
    const refused = await put(dana.token, id, 'step 21');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ field: 'name', error: expect.stringMatching(/at most 20 custom/) });
    expect((await put(dana.token, id, 'step 3', { at: '-1m' })).status).toBe(200);
    expect((await put(dana.token, id, 'detected')).status).toBe(200);
    expect(Object.keys((await incident(id)).milestones!)).toHaveLength(21);
  });

  it('removes one (204), keeping it in the history', async () => {
    const { id } = await server.createIncident(dana.token);
    await put(dana.token, id, 'acknowledged');
    const records = await historyLength(id);
    expect((await server.api('DELETE', path(id, 'acknowledged'), { token: kim.token })).status).toBe(204);
    expect((await get(dana.token, id)).milestones).toEqual([]);
    expect((await incident(id)).milestones).toBeUndefined();
    expect(await historyLength(id)).toBe(records + 1);
    const events = (await (await server.api('GET', `/api/incidents/${id}/events`, { token: viewer.token })).json()) as { events: Array<{ userId: string; changes: unknown[] }> };
    expect(events.events.flatMap((e) => e.changes)).toEqual(expect.arrayContaining([
      { kind: 'milestone', name: 'acknowledged', value: expect.any(String) },
      { kind: 'milestone', name: 'acknowledged', value: null },
    ]));
  });
});

describe('who may', () => {
  it('lets viewers read but not set (403), and hides a restricted incident from non-members (404)', async () => {
    const { id } = await server.createIncident(dana.token);
    const res = await put(viewer.token, id, 'detected');
    expect(res.status).toBe(403);
    expect((await server.api('DELETE', path(id, 'detected'), { token: viewer.token })).status).toBe(403);
    expect((await server.api('GET', path(id), { token: viewer.token })).status).toBe(200);

    const secret = await server.createIncident(dana.token, { members: [kim.id] });
    for (const [method, token] of [['GET', outsider.token], ['PUT', outsider.token], ['DELETE', outsider.token], ['PUT', viewer.token], ['GET', ADMIN_TOKEN]] as const) {
      const r = await server.api(method, method === 'GET' ? path(secret.id) : path(secret.id, 'detected'), { token, body: method === 'PUT' ? {} : undefined });
      expect(r.status, `${method} by a non-member`).toBe(404);
    }
    expect((await put(kim.token, secret.id, 'detected')).status).toBe(200);
    expect((await get(kim.token, secret.id)).milestones.map((m) => [m.name, m.setBy.id])).toEqual([['detected', kim.id]]);
  });

  it('takes setBy from authentication: a client writing the map under its own name is who set it', async () => {
    const { id } = await server.createIncident(dana.token);
    const c = connect(server.wsUrl, id, kim.token);
    await synced(c);
    // Anything a client writes besides the time is no claim: the history says who did it.
    milestonesOf(c.doc).set('mitigated', new Date(Date.now() - 20 * 60_000).toISOString());
    await c.saved();
    c.destroy();
    const [view] = (await get(dana.token, id)).milestones;
    expect(view).toMatchObject({ name: 'mitigated', setBy: { id: kim.id, name: 'kim-m' }, backfilled: true });
    // Dana changes it through the API: now it is hers.
    const changed = (await (await put(dana.token, id, 'mitigated', { at: '-1m' })).json()) as MilestoneView;
    expect(changed.setBy).toEqual({ id: dana.id, name: 'dana' });
    expect(changed.backfilled).toBe(false);
  });
});

describe('status and the resolved milestone', () => {
  it('setting resolved resolves the incident at that time, in the same change', async () => {
    const { id } = await server.createIncident(dana.token);
    const records = await historyLength(id);
    const view = (await (await put(dana.token, id, 'resolved', { at: '-10m' })).json()) as MilestoneView;
    expect(await historyLength(id)).toBe(records + 1);
    expect(await incident(id)).toMatchObject({ status: 'resolved', resolvedAt: view.at, milestones: { resolved: view.at } });
    const answer = await get(dana.token, id);
    expect(answer.durations.every((d) => !d.running)).toBe(true);
  });

  it('resolving through PATCH sets the resolved milestone; reopening removes it (the history keeps it)', async () => {
    const { id } = await server.createIncident(dana.token);
    const resolved = (await (await server.api('PATCH', `/api/incidents/${id}`, { token: kim.token, body: { status: 'resolved' } })).json()) as Incident;
    expect(resolved.milestones).toEqual({ resolved: resolved.resolvedAt });
    expect((await get(dana.token, id)).milestones[0]).toMatchObject({ name: 'resolved', setBy: { id: kim.id } });
    const reopened = (await (await server.api('PATCH', `/api/incidents/${id}`, { token: dana.token, body: { status: 'monitoring' } })).json()) as Incident;
    expect(reopened).toMatchObject({ status: 'monitoring', resolvedAt: null });
    expect(reopened.milestones).toBeUndefined();
    const state = await server.api('GET', `/api/incidents/${id}/export?format=json&at=${encodeURIComponent(new Date(Date.parse(resolved.resolvedAt!) + 1).toISOString())}`, { token: dana.token });
    expect(((await state.json()) as { milestones: MilestoneView[] }).milestones.map((m) => m.name)).toContain('resolved');
  });

  it('removing the resolved milestone reopens the incident as monitoring', async () => {
    const { id } = await server.createIncident(dana.token);
    await put(dana.token, id, 'resolved');
    expect((await server.api('DELETE', path(id, 'resolved'), { token: dana.token })).status).toBe(204);
    expect(await incident(id)).toMatchObject({ status: 'monitoring', resolvedAt: null });
  });

  it('follows a status or a resolved milestone written straight into the document, attributed to its writer', async () => {
    const { id } = await server.createIncident(dana.token);
    const c = connect(server.wsUrl, id, kim.token);
    await synced(c);
    metaOf(c.doc).set('status', 'resolved');
    await c.saved();
    await vi.waitFor(async () => expect((await incident(id)).milestones?.resolved).toBeDefined());
    expect(await incident(id)).toMatchObject({ status: 'resolved' });
    expect((await get(dana.token, id)).milestones[0]!.setBy.id).toBe(kim.id);
    await vi.waitFor(() => expect(readMilestones(c.doc).resolved).toBeDefined());

    metaOf(c.doc).set('status', 'investigating'); // reopened in the web app
    await c.saved();
    await vi.waitFor(async () => expect((await incident(id)).milestones).toBeUndefined());
    await vi.waitFor(() => expect(readMilestones(c.doc).resolved).toBeUndefined());

    const at = new Date(Date.now() - 60_000).toISOString();
    milestonesOf(c.doc).set('resolved', at); // resolved through the milestone
    await c.saved();
    await vi.waitFor(async () => expect(await incident(id)).toMatchObject({ status: 'resolved', resolvedAt: at }));
    c.destroy();
  });
});

describe('in the document', () => {
  it('accepts a boolean mitigated mark on an entry and well-named milestones; refuses others with 4400', async () => {
    const { id } = await server.createIncident(dana.token);
    const ok = connect(server.wsUrl, id, kim.token);
    await synced(ok);
    const entry = createEntry(ok.doc, { kind: 'action', title: 'rolled back', ranAt: new Date().toISOString() });
    setMitigated(ok.doc, entry, true);
    milestonesOf(ok.doc).set('rollback started', new Date().toISOString());
    await ok.saved();
    ok.destroy();

    const refusals: Array<[string, (c: ReturnType<typeof connect>) => void]> = [
      ['a mitigated mark that is not a boolean', (c) => (c.doc.getMap('entries').get(entry) as { set: (k: string, v: unknown) => void }).set('mitigated', 'yes')],
      ['a milestone name over 64 characters', (c) => milestonesOf(c.doc).set('y'.repeat(65), new Date().toISOString())],
      ['a milestone that is not a UTC time', (c) => milestonesOf(c.doc).set('detected', 'at noon')],
    ];
    for (const [what, write] of refusals) {
      const c = connect(server.wsUrl, id, kim.token);
      await synced(c);
      write(c);
      await vi.waitFor(() => expect(c.closes.map((x) => x.code), what).toContain(4400));
      c.destroy();
    }
    await vi.waitFor(async () => expect(Object.keys((await incident(id)).milestones ?? {})).toEqual(['rollback started']));
  });
});

describe('suggestions', () => {
  it('offers the first alert as impact started, declaration from the inbox as detected, and an entry marked as mitigating', async () => {
    const integration = (await (await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'gen', kind: 'generic' } })).json()) as { token: string };
    const startsAt = new Date(Date.now() - 30 * 60_000).toISOString();
    const hook = await fetch(`${server.url}/api/hooks/generic`, {
      method: 'POST',
      headers: { authorization: `Bearer ${integration.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Packet loss ny-sw01', startsAt, fingerprint: 'pl-ny' }),
    });
    expect(hook.status).toBe(200);
    const [alert] = (await (await server.api('GET', '/api/alerts?inbox=true', { token: dana.token })).json()) as Array<{ id: string }>;
    const declared = (await (await server.api('POST', `/api/alerts/${alert!.id}/declare`, { token: dana.token, body: {} })).json()) as Incident;
    expect(declared.declaredFrom).toBe(alert!.id);

    const c = connect(server.wsUrl, declared.id, kim.token);
    await synced(c);
    const ranAt = new Date(Date.now() - 2 * 60_000).toISOString();
    const entry = createEntry(c.doc, { kind: 'action', title: 'Drained ny-sw01', ranAt });
    setMitigated(c.doc, entry, true);
    await c.saved();
    c.destroy();

    const { suggestions } = await get(viewer.token, declared.id);
    expect(suggestions).toEqual([
      { name: 'impactStarted', at: startsAt, why: "first alert 'Packet loss ny-sw01' fired" },
      { name: 'detected', at: declared.createdAt, why: "declared from the alert 'Packet loss ny-sw01' in the inbox" },
      { name: 'mitigated', at: ranAt, why: "'Drained ny-sw01' was marked as what mitigated it" },
    ]);
    await put(dana.token, declared.id, 'impactStarted', { at: startsAt });
    expect((await get(viewer.token, declared.id)).suggestions.map((s) => s.name)).toEqual(['detected', 'mitigated']);
  });
});
