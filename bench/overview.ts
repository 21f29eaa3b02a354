/**
 * The incidents overview and trends (#18) over 2,000 incidents: `GET /api/incidents` with and without
 * filters and sorts, `GET /api/trends` per week and per month, JSON and CSV. Target: ≤ 200 ms p99.
 *
 * The 2,000 incidents are written into the catalog as the server keeps them once their milestones are
 * mirrored from their documents (the overview and trends read only the catalog, never a document):
 * a server of our own is started in this process on a fresh data directory, the records are added
 * through its store, it is closed, and then the same data directory is served by a server in its own
 * process, which the requests time (one at a time, from here, over loopback).
 *
 * Part of `npm run bench -- --only=overview`; alone: node --import tsx bench/overview.ts [incidents] [requests]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer } from '../server/app.js';
import { configFromEnv } from '../server/config.js';
import type { IncidentRecord } from '../server/store/metadata.js';
import { IncidentStatuses, Severities, type Severity } from '../shared/model.js';
import { startChildServer } from '../test/helpers/child-server.js';
import { ADMIN, cpuShares, freePort, machine, progress, sleep, stats, type Stats, formatMs, runAlone } from './lib.js';

export interface OverviewCase {
  name: string;
  path: string;
  who: 'viewer' | 'member';
  ms: Stats;
  bytes: number;
  /** Incidents in the answer (list) or periods (trends). */
  items: number;
}

export interface OverviewResult {
  machine: string;
  at: string;
  incidents: number;
  restricted: number;
  requests: number;
  cases: OverviewCase[];
  othersCpu: number;
  command: string;
}

/** What other processes used over `ms` (cores). */
async function quietMachine(_cores: number, ms: number): Promise<number> {
  const shares = cpuShares();
  await sleep(ms);
  return shares().othersCores;
}

const DAY = 86_400_000;
const MIN = 60_000;

/** A deterministic generator, so every run measures the same incidents. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['Packet loss on', 'Latency on', 'BGP flap on', 'DNS failures in', 'Disk full on', 'TLS expiry on', '5xx from', 'Login errors on', 'Queue backlog in', 'Checkout slow in'];
const PLACES = ['ny-sw01', 'ams-core1', 'fra-edge2', 'lon-agg3', 'api-gw', 'search', 'payments', 'sjc-dc2', 'vpn01', 'logs01'];

function incidentsFor(n: number, createdBy: string, memberId: string, now: number): IncidentRecord[] {
  const rnd = random(18);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const out: IncidentRecord[] = [];
  for (let i = 0; i < n; i++) {
    const created = now - Math.floor(rnd() * 365 * DAY);
    const severity: Severity = rnd() < 0.1 ? 'sev1' : rnd() < 0.35 ? 'sev2' : rnd() < 0.7 ? 'sev3' : 'sev4';
    const resolved = created < now - 2 * DAY || rnd() < 0.5;
    const status = resolved ? 'resolved' : pick(IncidentStatuses.slice(0, 3));
    const impact = created - Math.floor(rnd() * 30 * MIN);
    const milestones: Record<string, string> = {};
    const at = (ms: number) => new Date(Math.min(ms, now)).toISOString();
    if (rnd() > 0.05) milestones.impactStarted = at(impact);
    const detected = impact + Math.floor(rnd() * 40 * MIN);
    milestones.detected = at(detected);
    if (rnd() > 0.2) milestones.acknowledged = at(detected + Math.floor(rnd() * 10 * MIN));
    const mitigated = detected + Math.floor(rnd() * 3 * 60 * MIN);
    if (resolved || rnd() < 0.5) milestones.mitigated = at(mitigated);
    const resolvedAt = mitigated + Math.floor(rnd() * 12 * 60 * MIN);
    if (resolved) milestones.resolved = at(resolvedAt);
    out.push({
      id: `bench${String(i).padStart(5, '0')}`,
      title: `${pick(WORDS)} ${pick(PLACES)} #${i}`,
      severity,
      status,
      createdAt: new Date(created).toISOString(),
      createdBy,
      resolvedAt: resolved ? at(resolvedAt) : null,
      ...(i % 10 === 0 ? { members: [createdBy, memberId] } : {}),
      milestones,
    } as IncidentRecord);
  }
  return out;
}

export async function overviewBench(opts: { incidents?: number; requests?: number } = {}): Promise<OverviewResult> {
  const n = opts.incidents ?? 2000;
  const requests = opts.requests ?? 300;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-overview-bench-'));
  const env = { DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN, LOG_LEVEL: 'warn' };

  // Seed: users through the API, incidents into the catalog, on a server of our own.
  progress(`overview: seeding ${n} incidents`);
  const seeding = await startServer(configFromEnv({ ...env, PORT: '0' }));
  const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(seeding.url + p, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  };
  const lead = await call<{ id: string; token: string }>('POST', '/api/users', { name: 'lead', role: 'responder' });
  const member = await call<{ id: string; token: string }>('POST', '/api/users', { name: 'member', role: 'responder' });
  const viewer = await call<{ id: string; token: string }>('POST', '/api/users', { name: 'viewer', role: 'viewer' });
  const records = incidentsFor(n, lead.id, member.id, Date.now());
  for (let i = 0; i < records.length; i += 200) await Promise.all(records.slice(i, i + 200).map((r) => seeding.store.addIncident(r)));
  await seeding.close();

  const server = await startChildServer({ ...env, PORT: String(await freePort()) });
  try {
    const tokens = { viewer: viewer.token, member: member.token };
    const cases: Array<Omit<OverviewCase, 'ms' | 'bytes' | 'items'>> = [
      { name: 'list, everything (plain array)', path: '/api/incidents', who: 'viewer' },
      { name: 'list, everything, member of the restricted', path: '/api/incidents', who: 'member' },
      { name: 'list as the web app asks for it: first 200', path: '/api/incidents?view=page&limit=200', who: 'viewer' },
      { name: 'list, 4 filters + sort by TTR, page of 50', path: '/api/incidents?status=resolved&severity=sev1,sev2&from=2020-01-01&q=packet&sort=-timeToResolve&view=page&limit=50', who: 'viewer' },
      { name: 'list, sort by TTD, first 100', path: '/api/incidents?sort=timeToDetect&limit=100', who: 'member' },
      { name: 'trends per week', path: '/api/trends?by=week', who: 'viewer' },
      { name: 'trends per week, member', path: '/api/trends?by=week', who: 'member' },
      { name: 'trends per month, sev1+sev2', path: '/api/trends?by=month&severity=sev1,sev2', who: 'viewer' },
      { name: 'trends per week, CSV', path: '/api/trends?by=week&format=csv', who: 'viewer' },
    ];
    // Wait a little for a quieter machine (up to ~30 s: it is shared), and report what others used anyway.
    for (let i = 0; i < 15 && (await quietMachine(0.1, 2000)) >= 0.1; i++);
    const shares = cpuShares();
    const results: OverviewCase[] = [];
    for (const c of cases) {
      const headers = { authorization: `Bearer ${tokens[c.who]}` };
      let bytes = 0;
      let items = 0;
      const once = async () => {
        const t0 = performance.now();
        const res = await fetch(server.url + c.path, { headers });
        const body = await res.text();
        const ms = performance.now() - t0;
        if (!res.ok) throw new Error(`${c.path}: ${res.status} ${body}`);
        bytes = body.length;
        if (c.path.includes('format=csv')) items = body.split('\r\n').length - 2;
        else {
          const parsed = JSON.parse(body) as unknown[] | { incidents?: unknown[]; periods?: unknown[]; total?: number };
          items = Array.isArray(parsed) ? parsed.length : (parsed.incidents?.length ?? parsed.periods?.length ?? 0);
        }
        return ms;
      };
      for (let i = 0; i < 20; i++) await once(); // warm-up
      const times: number[] = [];
      for (let i = 0; i < requests; i++) times.push(await once());
      const result = { ...c, ms: stats(times), bytes, items };
      results.push(result);
      progress(`overview: ${c.name}: p50 ${result.ms.p50.toFixed(1)} ms, p99 ${result.ms.p99.toFixed(1)} ms`);
    }
    return {
      machine: machine(),
      at: new Date().toISOString(),
      incidents: n,
      restricted: records.filter((r) => r.members).length,
      requests,
      cases: results,
      othersCpu: shares().othersCores,
      command: 'npm run bench -- --only=overview',
    };
  } finally {
    server.process.kill('SIGTERM');
    await server.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export function overviewMarkdown(r: OverviewResult): string {
  const f = formatMs;
  const lines = [
    `### Incidents overview and trends: ${r.incidents.toLocaleString('en')} incidents (${r.restricted} restricted), ${r.requests} requests per case`,
    '',
    `\`${r.command}\`, ${r.at}. Machine: ${r.machine}. Other processes used ${r.othersCpu.toFixed(2)} cores meanwhile.`,
    'One request at a time over loopback from the bench process to a server in its own process; times are to the whole answer read. Target ≤ 200 ms p99.',
    '',
    '| request | as | answer | p50 / p90 / p99 / max (ms) |',
    '|---|---|---:|---|',
  ];
  for (const c of r.cases) {
    const what = c.path.startsWith('/api/trends') ? `${c.items} ${c.path.includes('csv') ? 'rows' : 'periods'}` : `${c.items} incidents`;
    lines.push(`| ${c.name}: \`${c.path}\` | ${c.who} | ${what}, ${(c.bytes / 1024).toFixed(0)} KiB | ${f(c.ms.p50)} / ${f(c.ms.p90)} / ${f(c.ms.p99)} / ${f(c.ms.max)} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [incidents, requests] = process.argv.slice(2).map(Number);
  await runAlone('overview', () => overviewBench({ incidents: incidents || undefined, requests: requests || undefined }), overviewMarkdown);
}
