/**
 * `npm run bench`: Bridgelog side by side with the servers people would pick instead — the reference
 * y-websocket server and Hocuspocus — on the same workloads, one server after another, each in its
 * own process on a fresh port. Prints Markdown for BENCHMARKS.md; raw numbers go to .bench/.
 *
 *   --quick              a smoke run (small sizes, 5 s runs, no cluster unless named in --only; about 2 minutes)
 *   --only=a,b           some of: fanout, writers, join, memory, export, capture, replay, cluster
 *                        (cluster: three Bridgelog nodes and three Hocuspocus instances on PostgreSQL,
 *                        Redis and HAProxy from Debian's packages; runs the compiled server: npm run build first)
 *   --readers=a,b        fan-out sizes instead of the plan's (e.g. --only=fanout --readers=1000,2000)
 *   --repeats=n          runs per server of each fan-out, many-writers and cluster load
 *   --profile            V8 CPU profiles of every server into .bench/profiles/ (summarize with profile-summary.ts)
 *   --report=<json>      print the Markdown of an earlier run from its raw numbers
 *   BENCH_DRAIN_MS=n     how long after the last send deliveries still count (default 3000)
 *   --only=overview      the incidents overview and trends over 2,000 incidents (#18; not in the default set)
 *   --only=search        search over 1,000 incidents × 200 entries, beside a plain scan (#19; not in the default set)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { captureBench } from './capture.js';
import { clusterBench, clusterPlan } from './cluster.js';
import { buildIncident, coldJoinFromDisk, coldJoinInMemory, type ColdJoinResult } from './cold-join.js';
import { exportBench, type ExportResult } from './export.js';
import { fanout, pool, type FanoutResult, type FanoutRun, type LoadShape } from './fanout.js';
import { bareFdatasync, machine, mayWaitForQuiet, progress, quietMachine } from './lib.js';
import { memory, type MemoryResult } from './memory.js';
import { replayInChild } from './replay.js';
import { renderReport, type BenchResults, type Plan } from './report.js';
import { SERVER_KINDS, ServerUnderTest, type ServerKind } from './servers.js';

const args = process.argv.slice(2);
const rerender = args.find((a) => a.startsWith('--report='))?.slice('--report='.length);
if (rerender) {
  console.log(renderReport(JSON.parse(fs.readFileSync(rerender, 'utf8')) as BenchResults));
  process.exit(0);
}
const quick = args.includes('--quick');
// --quick leaves the cluster out (it adds about 2 minutes): `--quick --only=cluster` smokes it alone.
const scenarios =
  args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',') ??
  ['fanout', 'writers', 'join', 'memory', 'export', 'capture', 'replay', ...(quick ? [] : ['cluster'])];
const plan: Plan = quick
  ? { readers: [200], seconds: 5, repeats: 1, writers: { writers: 10, rate: 5, readers: 100, seconds: 5 }, entries: 1_000, updates: 10_000, latecomers: 10, idleDocs: 100, exportIncidents: [{ entries: 1_000, screenshots: 40 }, { entries: 1_000, screenshots: 120 }], cluster: clusterPlan(true) }
  : { readers: [200, 1000, 2000], seconds: 15, repeats: 2, writers: { writers: 50, rate: 5, readers: 500, seconds: 15 }, entries: 10_000, updates: 100_000, latecomers: 100, idleDocs: 1000, exportIncidents: [{ entries: 5_000, screenshots: 200 }, { entries: 5_000, screenshots: 600 }], cluster: clusterPlan(false) };
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
if (option('readers')) plan.readers = option('readers')!.split(',').map(Number);
if (option('repeats')) plan.repeats = plan.cluster!.repeats = Number(option('repeats'));

fs.mkdirSync('.bench', { recursive: true });
if (args.includes('--profile')) ServerUnderTest.profileDir = path.resolve('.bench/profiles', new Date().toISOString().replace(/[:.]/g, '-'));
const startedAt = new Date();
const loadAverage = os.loadavg();

// The incidents overview and trends (#18) stand apart: one in-process seeding and one server, no peers.
// `--only=overview` runs them alone and prints their own section (raw numbers in .bench/overview.json).
if (scenarios.includes('overview')) {
  const { overviewBench, overviewMarkdown } = await import('./overview.js');
  const overview = await overviewBench(quick ? { incidents: 2000, requests: 50 } : {});
  fs.writeFileSync('.bench/overview.json', JSON.stringify(overview, null, 2));
  console.log(overviewMarkdown(overview));
  if (scenarios.length === 1) process.exit(0);
}
if (scenarios.includes('search')) {
  const { searchBench, searchMarkdown } = await import('./search.js');
  const result = await searchBench(quick ? { incidents: 100, entries: 50, requests: 30 } : {});
  fs.writeFileSync('.bench/search.json', JSON.stringify(result, null, 2));
  console.log(searchMarkdown(result));
  if (scenarios.every((s) => s === 'search' || s === 'overview')) process.exit(0);
}

/** Other processes using more CPU than this during a run disturbed it: it is run again (twice at most). */
const DISTURBED_CORES = 0.15;

/** One run on a fresh server, started when the machine is quiet; run again if someone else's work disturbed it. */
async function fanoutRun(kind: ServerKind, shape: LoadShape, label: string): Promise<FanoutRun> {
  let best: FanoutRun | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    await quietMachine();
    const server = await ServerUnderTest.start(kind, { label: `${label}-${attempt}` });
    let run: FanoutRun;
    try {
      run = await fanout(server, shape);
    } finally {
      await server.stop();
    }
    if (!best || run.othersCpu < best.othersCpu) best = run;
    if (best.othersCpu < DISTURBED_CORES || !mayWaitForQuiet()) break;
    if (attempt < 3) progress(`other processes used ${run.othersCpu.toFixed(2)} cores during that run: running it again`);
  }
  return best!;
}

/** `repeats` rounds of every server in turn (so drift spreads over all of them), pooled per server. */
async function fanoutEach(shape: LoadShape, label: string, repeats: number): Promise<FanoutResult[]> {
  const runs = new Map<ServerKind, FanoutRun[]>(SERVER_KINDS.map((k) => [k, []]));
  for (let round = 1; round <= repeats; round++) {
    for (const kind of SERVER_KINDS) runs.get(kind)!.push(await fanoutRun(kind, shape, `${label}-r${round}`));
  }
  return SERVER_KINDS.map((k) => pool(runs.get(k)!));
}

await quietMachine();
const diskSync = await bareFdatasync();
progress(`bare append + fdatasync: p50 ${diskSync.p50.toFixed(2)} p99 ${diskSync.p99.toFixed(2)} max ${diskSync.max.toFixed(2)} ms`);

const fan: FanoutResult[] = [];
if (scenarios.includes('fanout')) {
  for (const readers of plan.readers) fan.push(...(await fanoutEach({ writers: 1, rate: 20, readers, seconds: plan.seconds }, `fanout-${readers}`, plan.repeats)));
}
const manyWriters: FanoutResult[] = scenarios.includes('writers') ? await fanoutEach(plan.writers, 'writers', plan.repeats) : [];

const join: ColdJoinResult[] = [];
if (scenarios.includes('join')) {
  progress(`building an incident of ${plan.entries} entries by ${plan.updates} updates`);
  const incident = buildIncident(plan.entries, plan.updates);
  for (const kind of SERVER_KINDS) {
    await quietMachine();
    join.push(await coldJoinInMemory(kind, incident, plan.latecomers));
  }
  await quietMachine();
  join.push(...(await coldJoinFromDisk(incident, plan.latecomers)));
}

const mem: MemoryResult[] = [];
if (scenarios.includes('memory')) for (const kind of SERVER_KINDS) mem.push(await memory(kind, plan.idleDocs));

// Bridgelog alone: no peer server exports a postmortem.
const exported: ExportResult[] = [];
if (scenarios.includes('export')) for (const shape of plan.exportIncidents) exported.push(await exportBench(shape));

// Bridgelog against Wireshark's own tools: no peer server analyzes captures.
const capture = scenarios.includes('capture') ? await captureBench(quick ? { sizeMB: 128, runs: 1 } : { sizeMB: 1024, runs: 3 }) : undefined;

// Bridgelog alone: the peers keep no history to replay.
if (scenarios.includes('replay')) await quietMachine();
const replay = scenarios.includes('replay') ? await replayInChild(quick ? 10_000 : 100_000, quick ? 1_000 : 10_000) : undefined;

// Bridgelog's several-node mode beside Hocuspocus's, on PostgreSQL and Redis (the compiled server: npm run build).
const cluster = scenarios.includes('cluster') ? await clusterBench(plan.cluster!) : undefined;

const results: BenchResults = { machine: machine(), at: startedAt.toISOString(), quick, loadAverage, plan, fanout: fan, manyWriters, coldJoin: join, memory: mem, export: exported, capture, replay, diskSync, cluster, scenarios: args.some((x) => x.startsWith('--only=')) ? scenarios : undefined };
const report = renderReport(results);
console.log(report);

const name = args.some((a) => a.startsWith('--only=')) ? `results-${scenarios.join('-')}` : 'results';
fs.writeFileSync(`.bench/${name}.md`, report);
fs.writeFileSync(`.bench/${name}.json`, JSON.stringify(results, null, 2));
progress(`raw numbers in .bench/${name}.json${ServerUnderTest.profileDir ? `; CPU profiles in ${ServerUnderTest.profileDir}` : ''}`);
