/**
 * Milestones and durations in every export format (#18): the JSON under `milestones` and `durations`,
 * valid against the published schema, the exhaustive one and the schema as published before they were
 * added (consumers holding a copy of it keep validating); Markdown and HTML with a Milestones section;
 * the zip's incident.json; and `?at=` showing them as they were then.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { exportJsonSchema } from '../../shared/schema/export.js';
import type { IncidentMilestones } from '../../shared/schema/milestones.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { unzip } from '../helpers/zip.js';
import type { Report } from '../../server/export/report.js';

const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
const published = ajv.compile(exportJsonSchema());
const exhaustive = ajv.compile({ ...exportJsonSchema({ exhaustive: true }), $id: 'exhaustive' });
const beforeMilestones = ajv.compile({
  ...(JSON.parse(fs.readFileSync(new URL('./export-v1-before-milestones.json', import.meta.url), 'utf8')) as object),
  $id: 'before-milestones',
});

let server: TestServer;
let dana: { id: string; token: string };
let kim: { id: string; token: string };
let incidentId: string;
let midpoint: string;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const impact = minutesAgo(120);
const detected = minutesAgo(100);

const put = async (token: string, name: string, at?: string) => {
  const res = await server.api('PUT', `/api/incidents/${incidentId}/milestones/${encodeURIComponent(name)}`, { token, body: at ? { at } : {} });
  expect(res.status).toBe(200);
};
const exportAs = (format: string, at?: string) => server.api('GET', `/api/incidents/${incidentId}/export?format=${format}${at ? `&at=${encodeURIComponent(at)}` : ''}`, { token: kim.token });

beforeAll(async () => {
  server = await startTestServer();
  dana = await server.createUser('responder', 'dana');
  kim = await server.createUser('responder', 'kim');
  incidentId = (await server.createIncident(dana.token, { title: 'Packet loss ny-sw01' })).id;
  await put(dana.token, 'impactStarted', impact);
  await put(kim.token, 'detected', detected);
  await new Promise((r) => setTimeout(r, 20));
  midpoint = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  await put(kim.token, 'mitigated', '-10m');
  await put(dana.token, 'customers notified');
  await put(dana.token, 'resolved');
});
afterAll(async () => {
  await server.close();
});

describe('milestones in exports', () => {
  it('JSON: milestones as the API shows them, and durations; valid against the schema now and as published before', async () => {
    const r = (await (await exportAs('json')).json()) as Report;
    exhaustive(r);
    expect(exhaustive.errors ?? []).toEqual([]);
    expect(published(r)).toBe(true);
    expect(beforeMilestones(r), JSON.stringify(beforeMilestones.errors)).toBe(true);

    const api = (await (await server.api('GET', `/api/incidents/${incidentId}/milestones`, { token: kim.token })).json()) as IncidentMilestones;
    expect(r.milestones).toEqual(api.milestones);
    expect(r.milestones!.map((m) => [m.name, m.setBy.name, m.backfilled])).toEqual([
      ['impactStarted', 'dana', true],
      ['detected', 'kim', true],
      ['mitigated', 'kim', true],
      ['customers notified', 'dana', false],
      ['resolved', 'dana', false],
    ]);
    const ms = (name: string) => r.durations!.find((d) => d.name === name)!;
    expect(ms('timeToDetect')).toEqual({ name: 'timeToDetect', label: 'Time to detect', ms: Date.parse(detected) - Date.parse(impact), running: false });
    expect(ms('timeToAcknowledge')).toMatchObject({ problem: 'acknowledged is not set', running: false });
    expect(ms('timeToResolve').running).toBe(false);
    expect(r.impact.start).toBe(impact);
    expect(r.incident.status).toBe('resolved');
    expect(r.timeline.map((t) => t.what)).toEqual(expect.arrayContaining(['Milestone: Impact started (back-filled)', 'Milestone: customers notified', 'Incident resolved']));
    expect(r.timeline.map((t) => t.what)).not.toContain('Milestone: Resolved');
  });

  it('as of an earlier moment: only the milestones set by then, and the durations running to that moment', async () => {
    const r = (await (await exportAs('json', midpoint)).json()) as Report;
    exhaustive(r);
    expect(exhaustive.errors ?? []).toEqual([]);
    expect(r.milestones!.map((m) => m.name)).toEqual(['impactStarted', 'detected']);
    expect(r.incident.status).toBe('investigating');
    expect(r.durations!.find((d) => d.name === 'timeToMitigate')).toEqual({
      name: 'timeToMitigate', label: 'Time to mitigate', ms: Date.parse(r.asOf) - Date.parse(impact), running: true,
    });
  });

  it('Markdown and HTML: a Milestones section with times, who set each, back-filled marks and durations', async () => {
    const md = await (await exportAs('md')).text();
    const section = md.slice(md.indexOf('## Milestones'), md.indexOf('## What we know'));
    expect(section).toContain('| Time (UTC) | Milestone | Set by |');
    expect(section).toContain(`| ${impact.slice(0, 19).replace('T', ' ')}Z | Impact started | dana at `);
    expect(section).toMatch(/\| Detected \| kim at [^|]+\(back-filled\) \|/);
    expect(section).toMatch(/\| customers notified \| dana at [^|]+Z \|/);
    expect(section).toContain('| Time to detect | 20m 00s |');
    expect(section).toContain('| Time to acknowledge | — acknowledged is not set |');

    const html = await (await exportAs('html')).text();
    expect(html).toContain('<h2>Milestones</h2>');
    expect(html).toMatch(/<td>Mitigated<\/td>\s*<td>kim at [^<]+\(back-filled\)<\/td>/);
    expect(html).toContain('<td>Time to detect</td>');
  });

  it('the zip bundle carries them in incident.json and report.md', async () => {
    const zip = Buffer.from(await (await exportAs('zip')).arrayBuffer());
    const files = await unzip(zip);
    const r = JSON.parse(files.get('incident.json')!.toString()) as Report;
    expect(r.milestones!.map((m) => m.name)).toEqual(['impactStarted', 'detected', 'mitigated', 'customers notified', 'resolved']);
    expect(r.durations).toHaveLength(4);
    expect(files.get('report.md')!.toString()).toContain('## Milestones');
  });
});
