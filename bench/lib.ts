/** Shared pieces of the benchmarks: the machine, the admin token, percentiles, the HTTP API. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export { freePort } from '../test/helpers/child-server.js';

export const ADMIN = 'bl_bench-admin-token-0123456789';

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface Stats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function stats(values: ArrayLike<number>): Stats {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), p999: percentile(s, 99.9), max: s.length ? s[s.length - 1]! : NaN };
}

/**
 * The disk's floor under Bridgelog's durability: a 200-byte append + fdatasync, `samples` times at
 * `everyMs` intervals, in a file where Bridgelog's benchmark data goes (the temporary directory).
 */
export async function bareFdatasync(samples = 200, everyMs = 10): Promise<Stats> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-fdatasync-'));
  const fd = fs.openSync(path.join(dir, 'log'), 'w');
  const record = Buffer.alloc(200, 0x2a);
  const ms: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      fs.writeSync(fd, record);
      fs.fdatasyncSync(fd);
      ms.push(performance.now() - started);
      await sleep(everyMs);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return stats(ms);
}

/**
 * CPU ticks of every process, and its parent, from /proc (Linux; USER_HZ is 100): its own, and those of
 * its children that ended and were waited for (a tool the benchmark ran and timed, for one).
 */
function processTicks(): Map<number, { ppid: number; ticks: number; childTicks: number }> {
  const out = new Map<number, { ppid: number; ticks: number; childTicks: number }>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) ": state ppid … utime stime
      out.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]) });
    } catch {
      // gone since the directory was listed
    }
  }
  return out;
}

/** The machine's ticks from /proc/stat: all, idle (+ iowait), and spent in processes (user, nice, system). */
function machineTicks(): { total: number; idle: number; processes: number } {
  const f = fs.readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), idle: f[3]! + f[4]!, processes: f[0]! + f[1]! + f[2]! };
}

export interface CpuShares {
  /** Share of all the machine's cores that was busy (processes, interrupts, steal). */
  machineBusy: number;
  /**
   * Cores used by processes outside this benchmark's process tree and outside the kernel's threads,
   * including processes that ended meanwhile (counted from what /proc/stat has and live processes don't).
   */
  othersCores: number;
}

type ProcessTicks = ReturnType<typeof processTicks>;

/** `roots` and every process descended from them. */
function treeOf(procs: ProcessTicks, roots: number[]): Set<number> {
  const tree = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of procs) if (!tree.has(pid) && tree.has(p.ppid)) grew = tree.add(pid) !== undefined;
  }
  return tree;
}

/** Ticks used between two samples by a set of processes (those that ended meanwhile count for their parent). */
function ticksUsed(p0: ProcessTicks, p1: ProcessTicks, pids: Iterable<number>): number {
  let used = 0;
  for (const pid of pids) {
    const now = p1.get(pid);
    if (!now) continue;
    const before = p0.get(pid);
    used += now.ticks - (before?.ticks ?? 0) + now.childTicks - (before?.childTicks ?? 0);
  }
  return used;
}

/**
 * Cores used over a stretch by each of `roots` with its descendants, from /proc/<pid>/stat deltas
 * (a server node; PostgreSQL's postmaster with its backends and writers).
 */
export function treeCpu(roots: number[]): () => number[] {
  const p0 = processTicks();
  const t0 = performance.now();
  return () => {
    const p1 = processTicks();
    const seconds = (performance.now() - t0) / 1000;
    return roots.map((root) => ticksUsed(p0, p1, treeOf(p1, [root])) / 100 / seconds);
  };
}

/**
 * How busy the machine was over a stretch, and how much of that was someone else's work (a shared
 * machine). `alsoOurs`: processes of the benchmark outside its process tree (PostgreSQL's postmaster,
 * which pg_ctl leaves to init), counted with their descendants as ours.
 */
export function cpuShares(alsoOurs: number[] = []): () => CpuShares {
  const m0 = machineTicks();
  const p0 = processTicks();
  return () => {
    const m1 = machineTicks();
    const p1 = processTicks();
    const ours = treeOf(p1, [process.pid, ...alsoOurs]);
    let live = 0;
    let others = 0;
    for (const [pid, p] of p1) {
      // A child that ended meanwhile counts for its parent: ours (a timed tool) or someone else's.
      // (One that was already running at the start counts whole: rare, and an overestimate of others.)
      const before = p0.get(pid);
      const used = p.ticks - (before?.ticks ?? 0) + p.childTicks - (before?.childTicks ?? 0);
      live += used;
      if (!ours.has(pid) && pid !== 2 && p.ppid !== 2) others += used;
    }
    const exited = Math.max(0, m1.processes - m0.processes - live);
    const seconds = (m1.total - m0.total) / 100 / os.cpus().length;
    return { machineBusy: 1 - (m1.idle - m0.idle) / (m1.total - m0.total), othersCores: (others + exited) / 100 / seconds };
  };
}

/** Seconds the whole run may still spend waiting for other people's work to finish (a shared machine). */
let waitBudgetMs = 10 * 60_000;
export const mayWaitForQuiet = () => waitBudgetMs > 0;

/**
 * Waits for a 2-second stretch in which other processes use under `cores` of CPU — or until the
 * run's waiting budget is spent. Returns what they used in the last stretch. `alsoOurs` as for cpuShares.
 */
export async function quietMachine(cores = 0.1, alsoOurs: number[] = []): Promise<number> {
  for (;;) {
    const shares = cpuShares(alsoOurs);
    await sleep(2000);
    const used = shares().othersCores;
    if (used < cores || waitBudgetMs <= 0) return used;
    waitBudgetMs -= 2000;
    progress(`waiting for a quiet machine: other processes use ${used.toFixed(2)} cores`);
  }
}

/** A JSON call to the API; the caller names the answer's shape (the tests' own helper). */
export { api } from '../test/helpers/api.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Progress on stderr, so stdout stays the Markdown report. */
export const progress = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** Milliseconds as the reports print them: two decimals under 10, one above. */
export const formatMs = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));

/**
 * A benchmark run on its own (`node --import tsx bench/<name>.ts …`): its raw numbers in
 * `.bench/<name>.json`, its Markdown on stdout.
 */
export async function runAlone<R>(name: string, run: () => Promise<R>, markdown: (result: R) => string): Promise<never> {
  const result = await run();
  fs.mkdirSync('.bench', { recursive: true });
  fs.writeFileSync(`.bench/${name}.json`, JSON.stringify(result, null, 2));
  console.log(markdown(result));
  process.exit(0);
}
