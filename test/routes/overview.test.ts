/** The incidents overview and trends (#18 item 5): filters, sorting, durations, bad input, restricted incidents, CSV. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../shared/api.js';
import { periodStart, trendsCsv, trendsOf, type IncidentOverview, type OverviewPage, type TrendsAnswer } from '../../shared/overview.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { seedMilestones } from '../helpers/milestones-seed.js';

const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

let server: TestServer;
let kim: { id: string; token: string };
let lee: { id: string; token: string };
let sec: { id: string; token: string };

async function incident(token: string, body: Record<string, unknown>, milestones?: Record<string, string>, status?: string): Promise<Incident> {
  const created = (await server.createIncident(token, body)) as Incident;
  if (milestones) await seedMilestones(server, token, created.id, milestones);
  if (status) expect((await server.api('PATCH', `/api/incidents/${created.id}`, { token, body: { status } })).status).toBe(200);
  return created;
}

async function list(token: string, query = ''): Promise<{ items: IncidentOverview[]; total: number }> {
  const res = await server.api('GET', `/api/incidents${query}`, { token });
  expect(res.status, await res.clone().text()).toBe(200);
  return { items: (await res.json()) as IncidentOverview[], total: Number(res.headers.get('x-total-count')) };
}

const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);
const ms = (i: IncidentOverview, name: string) => i.durations.find((d) => d.name === name)?.ms;

let dns: Incident, bgp: Incident, disk: Incident, secret: Incident;
const now = Date.now();
beforeAll(async () => {
  server = await startTestServer();
  kim = await server.createUser('responder', 'kim');
  lee = await server.createUser('viewer', 'lee');
  sec = await server.createUser('responder', 'sec');
  // dns: resolved, TTD 10m, TTM 40m, TTR 90m. bgp: open, impact 30m ago, detected 5m later. disk: no milestones.
  dns = await incident(kim.token, { title: 'DNS failures in ams', severity: 'sev2' },
    { impactStarted: iso(now - 120 * MIN), detected: iso(now - 110 * MIN), mitigated: iso(now - 80 * MIN), resolved: iso(now - 30 * MIN) }, 'resolved');
  bgp = await incident(kim.token, { title: 'BGP flap on ny-edge1', severity: 'sev1' }, { impactStarted: iso(now - 30 * MIN), detected: iso(now - 25 * MIN) }, 'identified');
  disk = await incident(kim.token, { title: 'Disk full on logs01', severity: 'sev3' });
  secret = await incident(sec.token, { title: 'Credential stuffing (DNS)', severity: 'sev1', members: [sec.id] },
    { impactStarted: iso(now - 60 * MIN), detected: iso(now - 59 * MIN) });
});
afterAll(async () => {
  await server.close();
});

describe('GET /api/incidents', () => {
  it('answers a plain array, newest first, each with its durations, the match count in X-Total-Count; view=page answers {incidents,total}', async () => {
    const { items, total } = await list(lee.token);
    expect(ids(items)).toEqual([disk.id, bgp.id, dns.id]);
    expect(total).toBe(3);
    const [d, b, n] = items;
    expect(n!.durations.map((x) => [x.name, x.ms, x.running])).toEqual([
      ['timeToDetect', 10 * MIN, false], ['timeToAcknowledge', undefined, false], ['timeToMitigate', 40 * MIN, false], ['timeToResolve', 90 * MIN, false],
    ]);
    expect(n!.durations[1]!.problem).toBe('acknowledged is not set');
    expect(b!.durations.find((x) => x.name === 'timeToResolve')).toMatchObject({ running: true });
    expect(ms(b!, 'timeToResolve')).toBeGreaterThanOrEqual(30 * MIN - 1000);
    expect(d!.durations.map((x) => [x.ms, x.problem])).toEqual([
      [undefined, 'impact started is not set'], [undefined, 'detected is not set'], [undefined, 'impact started is not set'], [undefined, 'impact started is not set'],
    ]);

    const res = await server.api('GET', '/api/incidents?view=page&limit=2&offset=1', { token: lee.token });
    const page = (await res.json()) as OverviewPage;
    expect(page.total).toBe(3);
    expect(page.limit).toBe(2);
    expect(page.offset).toBe(1);
    expect(ids(page.incidents)).toEqual([bgp.id, dns.id]);
  });

  it('filters by status, severity, time range and text', async () => {
    expect(ids((await list(lee.token, '?status=resolved')).items)).toEqual([dns.id]);
    expect(ids((await list(lee.token, '?status=investigating,identified')).items)).toEqual([disk.id, bgp.id]);
    expect(ids((await list(lee.token, '?severity=sev1,sev3')).items)).toEqual([disk.id, bgp.id]);
    expect(ids((await list(lee.token, '?q=dns')).items)).toEqual([dns.id]);
    expect(ids((await list(lee.token, '?q=DISK%20FULL&severity=sev3&status=investigating')).items)).toEqual([disk.id]);
    expect(ids((await list(lee.token, `?from=${encodeURIComponent(bgp.createdAt)}`)).items)).toEqual([disk.id, bgp.id]);
    expect(ids((await list(lee.token, `?to=${encodeURIComponent(bgp.createdAt)}`)).items)).toEqual([dns.id]);
    expect(ids((await list(lee.token, '?from=2020-01-01&to=2020-02-01')).items)).toEqual([]);
    const paged = await list(lee.token, '?limit=1&offset=1');
    expect(ids(paged.items)).toEqual([bgp.id]);
    expect(paged.total).toBe(3);
  });

  it('sorts by created time, title, severity, status and durations (unknown durations last either way)', async () => {
    expect(ids((await list(lee.token, '?sort=createdAt')).items)).toEqual([dns.id, bgp.id, disk.id]);
    expect(ids((await list(lee.token, '?sort=title')).items)).toEqual([bgp.id, disk.id, dns.id]); // Disk before DNS: as people read them
    expect(ids((await list(lee.token, '?sort=-title')).items)).toEqual([dns.id, disk.id, bgp.id]);
    expect(ids((await list(lee.token, '?sort=severity')).items)).toEqual([bgp.id, dns.id, disk.id]);
    expect(ids((await list(lee.token, '?sort=-status')).items)).toEqual([dns.id, bgp.id, disk.id]);
    expect(ids((await list(lee.token, '?sort=timeToDetect')).items)).toEqual([bgp.id, dns.id, disk.id]);
    expect(ids((await list(lee.token, '?sort=-timeToDetect')).items)).toEqual([dns.id, bgp.id, disk.id]);
    // bgp's time to resolve runs (30 min so far) and counts as a figure; dns's is 90 min.
    expect(ids((await list(lee.token, '?sort=-timeToResolve')).items)).toEqual([dns.id, bgp.id, disk.id]);
    expect(ids((await list(lee.token, '?sort=timeToMitigate')).items)).toEqual([bgp.id, dns.id, disk.id]);
  });

  it('answers 400 naming the parameter and the value for bad filters', async () => {
    const cases: Array<[string, string, string]> = [
      ['?status=open', 'status', '"open"'],
      ['?severity=sev1,critical', 'severity', '"critical"'],
      ['?sort=-priority', 'sort', '"-priority"'],
      ['?from=yesterday', 'from', '"yesterday"'],
      ['?to=2026-13-45', 'to', '"2026-13-45"'],
      ['?to=2026-01-01T10:00:00', 'to', 'UTC'],
      ['?from=2026-02-01&to=2026-01-01', 'to', '2026-01-01'],
      ['?limit=0', 'limit', '"0"'],
      ['?limit=abc', 'limit', '"abc"'],
      ['?offset=-1', 'offset', '"-1"'],
      ['?status=resolved&status=identified', 'status', 'once'],
      [`?q=${'x'.repeat(201)}`, 'q', '200'],
      ['?view=table', 'view', '"table"'],
    ];
    for (const [query, field, mention] of cases) {
      const res = await server.api('GET', `/api/incidents${query}`, { token: lee.token });
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { error: string; field: string };
      expect(body.field, query).toBe(field);
      expect(body.error, query).toContain(mention);
    }
    expect((await server.api('GET', '/api/incidents')).status).toBe(401);
  });

  it('lists a restricted incident only to its members, whatever the filters', async () => {
    for (const token of [lee.token, kim.token, ADMIN_TOKEN]) {
      for (const query of ['', '?q=credential', '?severity=sev1', '?sort=timeToDetect', '?view=page']) {
        const res = await server.api('GET', `/api/incidents${query}`, { token });
        const body = (await res.json()) as IncidentOverview[] | OverviewPage;
        const items = Array.isArray(body) ? body : body.incidents;
        expect(ids(items)).not.toContain(secret.id);
        if (!Array.isArray(body)) expect(body.total).toBe(3);
      }
    }
    const mine = await list(sec.token, '?q=dns');
    expect(ids(mine.items)).toEqual([secret.id, dns.id]);
    expect(ms(mine.items[0]!, 'timeToDetect')).toBe(MIN);
  });
});

describe('GET /api/trends', () => {
  it('counts incidents and takes median and p90 of the known durations per week per severity', async () => {
    const res = await server.api('GET', '/api/trends?by=week', { token: lee.token });
    expect(res.status).toBe(200);
    const t = (await res.json()) as TrendsAnswer;
    expect(t.by).toBe('week');
    expect(t.severities).toEqual(['sev1', 'sev2', 'sev3', 'sev4']);
    const week = t.periods.at(-1)!;
    expect(week.start).toBe(iso(periodStart(Date.parse(disk.createdAt), 'week')));
    expect(new Date(week.start).getUTCDay()).toBe(1);
    expect(week.all.count).toBe(3);
    expect(week.bySeverity.sev1!.count).toBe(1);
    expect(week.bySeverity.sev2!.count).toBe(1);
    expect(week.bySeverity.sev3!.count).toBe(1);
    expect(week.bySeverity.sev4!.count).toBe(0);
    // Known figures only: dns (10 min) and bgp (5 min) for time to detect; bgp's running TTR is not one.
    expect(week.all.durations.timeToDetect).toEqual({ n: 2, median: 7.5 * MIN, p90: 10 * MIN });
    expect(week.all.durations.timeToResolve).toEqual({ n: 1, median: 90 * MIN, p90: 90 * MIN });
    expect(week.bySeverity.sev1!.durations.timeToDetect).toEqual({ n: 1, median: 5 * MIN, p90: 5 * MIN });
    expect(week.bySeverity.sev1!.durations.timeToMitigate).toEqual({ n: 0, median: null, p90: null });

    const month = (await (await server.api('GET', '/api/trends?by=month&severity=sev2', { token: lee.token })).json()) as TrendsAnswer;
    expect(month.severities).toEqual(['sev2']);
    expect(month.periods.at(-1)!.period).toBe(iso(now).slice(0, 7));
    expect(month.periods.at(-1)!.all.count).toBe(1);
    expect(Object.keys(month.periods.at(-1)!.bySeverity)).toEqual(['sev2']);
  });

  it('counts a restricted incident only for its members: a non-member sees the same figures before and after one is added', async () => {
    const before = await (await server.api('GET', '/api/trends?by=month', { token: kim.token })).text();
    const beforeCsv = await (await server.api('GET', '/api/trends?by=month&format=csv', { token: kim.token })).text();
    const memberBefore = (await (await server.api('GET', '/api/trends?by=month', { token: sec.token })).json()) as TrendsAnswer;
    const extra = await incident(sec.token, { title: 'Token leak', severity: 'sev2', members: [sec.id] },
      { impactStarted: iso(now - 50 * MIN), detected: iso(now - 20 * MIN), resolved: iso(now - 10 * MIN) }, 'resolved');
    expect(extra.members).toEqual([sec.id]);
    expect(await (await server.api('GET', '/api/trends?by=month', { token: kim.token })).text()).toBe(before);
    expect(await (await server.api('GET', '/api/trends?by=month&format=csv', { token: kim.token })).text()).toBe(beforeCsv);
    const memberAfter = (await (await server.api('GET', '/api/trends?by=month', { token: sec.token })).json()) as TrendsAnswer;
    expect(memberAfter.periods.at(-1)!.bySeverity.sev2!.count).toBe(memberBefore.periods.at(-1)!.bySeverity.sev2!.count + 1);
    expect(memberAfter.periods.at(-1)!.all.count).toBe(5);
    expect(memberAfter.periods.at(-1)!.bySeverity.sev2!.durations.timeToResolve).toEqual({ n: 2, median: 65 * MIN, p90: 90 * MIN });
  });

  it('downloads the same figures as CSV, UTC periods, durations in seconds', async () => {
    const res = await server.api('GET', '/api/trends?by=week&severity=sev1,sev2&format=csv', { token: lee.token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="bridgelog-trends-week.csv"');
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'period,period_start,period_end,severity,count,' +
        'time_to_detect_n,time_to_detect_median_s,time_to_detect_p90_s,time_to_acknowledge_n,time_to_acknowledge_median_s,time_to_acknowledge_p90_s,' +
        'time_to_mitigate_n,time_to_mitigate_median_s,time_to_mitigate_p90_s,time_to_resolve_n,time_to_resolve_median_s,time_to_resolve_p90_s',
    );
    const start = periodStart(now, 'week');
    const period = `${iso(start).slice(0, 10)},${iso(start)},${iso(start + 7 * 86_400_000)}`;
    expect(lines.slice(-3)).toEqual([
      `${period},sev1,1,1,300,300,0,,,0,,,0,,`,
      `${period},sev2,1,1,600,600,0,,,1,2400,2400,1,5400,5400`,
      `${period},all,2,2,450,600,0,,,1,2400,2400,1,5400,5400`,
    ]);
  });

  it('answers 400 for a bad period, format, severity or range', async () => {
    const cases: Array<[string, string]> = [
      ['?by=day', 'by'], ['?format=xlsx', 'format'], ['?severity=sev9', 'severity'], ['?from=last-week', 'from'],
      ['?by=week&from=1990-01-01&to=2026-01-01', 'from'],
    ];
    for (const [query, field] of cases) {
      const res = await server.api('GET', `/api/trends${query}`, { token: lee.token });
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { field: string }).field, query).toBe(field);
    }
  });
});

describe('trendsOf', () => {
  const at = (s: string, severity: Incident['severity'] = 'sev2', milestones?: Record<string, string>) =>
    ({ id: s, title: s, severity, status: 'resolved' as const, createdAt: s, createdBy: 'u', resolvedAt: null, ...(milestones ? { milestones } : {}) });

  it('cuts UTC weeks on Monday and months on the 1st, empty periods included', () => {
    expect(iso(periodStart(Date.parse('2026-11-29T23:59:59Z'), 'week'))).toBe('2026-11-23T00:00:00.000Z'); // Sunday
    expect(iso(periodStart(Date.parse('2026-11-30T00:00:00Z'), 'week'))).toBe('2026-11-30T00:00:00.000Z'); // Monday
    expect(iso(periodStart(Date.parse('2026-12-31T23:00:00Z'), 'month'))).toBe('2026-12-01T00:00:00.000Z');
    const incidents = [at('2026-11-02T10:00:00.000Z'), at('2026-11-24T10:00:00.000Z', 'sev1'), at('2026-11-29T23:59:59.000Z', 'sev1')];
    const weeks = trendsOf(incidents, { by: 'week', to: '2026-12-01T00:00:00.000Z' }, Date.parse('2026-12-05T00:00:00Z'));
    expect(weeks.periods.map((p) => [p.period, p.all.count])).toEqual([['2026-11-02', 1], ['2026-11-09', 0], ['2026-11-16', 0], ['2026-11-23', 2], ['2026-11-30', 0]]);
    const months = trendsOf(incidents, { by: 'month', from: '2026-10-01T00:00:00.000Z' }, Date.parse('2026-12-05T00:00:00Z'));
    expect(months.periods.map((p) => [p.period, p.bySeverity.sev1!.count, p.bySeverity.sev2!.count])).toEqual([['2026-10', 0, 0], ['2026-11', 2, 1], ['2026-12', 0, 0]]);
    expect(trendsCsv(months).split('\r\n')[1]).toBe('2026-10,2026-10-01T00:00:00.000Z,2026-11-01T00:00:00.000Z,sev1,0,0,,,0,,,0,,,0,,');
  });

  it('leaves out durations that are not known: a missing start, an end before its start', () => {
    const t = trendsOf([
      at('2026-11-02T10:00:00.000Z', 'sev2', { detected: '2026-11-02T10:00:00Z' }),
      at('2026-11-03T10:00:00.000Z', 'sev2', { impactStarted: '2026-11-03T10:00:00Z', detected: '2026-11-03T09:00:00Z' }),
      at('2026-11-04T10:00:00.000Z', 'sev2', { impactStarted: '2026-11-04T10:00:00Z', detected: '2026-11-04T10:02:00Z' }),
    ], { by: 'month' }, Date.parse('2026-11-05T00:00:00Z'));
    expect(t.periods[0]!.all).toMatchObject({ count: 3, durations: { timeToDetect: { n: 1, median: 2 * MIN, p90: 2 * MIN } } });
  });
});
