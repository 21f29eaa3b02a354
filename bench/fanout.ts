/**
 * Update → delivered, under load: W writers at a steady rate each, N readers, one document. Readers
 * and writers run in their own processes (bench/load/); every update carries a marker with its send
 * time, so each reader computes arrival − send without decoding Yjs. For Bridgelog, writers also time
 * send → "persisted" (message 100): the update is fdatasync'd.
 */
import { cpuShares, progress, sleep, stats, type Stats } from './lib.js';
import { LoadProcess, type CpuUse } from './load/ipc.js';
import type { ReadersConfig, ReadersReady, ReadersReport } from './load/readers.js';
import type { WritersConfig, WritersResult } from './load/writers.js';
import { now } from './load/wire.js';
import type { ServerKind, ServerUnderTest } from './servers.js';

export interface LoadShape {
  writers: number;
  /** Updates per second, per writer. */
  rate: number;
  readers: number;
  seconds: number;
}

/** What one run measured, kept per run when runs are pooled. */
export interface RunSummary {
  latency: Stats;
  durable: Stats | null;
  deliveryRatio: number;
  serverCpu: number;
  machineBusy: number;
  othersCpu: number;
  loadCpu: { writers: CpuUse; readers: CpuUse[] };
}

export interface FanoutResult {
  server: ServerKind;
  shape: LoadShape;
  sent: number;
  /** Distinct (reader, update) pairs delivered, of sent × readers. */
  delivered: number;
  deliveryRatio: number;
  duplicates: number;
  readersClosed: number;
  latency: Stats;
  /**
   * Per update, where its latency went: to its first reader (the path every update takes before the
   * broadcast — parse, apply and, for Bridgelog, fdatasync — plus one delivery), and from the first
   * reader to the last (the broadcast loop, and the readers taking it in).
   */
  firstReader: Stats;
  firstToLast: Stats;
  /** Bridgelog: send → "persisted". */
  durable: Stats | null;
  /** Bridgelog: updates acknowledged durable per second of the run. */
  durablePerSecond: number | null;
  /** Bridgelog: updates per group commit (fdatasync) over the run, from /metrics. */
  updatesPerSync: number | null;
  /** Sends the writer process made more than 5 ms late (the generator, not the server, fell behind). */
  lateSends: number;
  /** Share of one core the server used during the run. */
  serverCpu: number;
  /** Share of all the machine's cores busy during the run (server, generators, kernel). */
  machineBusy: number;
  /** Cores used during the run by processes that are not the benchmark's (a shared machine). */
  othersCpu: number;
  /** Bridgelog: mean write + fdatasync of a group commit during the run, ms (from /metrics). */
  fdatasyncMeanMs: number | null;
  connectMs: number;
  /** Each run's own figures (the fields above pool them: latencies over all runs, CPU averaged). */
  runs: RunSummary[];
}

/** One run, with its raw samples, so that runs can be pooled. */
export interface FanoutRun extends FanoutResult {
  samples: { latency: Float64Array; durable: Float64Array; firstReader: Float64Array; firstToLast: Float64Array };
}

/** Per update, its earliest delivery and the time from that to its last, over every reader process's samples. */
function perUpdate(reports: ReadersReport[], updates: number): { firstReader: Float64Array; firstToLast: Float64Array } {
  const first = new Float64Array(updates).fill(Infinity);
  const last = new Float64Array(updates).fill(-Infinity);
  for (const r of reports) {
    for (let i = 0; i < r.latencies.length; i++) {
      const u = r.updates[i]!;
      const l = r.latencies[i]!;
      if (l < first[u]!) first[u] = l;
      if (l > last[u]!) last[u] = l;
    }
  }
  const reached = [...first.keys()].filter((u) => Number.isFinite(first[u]!));
  return { firstReader: Float64Array.from(reached, (u) => first[u]!), firstToLast: Float64Array.from(reached, (u) => last[u]! - first[u]!) };
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

/** Several runs of one server on one load shape as one result: percentiles over every sample of every run. */
export function pool(runs: FanoutRun[]): FanoutResult {
  const first = runs[0]!;
  const sum = (get: (r: FanoutRun) => number) => runs.reduce((n, r) => n + get(r), 0);
  const mean = (get: (r: FanoutRun) => number | null) => runs.reduce((n, r) => n + (get(r) ?? NaN), 0) / runs.length;
  const sent = sum((r) => r.sent);
  const delivered = sum((r) => r.delivered);
  const bridgelog = first.durable !== null;
  return {
    server: first.server,
    shape: first.shape,
    sent,
    delivered,
    deliveryRatio: delivered / (sent * first.shape.readers),
    duplicates: sum((r) => r.duplicates),
    readersClosed: sum((r) => r.readersClosed),
    latency: stats(concat(runs.map((r) => r.samples.latency))),
    firstReader: stats(concat(runs.map((r) => r.samples.firstReader))),
    firstToLast: stats(concat(runs.map((r) => r.samples.firstToLast))),
    durable: bridgelog ? stats(concat(runs.map((r) => r.samples.durable))) : null,
    durablePerSecond: bridgelog ? mean((r) => r.durablePerSecond) : null,
    updatesPerSync: bridgelog ? mean((r) => r.updatesPerSync) : null,
    fdatasyncMeanMs: bridgelog ? mean((r) => r.fdatasyncMeanMs) : null,
    lateSends: sum((r) => r.lateSends),
    serverCpu: mean((r) => r.serverCpu),
    machineBusy: mean((r) => r.machineBusy),
    othersCpu: Math.max(...runs.map((r) => r.othersCpu)),
    connectMs: mean((r) => r.connectMs),
    runs: runs.flatMap((r) => r.runs),
  };
}

/**
 * Reader processes and their sizes. A reader process takes ~15 µs of CPU per frame (3 % of a core
 * for 2,000 frames/s), more than the server spends sending it (~11 µs), so a broadcast to many
 * readers queues up in one process: at 200 readers one process stretched an update's first-to-last
 * delivery to ~6 ms for every server, two to ~4 ms (1,000 readers: p99 −2.5 ms with two). Two
 * whenever a broadcast reaches 100 readers or more, or above ~10k frames/s; at most two, as there
 * are 2 cores.
 */
export function readerProcesses(shape: LoadShape): number[] {
  const framesPerSecond = shape.readers * shape.writers * shape.rate;
  const processes = Math.min(shape.readers, shape.readers >= 100 || framesPerSecond > 10_000 ? 2 : 1);
  return Array.from({ length: processes }, (_, i) => Math.floor(shape.readers / processes) + (i < shape.readers % processes ? 1 : 0));
}

export async function fanout(server: ServerUnderTest, shape: LoadShape): Promise<FanoutRun> {
  const [doc] = await server.createDocs(1, `fan-out ${shape.writers}x${shape.readers}`);
  const perWriter = Math.round(shape.rate * shape.seconds);
  const connectStarted = performance.now();
  const readers = readerProcesses(shape).map(
    (n) => new LoadProcess('readers.ts', { targets: Array.from({ length: n }, () => server.target(doc!)), writers: shape.writers, perWriter, concurrency: 50 } satisfies ReadersConfig),
  );
  // Writers connect once every reader is in, so the run starts with the document's audience complete.
  await Promise.all(readers.map((p) => p.next<ReadersReady>('ready')));
  const writers = new LoadProcess('writers.ts', {
    targets: Array.from({ length: shape.writers }, () => server.target(doc!, 'writer')),
    rate: shape.rate,
    seconds: shape.seconds,
    ack: server.kind === 'bridgelog' ? 'persisted' : null,
    // After the last send, how long deliveries are still counted (BENCH_DRAIN_MS; default 3 s). A
    // saturated server is seconds behind: what arrives later counts as not delivered.
    drainMs: Number(process.env.BENCH_DRAIN_MS ?? 3000),
  } satisfies WritersConfig);
  try {
    await writers.next('ready');
    const connectMs = performance.now() - connectStarted;
    await sleep(500);

    const metricsBefore = server.kind === 'bridgelog' ? await server.metrics() : undefined;
    const before = await server.memory();
    const shares = cpuShares();
    const startedAt = now();
    for (const p of [...readers, writers]) p.send({ type: 'go' });
    const w = await writers.next<WritersResult>('result', (shape.seconds + 60) * 1000);
    const { machineBusy: machine, othersCores: othersUsed } = shares();
    const after = await server.memory();
    const serverCpu = (after.cpuUserMs + after.cpuSystemMs - before.cpuUserMs - before.cpuSystemMs) / (now() - startedAt);
    const metricsAfter = server.kind === 'bridgelog' ? await server.metrics() : undefined;
    for (const p of readers) p.send({ type: 'report' });
    const reports = await Promise.all(readers.map((p) => p.next<ReadersReport>('report')));

    const delivered = reports.reduce((n, r) => n + r.delivered, 0);
    const latencies = concat(reports.map((r) => r.latencies));
    const delta = (name: string) => (metricsAfter?.get(name) ?? NaN) - (metricsBefore?.get(name) ?? NaN);
    const isBridgelog = server.kind === 'bridgelog';
    const latency = stats(latencies);
    const split = perUpdate(reports, w.sent);
    const durable = isBridgelog ? stats(w.acked) : null;
    const deliveryRatio = delivered / (w.sent * shape.readers);
    const loadCpu = { writers: w.cpu, readers: reports.map((r) => r.cpu) };
    const result: FanoutRun = {
      server: server.kind,
      shape,
      sent: w.sent,
      delivered,
      deliveryRatio,
      duplicates: reports.reduce((n, r) => n + r.duplicates, 0),
      readersClosed: reports.reduce((n, r) => n + r.closed, 0),
      latency,
      firstReader: stats(split.firstReader),
      firstToLast: stats(split.firstToLast),
      durable,
      durablePerSecond: isBridgelog ? (w.acked.length * 1000) / (w.lastAckedAt - w.firstSentAt) : null,
      updatesPerSync: isBridgelog ? delta('bridgelog_updates_total') / delta('bridgelog_fdatasync_seconds_count') : null,
      lateSends: w.lateSends,
      serverCpu,
      machineBusy: machine,
      othersCpu: othersUsed,
      fdatasyncMeanMs: isBridgelog ? (delta('bridgelog_fdatasync_seconds_sum') * 1000) / delta('bridgelog_fdatasync_seconds_count') : null,
      connectMs,
      runs: [{ latency, durable, deliveryRatio, serverCpu, machineBusy: machine, othersCpu: othersUsed, loadCpu }],
      samples: { latency: latencies, durable: w.acked, ...split },
    };
    progress(
      `${server.kind} ${shape.writers}×${shape.rate}/s → ${shape.readers}: p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} max ${result.latency.max.toFixed(1)} ms, ` +
        `delivered ${(result.deliveryRatio * 100).toFixed(2)} %, server CPU ${(serverCpu * 100).toFixed(0)} %, machine busy ${(machine * 100).toFixed(0)} % (others ${othersUsed.toFixed(2)} cores), ` +
        `readers CPU ${loadCpu.readers.map((c) => (c.share * 100).toFixed(0) + ' %').join(' / ')}`,
    );
    return result;
  } finally {
    await Promise.all([...readers, writers].map((p) => p.stop()));
  }
}
