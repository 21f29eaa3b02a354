/**
 * Capture analyses shared by the nodes of a cluster (the PostgreSQL mode, #15). Each analysis is a
 * job (server/storage/jobs.ts) of kind `capture-analysis/<format>`, keyed by the capture's SHA-256:
 *
 * - Asking for a capture's analysis queues its job (once for the cluster). Each node runs one
 *   analysis at a time, as embedded: when idle it claims the job waiting longest — its own or one
 *   another node queued — under a lease it renews while the worker runs (recording the progress).
 * - Done, the summary is stored in the job's row and the 1 ms series file as a blob (key: its SHA-256,
 *   named in the result), so any node serves the analysis: it reads the row and downloads the series
 *   once into its cache (series-cache.ts), where the series readers read it as a file.
 * - A node that dies mid-analysis stops renewing; once its lease has run out another node's next
 *   claim (looked for every tick) takes the job over. Attempts are bounded: a capture whose analysis
 *   takes its node down every time is failed after `maxAttempts`, with the reason.
 * - The progress events (`onChange`) come from the node running the analysis. A node asked about one
 *   running elsewhere polls its row each tick until it is finished, and tells its own listeners.
 *
 * `state()` stays synchronous for its callers: it answers from this node's caches, and the async
 * entry points (`answer`, `window`, and `prepare` before a report) first wait for the row's look-up.
 */
import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { BlobMissing, type Blobs } from '../storage/blobs.js';
import type { Job, Jobs } from '../storage/jobs.js';
import type { CaptureSummary } from './capture-analysis.js';
import type { AnalysisState } from './capture-analyses.js';
import { SeriesFile } from './io-series.js';
import { SeriesCache } from './series-cache.js';

export interface SharedAnalysesOptions {
  jobs: Jobs;
  /**
   * This process's id as the owner of the jobs it runs: unique among the nodes running at one time
   * (give a per-process one, e.g. NODE_ID plus a random suffix, so that two processes configured
   * with the same NODE_ID never take each other's claims for their own).
   */
  nodeId: string;
  /** How long a claim holds without being renewed (renewed every third of it). Default 30 s. */
  leaseMs?: number;
  /** How often the node looks for jobs to run (queued, or whose lease ran out) and at those it waits on. Default 1 s. */
  tickMs?: number;
  /** Claims an analysis gets before it is failed, when the node running it stops every time. Default 3. */
  maxAttempts?: number;
  /** Bytes of series copies this node keeps in its cache directory. Default 2 GiB. */
  cacheBytes?: number;
}

/** What a finished analysis stores in its job's row. */
interface StoredResult {
  summary: CaptureSummary;
  /** The 1 ms series file, as a blob. */
  series: { sha256: string; size: number };
}

/** A worker analyzing a capture into a series file. */
export interface RunningAnalysis {
  result: Promise<AnalysisState>;
  stop(): void;
}

/** What CaptureAnalyses lends: its caches of states, its listeners, its worker. */
export interface AnalysisHost {
  state(sha256: string): AnalysisState | undefined;
  /** Shows an unfinished state (pending, running); `announce`: tells the listeners. */
  show(sha256: string, state: AnalysisState, announce: boolean): void;
  /** Keeps a finished state (done, failed); `announce`: tells the listeners. */
  settle(sha256: string, state: AnalysisState, announce: boolean): void;
  /** Forgets a finished state (to analyze again). */
  forget(sha256: string): void;
  analyze(captureFile: string, seriesFile: string, onProgress: (bytesRead: number, totalBytes: number) => void): RunningAnalysis;
}

/** Progress is written to the job's row at most this often (and with every renewal). */
const PROGRESS_WRITE_MS = 1000;

class Stopped extends Error {}

export class SharedAnalyses {
  private readonly jobs: Jobs;
  private readonly nodeId: string;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly cache: SeriesCache;
  /** The series blob of each done summary this node holds (dropped with the summary). */
  private readonly seriesOf = new WeakMap<object, string>();
  /** Captures asked about here whose analysis is not finished: their rows are polled each tick. */
  private readonly watched = new Set<string>();
  /** Captures whose row is being looked up for the first time; answers wait for it. */
  private readonly lookups = new Map<string, Promise<void>>();
  /** Captures whose unfinished state was announced here: their end is announced too. */
  private readonly announced = new Set<string>();
  /** The analysis this node runs. */
  private current?: { sha256: string; stop(): void };
  private pumping?: Promise<void>;
  private ticking = false;
  private closed = false;
  private tickFailing = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly host: AnalysisHost,
    private readonly kind: string,
    dir: string,
    private readonly blobs: Blobs,
    private readonly log: Logger,
    options: SharedAnalysesOptions,
  ) {
    this.jobs = options.jobs;
    this.nodeId = options.nodeId;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.cache = new SeriesCache(dir, blobs, options.cacheBytes ?? 2 * 1024 ** 3);
    this.timer = setInterval(() => void this.tick(), options.tickMs ?? 1000);
    this.timer.unref();
  }

  /** Queues the analysis (the caller found no state for it here) and looks up its row. */
  start(sha256: string): void {
    if (this.closed || this.lookups.has(sha256)) return;
    // Pending until the row says more, told to nobody yet: it may well be done already.
    this.host.show(sha256, { status: 'pending' }, false);
    this.watched.add(sha256);
    const lookup = this.jobs
      .enqueue(this.kind, sha256)
      .then((job) => {
        this.apply(sha256, job);
        this.pump();
      })
      .catch((err: unknown) => this.log.warn({ err, sha256 }, 'could not queue a capture analysis; trying again shortly'))
      .finally(() => this.lookups.delete(sha256));
    this.lookups.set(sha256, lookup);
  }

  /** Settles once the first look-up of the capture's row (if one is under way) is done. */
  async settled(sha256: string): Promise<void> {
    await this.lookups.get(sha256);
  }

  /**
   * Reads the finished analyses of `sha256s` this node does not know yet, and downloads their series,
   * so that `state` and `firstMillis` (synchronous) have them. Starts no analysis.
   */
  async prepare(sha256s: string[]): Promise<void> {
    await Promise.all(sha256s.map((s) => this.settled(s)));
    const unknown = [...new Set(sha256s)].filter((s) => this.host.state(s) === undefined);
    for (const [sha256, job] of await this.jobs.get(this.kind, unknown)) {
      if (job.status === 'done' || job.status === 'failed') this.apply(sha256, job);
    }
    await Promise.all(sha256s.map(async (s) => void (await this.openSeries(s).then((series) => series?.close()).catch(() => undefined))));
  }

  /**
   * The series of a done analysis, open: downloaded first if this node has no copy. Undefined if the
   * analysis is not done here, or its series blob turned out to be gone — then it is queued again.
   */
  async openSeries(sha256: string): Promise<SeriesFile | undefined> {
    const state = this.host.state(sha256);
    const seriesSha = state && this.seriesOf.get(state);
    if (!seriesSha) return undefined;
    for (let tries = 0; ; tries++) {
      let file: string;
      try {
        file = await this.cache.file(seriesSha);
      } catch (err) {
        if (!(err instanceof BlobMissing)) throw err;
        // As embedded, when a series file is gone: analyzed again.
        this.log.warn({ sha256, series: seriesSha }, 'the IO graph of a capture analysis is missing: analyzing it again');
        await this.jobs.redo(this.kind, sha256);
        this.host.forget(sha256);
        this.start(sha256);
        return undefined;
      }
      try {
        return await SeriesFile.open(file);
      } catch (err) {
        // Evicted between the two (ENOENT), or a damaged copy: fetched again, once.
        this.cache.drop(seriesSha);
        if (tries > 0) throw err;
      }
    }
  }

  /** This node's copy of a done analysis's series, if it has one now. */
  seriesFileSync(sha256: string): string | undefined {
    const state = this.host.state(sha256);
    const seriesSha = state && this.seriesOf.get(state);
    return seriesSha && this.cache.fileSync(seriesSha);
  }

  /** Stops looking for work; an analysis under way is stopped and its job given back for another node. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.current?.stop();
    await this.pumping;
  }

  /** Takes in what a job's row says about a capture this node does not analyze itself. */
  private apply(sha256: string, job: Job): void {
    if (this.current?.sha256 === sha256) return; // its own state here is the newer
    if (job.status === 'done' || job.status === 'failed') {
      let state: AnalysisState;
      if (job.status === 'done') {
        const { summary, series } = job.result as StoredResult;
        this.seriesOf.set(summary, series.sha256);
        state = summary;
      } else {
        state = { status: 'failed', error: job.error ?? 'the analysis failed' };
      }
      this.watched.delete(sha256);
      this.host.settle(sha256, state, this.announced.delete(sha256));
      return;
    }
    const before = this.host.state(sha256);
    // A row read before this node settled it (a finished state is final: one analyzed again is forgotten first).
    if (before?.status === 'done' || before?.status === 'failed') return void this.watched.delete(sha256);
    const progress = job.progress as { bytesRead: number; totalBytes: number } | null;
    const state: AnalysisState =
      job.status === 'running' && !job.leaseExpired && progress ? { status: 'running', bytesRead: progress.bytesRead, totalBytes: progress.totalBytes } : { status: 'pending' };
    const changed = JSON.stringify(before) !== JSON.stringify(state);
    if (changed || !this.announced.has(sha256)) {
      this.announced.add(sha256);
      this.host.show(sha256, state, true);
    }
  }

  /** Polls the rows of the captures waited on, then looks for work. */
  private async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      const keys = [...this.watched].filter((k) => !this.lookups.has(k) && this.current?.sha256 !== k);
      const rows = await this.jobs.get(this.kind, keys);
      for (const sha256 of keys) {
        // No row: queuing it failed when asked (PostgreSQL away a moment).
        this.apply(sha256, rows.get(sha256) ?? (await this.jobs.enqueue(this.kind, sha256)));
      }
      this.tickFailing = false;
    } catch (err) {
      if (!this.tickFailing) this.log.warn({ err }, 'could not look at capture analyses under way on other nodes');
      this.tickFailing = true;
    } finally {
      this.ticking = false;
    }
    this.pump();
  }

  /** Runs claimed jobs one after the other while there are any; one loop at a time. */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = (async () => {
      try {
        while (!this.closed) {
          const { claimed, abandoned } = await this.jobs.claimNext(this.kind, this.nodeId, { leaseMs: this.leaseMs, maxAttempts: this.maxAttempts });
          for (const job of abandoned) {
            this.log.error({ sha256: job.key, error: job.error }, 'capture analysis abandoned');
            if (this.watched.has(job.key)) this.apply(job.key, job);
          }
          if (!claimed) break;
          if (this.closed) {
            await this.jobs.release(this.kind, claimed.key, this.nodeId); // claimed as this node was stopping
            break;
          }
          await this.run(claimed.key, claimed.attempt);
        }
      } catch (err) {
        if (!this.tickFailing) this.log.warn({ err }, 'could not look for capture analyses to run');
      } finally {
        this.pumping = undefined;
      }
    })();
  }

  /** Runs the analysis this node has claimed, renewing its lease, and stores the result for every node. */
  private async run(sha256: string, attempt: number): Promise<void> {
    const started = performance.now();
    const runFile = this.cache.runFile(sha256);
    let stopped = false;
    let lost = false;
    let analysis: RunningAnalysis | undefined;
    let progress: { bytesRead: number; totalBytes: number } | undefined;
    let progressWritten = 0;
    const renew = () =>
      this.jobs.renew(this.kind, sha256, this.nodeId, this.leaseMs, progress).then(
        (held) => {
          if (held || lost) return;
          lost = true;
          analysis?.stop();
        },
        () => undefined, // PostgreSQL away a moment: the next renewal may do; if not, the lease runs out
      );
    this.current = {
      sha256,
      stop: () => {
        stopped = true;
        analysis?.stop();
      },
    };
    this.watched.delete(sha256);
    // Its listeners here see it as embedded: pending (unless they just did), running…, then done.
    if (!this.announced.has(sha256) || this.host.state(sha256)?.status !== 'pending') this.host.show(sha256, { status: 'pending' }, true);
    this.announced.add(sha256);
    const heartbeat = setInterval(() => void renew(), Math.max(this.leaseMs / 3, 1));
    heartbeat.unref();
    try {
      let final: AnalysisState;
      try {
        final = await this.blobs.withLocalFile(sha256, (file) => {
          if (stopped || lost) throw new Stopped();
          analysis = this.host.analyze(file, runFile, (bytesRead, totalBytes) => {
            progress = { bytesRead, totalBytes };
            this.host.show(sha256, { status: 'running', bytesRead, totalBytes }, true);
            if (performance.now() - progressWritten < PROGRESS_WRITE_MS) return;
            progressWritten = performance.now();
            void renew();
          });
          return analysis.result;
        });
      } catch (err) {
        // No such capture: as embedded, a failed analysis. Anything else (PostgreSQL away) is retried.
        if (!(err instanceof BlobMissing)) throw err;
        final = { status: 'failed', error: err.message };
      }
      if (stopped || lost) throw new Stopped();
      let kept: boolean;
      if (final.status === 'done') {
        const series = await this.cache.store(runFile);
        this.seriesOf.set(final, series.sha256);
        kept = await this.jobs.finish(this.kind, sha256, this.nodeId, { summary: final, series } satisfies StoredResult);
      } else {
        kept = await this.jobs.fail(this.kind, sha256, this.nodeId, final.status === 'failed' ? final.error : 'the analysis did not finish', { retry: false, maxAttempts: this.maxAttempts });
      }
      if (!kept) throw new Stopped(); // taken over meanwhile: the other node's result counts
      this.announced.delete(sha256);
      this.current = undefined;
      this.host.settle(sha256, final, true);
      this.log.info({ sha256, status: final.status, attempt, ms: Math.round(performance.now() - started) }, 'capture analyzed');
    } catch (err) {
      this.current = undefined;
      if (stopped && !lost) {
        // This node is stopping: the job goes back to the queue at once, not counted as an attempt.
        await this.jobs.release(this.kind, sha256, this.nodeId).catch(() => undefined);
      } else if (!lost && !(err instanceof Stopped)) {
        this.log.error({ err, sha256, attempt }, 'could not analyze a capture or keep its analysis; it will be tried again');
        await this.jobs.fail(this.kind, sha256, this.nodeId, (err as Error).message, { retry: true, maxAttempts: this.maxAttempts }).catch(() => undefined);
      }
      // Its end is learnt from the row, like an analysis run by another node.
      this.host.show(sha256, { status: 'pending' }, true);
      this.watched.add(sha256);
    } finally {
      this.current = undefined;
      clearInterval(heartbeat);
      await Promise.resolve(analysis?.result).catch(() => undefined);
      await fs.rm(runFile, { force: true }).catch(() => undefined);
    }
  }
}
