/**
 * The cluster scenario (#15): Bridgelog's several-node mode beside Hocuspocus scaled out the way its
 * documentation does it, each as three instances on the same PostgreSQL and Redis, behind HAProxy
 * (bench/cluster-servers.ts).
 *
 * Delivery across nodes: every writer connects to instance 1's own port — where HAProxy's hash on
 * the document's path sends all of a document's editors — and the readers to the three instances'
 * own ports, round-robin (reader r on instance r mod 3), one reader process per instance, so each
 * delivery is known to be on the writer's node or on another. Measured per run: delivery to readers
 * on another node and on the writer's, send → the writer's acknowledgement (Bridgelog: "persisted",
 * the COMMIT done; Hocuspocus: SyncStatus, applied in memory), writes to PostgreSQL, and the CPU of
 * each instance, of PostgreSQL (postmaster and backends) and of Redis from /proc/<pid>/stat deltas.
 * Every run is on fresh instances (PostgreSQL and Redis stay up), servers alternate within a round.
 *
 * Before anything else: PostgreSQL's bare commit latency (single-row INSERTs, one transaction each).
 * After the loads: the loss drill (bench/loss-drill.ts).
 */
import pg from 'pg';
import { startPostgres, startRedis } from '../cluster/engines.js';
import { ClusterUnderTest, CLUSTER_KINDS, spread, type ClusterKind, type CommitCounters, type Engines } from './cluster-servers.js';
import type { LoadShape } from './fanout.js';
import { cpuShares, mayWaitForQuiet, progress, quietMachine, sleep, stats, treeCpu, type Stats } from './lib.js';
import { LoadProcess } from './load/ipc.js';
import type { ReadersConfig, ReadersReady, ReadersReport } from './load/readers.js';
import type { WritersConfig, WritersResult } from './load/writers.js';
import { lossDrill, type LossDrillResult } from './loss-drill.js';

export interface ClusterPlan {
  /** Readers in every load, spread round-robin over the three instances. */
  readers: number;
  seconds: number;
  /** Runs per server of each load, pooled. */
  repeats: number;
  /** The many-writers load (the other is one writer at 20 updates/s). */
  manyWriters: { writers: number; rate: number };
  /**
   * One loss drill per server for each: when the kill comes, seconds after the writers start. Spread
   * over 10 s, Hocuspocus's longest wait between stores of a document that keeps changing, so that
   * the kills fall at different points of its store cycle.
   */
  killAfterSeconds: number[];
  /** Bare commits timed at the start. */
  commitSamples: number;
}

export const clusterPlan = (quick: boolean): ClusterPlan =>
  quick
    ? { readers: 60, seconds: 5, repeats: 1, manyWriters: { writers: 20, rate: 5 }, killAfterSeconds: [4], commitSamples: 100 }
    : { readers: 300, seconds: 15, repeats: 2, manyWriters: { writers: 20, rate: 5 }, killAfterSeconds: [12, 15.3, 18.6], commitSamples: 500 };

/** Deliveries to one group of readers: those on the writers' instance, or on the two others. */
export interface Deliveries {
  readers: number;
  /** Distinct (reader, update) pairs delivered, of sent × readers. */
  delivered: number;
  deliveryRatio: number;
  latency: Stats;
  /** Per update, send → its first reader in the group: the path before the broadcast loop (on another node: the hop between nodes included). */
  first: Stats;
}

export interface ClusterLoadResult {
  server: ClusterKind;
  shape: LoadShape;
  sent: number;
  otherNode: Deliveries;
  sameNode: Deliveries;
  /** Send → the writer's acknowledgement: Bridgelog's "persisted" (COMMIT done), Hocuspocus's SyncStatus (in memory). */
  ack: Stats;
  /** Updates acknowledged per second of sending. */
  ackedPerSecond: number;
  /** Writes to PostgreSQL per second of sending: Bridgelog's records, Hocuspocus's stores of the whole document. */
  writesPerSecond: number;
  /** Bridgelog, on the writers' node: COMMIT round trips (group commits) per second of sending, their mean, updates per commit, share over 5 and 10 ms. */
  commits: { perSecond: number; meanMs: number; updatesPerCommit: number; over5ms: number; over10ms: number } | null;
  /** Cores used while the writers were sending (and 250 ms more). */
  cpu: { instances: number[]; postgres: number; redis: number };
  machineBusy: number;
  othersCpu: number;
  lateSends: number;
  duplicates: number;
  readersClosed: number;
  /** Each run's own p99s (the fields above pool every run's samples; CPU is averaged). */
  runs: Array<{ otherP99: number; sameP99: number; ackP99: number; othersCpu: number }>;
}

interface ClusterRun extends ClusterLoadResult {
  samples: { other: Float64Array; same: Float64Array; otherFirst: Float64Array; sameFirst: Float64Array; ack: Float64Array };
}

export interface ClusterResult {
  plan: ClusterPlan;
  /** Single-row INSERT commits on the test PostgreSQL (fsync and synchronous_commit on, its defaults). */
  bareCommit: Stats;
  loads: ClusterLoadResult[];
  drills: LossDrillResult[];
}

function concat(arrays: Float64Array[]): Float64Array {
  const out = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** PostgreSQL's floor under a durable acknowledgement: one 200-byte row INSERTed and committed, `samples` times. */
async function bareCommit(db: pg.Client, samples: number, everyMs = 10): Promise<Stats> {
  await db.query('CREATE TABLE bench_commit (id bigserial PRIMARY KEY, v bytea NOT NULL)');
  const row = Buffer.alloc(200, 0x2a);
  const ms: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      await db.query('INSERT INTO bench_commit (v) VALUES ($1)', [row]);
      ms.push(performance.now() - started);
      await sleep(everyMs);
    }
  } finally {
    await db.query('DROP TABLE bench_commit');
  }
  return stats(ms);
}

/** Per update, its earliest delivery to any reader of `reports` (updates nobody there received are left out). */
function firstDeliveries(reports: ReadersReport[], updates: number): Float64Array {
  const first = new Float64Array(updates).fill(Infinity);
  for (const r of reports) for (let i = 0; i < r.latencies.length; i++) first[r.updates[i]!] = Math.min(first[r.updates[i]!]!, r.latencies[i]!);
  return first.filter(Number.isFinite);
}

function deliveries(reports: ReadersReport[], readers: number, sent: number): { result: Deliveries; latencies: Float64Array; first: Float64Array } {
  const delivered = reports.reduce((n, r) => n + r.delivered, 0);
  const latencies = concat(reports.map((r) => r.latencies));
  const first = firstDeliveries(reports, sent);
  return { result: { readers, delivered, deliveryRatio: delivered / (sent * readers), latency: stats(latencies), first: stats(first) }, latencies, first };
}

/** One load on a fresh cluster. */
async function clusterRun(cluster: ClusterUnderTest, engines: Engines, shape: LoadShape): Promise<ClusterRun> {
  const doc = await cluster.createDoc(`cluster ${shape.writers}x${shape.rate}`);
  const perWriter = Math.round(shape.rate * shape.seconds);
  const perInstance = spread(shape.readers, cluster.instances.length);
  const readers = perInstance.map(
    (n, i) => new LoadProcess('readers.ts', { targets: Array.from({ length: n }, () => cluster.target(doc, i)), writers: shape.writers, perWriter, concurrency: 50 } satisfies ReadersConfig),
  );
  await Promise.all(readers.map((p) => p.next<ReadersReady>('ready')));
  const writers = new LoadProcess('writers.ts', {
    targets: Array.from({ length: shape.writers }, () => cluster.target(doc, 0, 'writer')),
    rate: shape.rate,
    seconds: shape.seconds,
    ack: cluster.kind === 'bridgelog' ? 'persisted' : 'synced',
    drainMs: Number(process.env.BENCH_DRAIN_MS ?? 3000),
  } satisfies WritersConfig);
  try {
    await writers.next('ready');
    await sleep(500);
    const postgresPid = (await engines.postgres.pid())!;
    const redisPid = engines.redis.process()!.pid!;
    const countersBefore = await cluster.commitCounters();
    const writesBefore = await cluster.writes(doc);
    const cpu = treeCpu([...cluster.instances.map((i) => i.pid), postgresPid, redisPid]);
    const shares = cpuShares([postgresPid]);
    for (const p of [...readers, writers]) p.send({ type: 'go' });
    // CPU while the writers send (and the last deliveries), not during the drain that follows.
    const window = sleep(shape.seconds * 1000 + 250).then(() => ({ used: cpu(), ...shares() }));
    const w = await writers.next<WritersResult>('result', (shape.seconds + 60) * 1000);
    const { used, machineBusy, othersCores } = await window;
    const seconds = shape.seconds;
    const countersAfter = await cluster.commitCounters();
    const writes = (await cluster.writes(doc)) - writesBefore;
    for (const p of readers) p.send({ type: 'report' });
    const reports = await Promise.all(readers.map((p) => p.next<ReadersReport>('report')));

    const otherGroup = deliveries(reports.slice(1), perInstance.slice(1).reduce((a, b) => a + b, 0), w.sent);
    const sameGroup = deliveries(reports.slice(0, 1), perInstance[0]!, w.sent);
    const [other, same] = [otherGroup.result, sameGroup.result];
    const ack = stats(w.acked);
    const delta = (get: (c: CommitCounters) => number) => get(countersAfter![0]!) - get(countersBefore![0]!);
    const commits = countersBefore?.[0] && countersAfter?.[0] ? delta((c) => c.commits) : NaN;
    const run: ClusterRun = {
      server: cluster.kind,
      shape,
      sent: w.sent,
      otherNode: other,
      sameNode: same,
      ack,
      ackedPerSecond: (w.acked.length * 1000) / (w.lastAckedAt - w.firstSentAt),
      writesPerSecond: writes / seconds,
      commits:
        cluster.kind === 'bridgelog'
          ? {
              perSecond: commits / seconds,
              meanMs: (delta((c) => c.seconds) * 1000) / commits,
              updatesPerCommit: delta((c) => c.updates) / commits,
              over5ms: 1 - delta((c) => c.within5ms) / commits,
              over10ms: 1 - delta((c) => c.within10ms) / commits,
            }
          : null,
      cpu: { instances: used.slice(0, cluster.instances.length), postgres: used.at(-2)!, redis: used.at(-1)! },
      machineBusy,
      othersCpu: othersCores,
      lateSends: w.lateSends,
      duplicates: reports.reduce((n, r) => n + r.duplicates, 0),
      readersClosed: reports.reduce((n, r) => n + r.closed, 0),
      runs: [{ otherP99: other.latency.p99, sameP99: same.latency.p99, ackP99: ack.p99, othersCpu: othersCores }],
      samples: { other: otherGroup.latencies, same: sameGroup.latencies, otherFirst: otherGroup.first, sameFirst: sameGroup.first, ack: w.acked },
    };
    progress(
      `${cluster.kind} cluster ${shape.writers}×${shape.rate}/s → ${shape.readers} (${perInstance.join('/')}): other node p50 ${other.latency.p50.toFixed(2)} p99 ${other.latency.p99.toFixed(2)} ms ` +
        `(${(other.deliveryRatio * 100).toFixed(2)} %), same node p99 ${same.latency.p99.toFixed(2)} ms, ack p50 ${ack.p50.toFixed(2)} p99 ${ack.p99.toFixed(2)} ms, ` +
        `CPU ${run.cpu.instances.map((c) => (c * 100).toFixed(0) + ' %').join(' / ')}, PostgreSQL ${(run.cpu.postgres * 100).toFixed(0)} %, Redis ${(run.cpu.redis * 100).toFixed(0)} %, ` +
        `machine busy ${(machineBusy * 100).toFixed(0)} % (others ${othersCores.toFixed(2)} cores)`,
    );
    return run;
  } finally {
    await Promise.all([...readers, writers].map((p) => p.stop()));
  }
}

/** Other processes using more CPU than this during a run disturbed it: it is run again (twice at most). */
const DISTURBED_CORES = 0.15;

/** One run on fresh instances of `kind`, started when the machine is quiet; run again if someone else's work disturbed it. */
async function freshRun(kind: ClusterKind, engines: Engines, shape: LoadShape): Promise<ClusterRun> {
  let best: ClusterRun | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const cluster = await ClusterUnderTest.start(kind, engines);
    let run: ClusterRun;
    try {
      await quietMachine(0.1, [(await engines.postgres.pid())!]);
      run = await clusterRun(cluster, engines, shape);
    } finally {
      await cluster.stop();
    }
    if (!best || run.othersCpu < best.othersCpu) best = run;
    if (best.othersCpu < DISTURBED_CORES || !mayWaitForQuiet()) break;
    if (attempt < 3) progress(`other processes used ${run.othersCpu.toFixed(2)} cores during that run: running it again`);
  }
  return best!;
}

/** Several runs of one server on one load as one result: percentiles over every run's samples, CPU averaged. */
function poolRuns(runs: ClusterRun[]): ClusterLoadResult {
  const first = runs[0]!;
  const mean = (get: (r: ClusterRun) => number) => runs.reduce((n, r) => n + get(r), 0) / runs.length;
  const sum = (get: (r: ClusterRun) => number) => runs.reduce((n, r) => n + get(r), 0);
  const group = (get: (r: ClusterRun) => Deliveries, samples: (r: ClusterRun) => Float64Array, firsts: (r: ClusterRun) => Float64Array): Deliveries => {
    const delivered = sum((r) => get(r).delivered);
    return {
      readers: get(first).readers,
      delivered,
      deliveryRatio: delivered / (sum((r) => r.sent) * get(first).readers),
      latency: stats(concat(runs.map(samples))),
      first: stats(concat(runs.map(firsts))),
    };
  };
  return {
    server: first.server,
    shape: first.shape,
    sent: sum((r) => r.sent),
    otherNode: group((r) => r.otherNode, (r) => r.samples.other, (r) => r.samples.otherFirst),
    sameNode: group((r) => r.sameNode, (r) => r.samples.same, (r) => r.samples.sameFirst),
    ack: stats(concat(runs.map((r) => r.samples.ack))),
    ackedPerSecond: mean((r) => r.ackedPerSecond),
    writesPerSecond: mean((r) => r.writesPerSecond),
    commits: first.commits
      ? {
          perSecond: mean((r) => r.commits!.perSecond),
          meanMs: mean((r) => r.commits!.meanMs),
          updatesPerCommit: mean((r) => r.commits!.updatesPerCommit),
          over5ms: mean((r) => r.commits!.over5ms),
          over10ms: mean((r) => r.commits!.over10ms),
        }
      : null,
    cpu: {
      instances: first.cpu.instances.map((_, i) => mean((r) => r.cpu.instances[i]!)),
      postgres: mean((r) => r.cpu.postgres),
      redis: mean((r) => r.cpu.redis),
    },
    machineBusy: mean((r) => r.machineBusy),
    othersCpu: Math.max(...runs.map((r) => r.othersCpu)),
    lateSends: sum((r) => r.lateSends),
    duplicates: sum((r) => r.duplicates),
    readersClosed: sum((r) => r.readersClosed),
    runs: runs.flatMap((r) => r.runs),
  };
}

/** PostgreSQL and Redis for the whole scenario; removed at the end, or on Ctrl-C (pg_ctl's postmaster outlives us otherwise). */
async function withEngines<T>(use: (engines: Engines) => Promise<T>): Promise<T> {
  const postgres = await startPostgres();
  const onInterrupt = () => void postgres.destroy().finally(() => process.exit(130));
  process.once('SIGINT', onInterrupt);
  let redis;
  let db: pg.Client | undefined;
  try {
    redis = await startRedis();
    db = new pg.Client(postgres.url);
    await db.connect();
    return await use({ postgres, redis, db });
  } finally {
    await db?.end().catch(() => undefined);
    await redis?.kill();
    await postgres.destroy();
    process.off('SIGINT', onInterrupt);
  }
}

export async function clusterBench(plan: ClusterPlan): Promise<ClusterResult> {
  return withEngines(async (engines) => {
    await quietMachine(0.1, [(await engines.postgres.pid())!]);
    const bare = await bareCommit(engines.db, plan.commitSamples);
    progress(`PostgreSQL bare commit (single-row INSERT): p50 ${bare.p50.toFixed(2)} p99 ${bare.p99.toFixed(2)} max ${bare.max.toFixed(2)} ms`);

    const shapes: LoadShape[] = [
      { writers: 1, rate: 20, readers: plan.readers, seconds: plan.seconds },
      { ...plan.manyWriters, readers: plan.readers, seconds: plan.seconds },
    ];
    const loads: ClusterLoadResult[] = [];
    for (const shape of shapes) {
      const runs = new Map<ClusterKind, ClusterRun[]>(CLUSTER_KINDS.map((k) => [k, []]));
      for (let round = 1; round <= plan.repeats; round++) {
        for (const kind of CLUSTER_KINDS) runs.get(kind)!.push(await freshRun(kind, engines, shape));
      }
      loads.push(...CLUSTER_KINDS.map((k) => poolRuns(runs.get(k)!)));
    }

    const drills: LossDrillResult[] = [];
    for (const killAfterS of plan.killAfterSeconds) {
      for (const kind of CLUSTER_KINDS) {
        await quietMachine(0.1, [(await engines.postgres.pid())!]);
        drills.push(await lossDrill(kind, engines, { ...plan.manyWriters, readers: Math.min(30, plan.readers), killAfterS }));
      }
    }
    return { plan, bareCommit: bare, loads, drills };
  });
}
