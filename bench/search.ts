/**
 * Search (#19) over 1,000 incidents × 200 entries (200,000 entries): query latency p50/p99 through
 * `GET /api/search` (target p99 ≤ 50 ms), freshness (an entry written through the stock provider
 * until search finds it), the index's build time at start and its memory — beside a plain scan of
 * the same records in the same run (every record's text lower-cased and searched for each word).
 *
 * Seeding: a server of our own in this process writes each incident's 200 entries as one server
 * change (one record in its log), then closes; the same data directory is then served by a server in
 * its own process, which builds its index at start (timed) and answers the queries (one at a time,
 * over loopback). The memory of the index alone is measured here, in this process, by building the
 * same index from the same records with the garbage collector run before and after.
 *
 * Part of `npm run bench -- --only=search`; alone: node --import tsx bench/search.ts [incidents] [entries]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startServer } from '../server/app.js';
import { configFromEnv } from '../server/config.js';
import { MemorySearchEngine } from '../server/search/embedded/memory-engine.js';
import type { SearchEngine } from '../server/search/search-engine.js';
import { MiniSearchEngine } from './peers/minisearch-engine.js';
import { searchDocsOf, type SearchDoc } from '../server/search/search-documents.js';
import { createEntry, type EntryKind } from '../shared/schema/doc.js';
import { parseQuery, wordsOf, type SearchAnswer } from '../shared/search.js';
import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { MessageType } from '../shared/protocol.js';
import { startChildServer } from '../test/helpers/child-server.js';
import { ADMIN, cpuShares, quietMachine, freePort, machine, progress, sleep, stats, type Stats, formatMs, runAlone } from './lib.js';
import * as Y from 'yjs';

export interface SearchCase {
  name: string;
  query: string;
  who: 'viewer' | 'member';
  ms: Stats;
  /** Matches in all (the answer's total). */
  total: number;
  /** The same query by a plain scan of the same records, in this process. */
  scanMs: Stats;
  /** The same query on MiniSearch holding the same records, in this process. */
  miniSearchMs: Stats;
  /** The same query on PostgreSQL full-text search holding the same records (engine only), when measured. */
  postgresMs?: Stats;
}

export interface EngineBuild {
  name: string;
  /** Building the index from the records in this process. */
  buildMs: number;
  heapMiB: number;
}

export interface SearchBenchResult {
  machine: string;
  at: string;
  incidents: number;
  entriesPerIncident: number;
  records: number;
  restricted: number;
  buildMs: number;
  engines: EngineBuild[];
  textMiB: number;
  serverRssMiB: number;
  freshness: Stats;
  /** PostgreSQL full-text search, the several-node mode's engine: bulk load of the same records. */
  postgres?: { loadMs: number; tableMiB: number };
  cases: SearchCase[];
  othersCpu: number;
  command: string;
}

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

const SITES = ['ny', 'ams', 'fra', 'lon', 'sjc', 'sin', 'syd', 'gru'];
const ROLES = ['edge', 'core', 'agg', 'sw', 'fw', 'lb', 'db', 'api', 'cache', 'vpn'];
const COMMANDS = [
  (h: string, ip: string) => `ping -c 20 ${ip}`,
  (h: string) => `show bgp neighbors ${h}`,
  (h: string) => `mtr -rwzc 50 ${h}`,
  (h: string) => `ssh ${h} 'show interfaces counters errors'`,
  (h: string) => `dig @${h} checkout.example.com +trace`,
  (h: string) => `curl -sv https://${h}/healthz`,
  (h: string) => `kubectl -n payments get pods -o wide --context ${h}`,
  (h: string) => `journalctl -u haproxy --since -1h on ${h}`,
  (h: string, ip: string) => `tcpdump -ni eth0 host ${ip} -c 1000`,
];
const ERRORS = ['connection refused', 'timed out after 30 s', 'HTTP 503 from upstream', 'CRC errors rising', 'BGP state Idle', 'packet loss 12%', 'TLS handshake failure', 'no route to host', 'OOMKilled', 'disk 98% full'];

/** A vocabulary of made-up words with a long tail, as real notes have. */
function vocabulary(rnd: () => number, n = 6000): string[] {
  const syllables = ['ka', 'lo', 'mi', 'ter', 'sun', 'ro', 'va', 'nex', 'pol', 'ri', 'da', 'quo', 'ble', 'fen', 'gri', 'hu', 'jo', 'wex'];
  const words = new Set<string>();
  while (words.size < n) {
    let w = '';
    const k = 2 + Math.floor(rnd() * 3);
    for (let i = 0; i < k; i++) w += syllables[Math.floor(rnd() * syllables.length)];
    words.add(w);
  }
  return [...words];
}

interface Seeded {
  incidents: number;
  restricted: number;
  records: SearchDoc[];
  incidentIds: string[];
}

async function seed(dataDir: string, n: number, perIncident: number): Promise<Seeded & { viewer: string; member: string; writer: string }> {
  const rnd = random(19);
  const words = vocabulary(rnd);
  const zipf = () => words[Math.floor(words.length * Math.pow(rnd(), 3))]!;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const server = await startServer(configFromEnv({ DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN, LOG_LEVEL: 'warn', PORT: '0' }));
  const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(server.url + p, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  };
  const lead = await call<{ id: string; token: string }>('POST', '/api/users', { name: 'lead', role: 'responder' });
  const member = await call<{ id: string; token: string }>('POST', '/api/users', { name: 'member', role: 'responder' });
  const viewer = await call<{ id: string; token: string }>('POST', '/api/users', { name: 'viewer', role: 'viewer' });
  const records: SearchDoc[] = [];
  const incidentIds: string[] = [];
  let restricted = 0;
  const kinds: EntryKind[] = ['test', 'test', 'test', 'note', 'action'];
  for (let i = 0; i < n; i++) {
    const site = pick(SITES);
    const host = `${site}-${pick(ROLES)}${1 + Math.floor(rnd() * 20)}`;
    const members = i % 10 === 0 ? [member.id] : undefined;
    if (members) restricted++;
    const incident = await call<{ id: string }>('POST', '/api/incidents', { title: `${pick(ERRORS)} on ${host}`, severity: pick(['sev1', 'sev2', 'sev3', 'sev4']), ...(members ? { members: [lead.id, ...members] } : {}) });
    incidentIds.push(incident.id);
    const room = await server.rooms.open(incident.id);
    const base = Date.now() - Math.floor(rnd() * 365 * 86_400_000);
    await room.applyServerChange(lead.id, (doc) => {
      for (let e = 0; e < perIncident; e++) {
        const h = rnd() < 0.6 ? host : `${pick(SITES)}-${pick(ROLES)}${1 + Math.floor(rnd() * 20)}`;
        const ip = `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`;
        const sentence = (k: number) => Array.from({ length: k }, zipf).join(' ');
        createEntry(doc, {
          kind: e === perIncident - 1 ? 'conclusion' : pick(kinds),
          title: `${sentence(3)} ${h}`,
          ranAt: new Date(base + e * 60_000).toISOString(),
          command: pick(COMMANDS)(h, ip),
          observations: `${sentence(12)}; ${pick(ERRORS)}. ${sentence(10)}`,
          conclusion: rnd() < 0.3 ? sentence(6) : '',
        });
      }
    });
    const docCopy = new Y.Doc();
    Y.applyUpdate(docCopy, Y.encodeStateAsUpdate(room.doc));
    records.push(...searchDocsOf({ incidentId: incident.id, seq: 1, doc: docCopy, createdAt: new Date().toISOString(), restricted: Boolean(members), alerts: [], attachments: [] }).docs);
    docCopy.destroy();
    if (i % 100 === 99) progress(`search: seeded ${i + 1} incidents`);
  }
  await server.close();
  return { incidents: n, restricted, records, incidentIds, viewer: viewer.token, member: member.token, writer: lead.token };
}

/** The whole heap after a full collection (this process must have --expose-gc set at run time). */
function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** The baseline: every record's text, lower-cased once, searched for each word and phrase. */
function plainScan(texts: Array<{ text: string; restricted: boolean }>, query: string, member: boolean): number {
  const q = parseQuery(query);
  const needles = [...q.words, ...q.phrases];
  let n = 0;
  for (const t of texts) {
    if (t.restricted && !member) continue;
    if (needles.every((w) => t.text.includes(w)) && !q.exclude.some((x) => t.text.includes(x))) n++;
  }
  return n;
}

export async function searchBench(opts: { incidents?: number; entries?: number; requests?: number; postgres?: boolean } = {}): Promise<SearchBenchResult> {
  const n = opts.incidents ?? 1000;
  const perIncident = opts.entries ?? 200;
  const requests = opts.requests ?? 200;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-search-bench-'));
  progress(`search: seeding ${n} incidents × ${perIncident} entries`);
  const seeded = await seed(dataDir, n, perIncident);
  const restrictedIds = new Set(seeded.incidentIds.filter((_, i) => i % 10 === 0));

  // Each engine's memory and build time, alone: built here from the same records.
  const textBytes = seeded.records.reduce((s, r) => s + r.title.length + r.body.length, 0);
  const byIncident = new Map<string, SearchDoc[]>();
  for (const r of seeded.records) {
    let list = byIncident.get(r.incidentId);
    if (!list) byIncident.set(r.incidentId, (list = []));
    list.push(r);
  }
  const engines: EngineBuild[] = [];
  const build = async (name: string, engine: SearchEngine) => {
    const before = heapAfterGc();
    const t0 = performance.now();
    for (const [incidentId, docs] of byIncident) await engine.put({ incidentId, seq: 1, docs, labels: [], restricted: restrictedIds.has(incidentId) });
    const buildMs = performance.now() - t0;
    const heap = heapAfterGc() - before;
    engines.push({ name, buildMs, heapMiB: heap / 2 ** 20 });
    progress(`search: ${name}: ${seeded.records.length} records in ${(buildMs / 1000).toFixed(1)} s, ${(heap / 2 ** 20).toFixed(0)} MiB of heap`);
  };
  const miniSearch = new MiniSearchEngine();
  await build('MiniSearch 7 (rejected)', miniSearch);
  const ours = new MemorySearchEngine();
  await build('ours (server/search/embedded)', ours);
  await ours.close();

  const texts = seeded.records.map((r) => ({ text: `${r.title}\n${r.body}`.toLowerCase().replace(/\s+/g, ' '), restricted: restrictedIds.has(r.incidentId) }));
  const port = await freePort();
  const started = performance.now();
  // One reader asks hundreds of queries back to back: past their time share they would wait (429).
  const server = await startChildServer({ DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN, LOG_LEVEL: 'warn', PORT: String(port), USER_TIME_SHARE: '100' });
  try {
    const ask = async (token: string, q: string, retried = false): Promise<{ ms: number; answer: SearchAnswer }> => {
      const t0 = performance.now();
      // A keep-alive connection the server closed while idle (over 5 s of in-process comparisons): once more on a new one.
      const res = await fetch(`${server.url}/api/search?q=${encodeURIComponent(q)}&limit=20`, { headers: { authorization: `Bearer ${token}` } }).catch((err: Error) => {
        if (retried) throw err;
        return undefined;
      });
      if (!res) return ask(token, q, true);
      const body = await res.text();
      const ms = performance.now() - t0;
      if (!res.ok) throw new Error(`${q}: ${res.status} ${body}`);
      return { ms, answer: JSON.parse(body) as SearchAnswer };
    };
    // Built when the answer stops saying "indexing".
    while ((await ask(seeded.viewer, 'probe')).answer.indexing) await sleep(100);
    const buildMs = performance.now() - started;
    progress(`search: the server's index was ready ${(buildMs / 1000).toFixed(1)} s after it was started`);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server.process.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

    // Words that occur: a common one, a rarer one, a host, an address prefix, a phrase, filters.
    const common = wordsOf(seeded.records[5]!.body)[0]!;
    const rare = wordsOf(seeded.records[12_345 % seeded.records.length]!.body).slice(-2)[0]!;
    const host = /\b([a-z]{2,3}-[a-z]+\d+)\b/.exec(seeded.records[7]!.title)![1]!;
    const cases: Array<Omit<SearchCase, 'ms' | 'total' | 'scanMs' | 'miniSearchMs'>> = [
      { name: 'one common word', query: common, who: 'viewer' },
      { name: 'one rare word', query: rare, who: 'viewer' },
      { name: 'a host', query: host, who: 'viewer' },
      { name: 'two words', query: `${host} refused`, who: 'viewer' },
      { name: 'a phrase', query: '"connection refused"', who: 'viewer' },
      { name: 'word, exclusion, severity filter', query: `${common} -timed severity:sev1,sev2`, who: 'viewer' },
      { name: 'a prefix (typing)', query: rare.slice(0, 4), who: 'viewer' },
      { name: 'two words, member of the restricted', query: `${host} refused`, who: 'member' },
    ];
    await quietMachine();
    const shares = cpuShares();
    const out: SearchCase[] = [];
    for (const c of cases) {
      const token = c.who === 'member' ? seeded.member : seeded.viewer;
      for (let i = 0; i < 10; i++) await ask(token, c.query);
      const times: number[] = [];
      let total = 0;
      for (let i = 0; i < requests; i++) {
        const r = await ask(token, c.query);
        times.push(r.ms);
        total = r.answer.total;
      }
      const scans: number[] = [];
      for (let i = 0; i < Math.min(requests, 30); i++) {
        const t0 = performance.now();
        plainScan(texts, c.query, c.who === 'member');
        scans.push(performance.now() - t0);
      }
      const mini: number[] = [];
      const parsed = parseQuery(c.query);
      const scope = { incidents: new Set(seeded.incidentIds.filter((id) => c.who === 'member' || !restrictedIds.has(id))) };
      for (let i = 0; i < Math.min(requests, 30); i++) {
        const t0 = performance.now();
        await miniSearch.search(parsed, scope, 20);
        mini.push(performance.now() - t0);
      }
      const result = { ...c, ms: stats(times), total, scanMs: stats(scans), miniSearchMs: stats(mini) };
      out.push(result);
      progress(`search: ${c.name} (${c.query}): p50 ${result.ms.p50.toFixed(1)} ms, p99 ${result.ms.p99.toFixed(1)} ms, ${total} matches; plain scan p50 ${result.scanMs.p50.toFixed(0)} ms, MiniSearch p50 ${result.miniSearchMs.p50.toFixed(0)} ms`);
    }

    await miniSearch.close();

    // Freshness: an entry written through the stock provider, until search finds it.
    const fresh: number[] = [];
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(`${server.url.replace(/^http/, 'ws')}/collab`, seeded.incidentIds[1]!, doc, {
      params: { token: seeded.writer },
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    });
    let durable = new Map<number, number>();
    provider.messageHandlers[MessageType.persisted] = (_encoder, decoder) => {
      durable = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
    };
    while (!provider.synced) await sleep(10);
    const saved = async () => {
      while ((durable.get(doc.clientID) ?? 0) < (Y.decodeStateVector(Y.encodeStateVector(doc)).get(doc.clientID) ?? 0)) await sleep(2);
    };
    for (let i = 0; i < 20; i++) {
      const word = `freshword${i}x${Math.random().toString(36).slice(2, 8)}`;
      createEntry(doc, { kind: 'test', title: `probe ${word}`, ranAt: new Date().toISOString() });
      await saved();
      const t0 = performance.now();
      while ((await ask(seeded.writer, word)).answer.total === 0) await sleep(10);
      fresh.push(performance.now() - t0);
    }
    provider.destroy();
    doc.destroy();

    const postgres = opts.postgres === false ? undefined : await postgresCases(seeded.records, restrictedIds, seeded.incidentIds, out, requests);
    return {
      machine: machine(),
      at: new Date().toISOString(),
      postgres,
      incidents: n,
      entriesPerIncident: perIncident,
      records: seeded.records.length,
      restricted: seeded.restricted,
      buildMs,
      engines,
      textMiB: textBytes / 2 ** 20,
      serverRssMiB: rss / 2 ** 20,
      freshness: stats(fresh),
      cases: out,
      othersCpu: shares().othersCores,
      command: 'npm run bench -- --only=search',
    };
  } finally {
    server.process.kill('SIGTERM');
    await server.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The several-node mode's engine on the same records: a PostgreSQL of its own, the same queries in-process. */
async function postgresCases(records: SearchDoc[], restrictedIds: Set<string>, incidentIds: string[], cases: SearchCase[], requests: number): Promise<SearchBenchResult['postgres']> {
  const { startPostgres } = await import('../cluster/engines.js');
  const { openDatabase } = await import('../server/storage/postgres/database.js');
  const { PgSearchEngine } = await import('../server/search/postgres/pg-search-engine.js');
  const server = await startPostgres();
  const db = await openDatabase(server.url);
  try {
    const engine = new PgSearchEngine(db.pool);
    const byIncident = new Map<string, SearchDoc[]>();
    for (const r of records) {
      let list = byIncident.get(r.incidentId);
      if (!list) byIncident.set(r.incidentId, (list = []));
      list.push(r);
    }
    const t0 = performance.now();
    for (const [incidentId, docs] of byIncident) await engine.put({ incidentId, seq: 1, docs, labels: [], restricted: restrictedIds.has(incidentId) });
    await db.pool.query('VACUUM ANALYZE search_docs');
    const loadMs = performance.now() - t0;
    const size = await db.pool.query<{ b: string }>("SELECT pg_total_relation_size('search_docs') AS b");
    progress(`search: PostgreSQL loaded ${records.length} records in ${(loadMs / 1000).toFixed(1)} s`);
    for (const c of cases) {
      const parsed = parseQuery(c.query);
      const scope = { incidents: new Set(incidentIds.filter((id) => c.who === 'member' || !restrictedIds.has(id))) };
      // Severity filters are the service's (the catalog's); the engine gets the same scope for every case.
      for (let i = 0; i < 5; i++) await engine.search(parsed, scope, 20);
      const times: number[] = [];
      for (let i = 0; i < Math.min(requests, 100); i++) {
        const t = performance.now();
        await engine.search(parsed, scope, 20);
        times.push(performance.now() - t);
      }
      c.postgresMs = stats(times);
      progress(`search: PostgreSQL ${c.name}: p50 ${c.postgresMs.p50.toFixed(1)} ms, p99 ${c.postgresMs.p99.toFixed(1)} ms`);
    }
    return { loadMs, tableMiB: Number(size.rows[0]!.b) / 2 ** 20 };
  } finally {
    await db.close();
    await server.destroy();
  }
}

export function searchMarkdown(r: SearchBenchResult): string {
  const f = formatMs;
  const lines = [
    `### Search: ${r.incidents.toLocaleString('en')} incidents × ${r.entriesPerIncident} entries (${r.records.toLocaleString('en')} records, ${r.restricted} incidents restricted), embedded index`,
    '',
    `\`${r.command}\`, ${r.at}. Machine: ${r.machine}. Other processes used ${r.othersCpu.toFixed(2)} cores meanwhile.`,
    `Index build at start (server started → first answer without \`indexing\`, documents read from disk included): **${(r.buildMs / 1000).toFixed(1)} s**; the server's RSS once built: ${r.serverRssMiB.toFixed(0)} MiB. ${r.textMiB.toFixed(0)} MiB of text. Each engine built alone in the bench process from the same records: ${r.engines.map((e) => `${e.name} ${(e.buildMs / 1000).toFixed(1)} s, **${e.heapMiB.toFixed(0)} MiB** of heap`).join('; ')}.`,
    `Freshness (an entry saved through the stock provider → found by \`GET /api/search\`, 20 entries): p50 ${f(r.freshness.p50)} ms, p99 ${f(r.freshness.p99)} ms, max ${f(r.freshness.max)} ms (target ≤ 2 s; \`SEARCH_DELAY_MS\` = 250 ms of it).`,
    'Queries one at a time over loopback, 20 results each; times to the whole answer read. Target ≤ 50 ms p99. The plain scan runs the same words over the same records\' lower-cased text in the bench process (no ranking, no snippets); MiniSearch answers the same query in the bench process (engine only: no HTTP, no snippets).',
    '',
    ...(r.postgres ? [`PostgreSQL full-text search (the several-node mode's engine, migration 005) loaded the same records in ${(r.postgres.loadMs / 1000).toFixed(1)} s (${r.postgres.tableMiB.toFixed(0)} MiB with its GIN index); its column is the engine alone, in this process, over a local socket.`, ''] : []),
    '| query | as | matches | ours, over HTTP: p50 / p90 / p99 / max (ms) | plain scan p50 / p99 (ms) | MiniSearch p50 / p99 (ms) | PostgreSQL p50 / p99 (ms) |',
    '|---|---|---:|---|---|---|---|',
  ];
  for (const c of r.cases) {
    lines.push(`| ${c.name}: \`${c.query}\` | ${c.who} | ${c.total.toLocaleString('en')} | ${f(c.ms.p50)} / ${f(c.ms.p90)} / ${f(c.ms.p99)} / ${f(c.ms.max)} | ${f(c.scanMs.p50)} / ${f(c.scanMs.p99)} | ${f(c.miniSearchMs.p50)} / ${f(c.miniSearchMs.p99)} | ${c.postgresMs ? `${f(c.postgresMs.p50)} / ${f(c.postgresMs.p99)}` : '—'} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [incidents, entries] = process.argv.slice(2).map(Number);
  await runAlone('search', () => searchBench({ incidents: incidents || undefined, entries: entries || undefined }), searchMarkdown);
}
