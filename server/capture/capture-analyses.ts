/**
 * Capture analyses, one worker thread at a time (two cores: the server must stay responsive), cached
 * by content: the same capture uploaded twice is analyzed once. Each result is kept next to the
 * blobs as two files, so it survives restarts: the summary as JSON (a few KB), and the 1 ms IO graph
 * as a series file the worker writes itself (io-series.ts; 43 MB for an hour), so the graph is never
 * a JS array, a structured clone or a JSON string on the server. The analysis answer is streamed from
 * the two, with the coarser views and, for any link capacity a responder sets, the bursts computed on
 * the way.
 *
 * That is the embedded mode. In the PostgreSQL mode (`options.shared`) the analyses are jobs shared by
 * the nodes: one node analyzes a capture, its result is stored in PostgreSQL for every node to serve
 * (shared-analyses.ts); the answers are the same, byte for byte.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { CaptureSummary } from './capture-analysis.js';
import { COARSE_VIEWS_MS, readSeriesHeadSync, SeriesFile, ViewBuilder, type IoView } from './io-series.js';
import type { Blobs } from '../storage/blobs.js';
import { writeFileAtomic } from '../store/durable-file.js';
import { useMostRecent } from '../lru.js';
import { startWorker } from '../worker-thread.js';
import { SharedAnalyses, type AnalysisHost, type RunningAnalysis, type SharedAnalysesOptions } from './shared-analyses.js';

export type { SharedAnalysesOptions } from './shared-analyses.js';

export type AnalysisState =
  | { status: 'pending' }
  | { status: 'running'; bytesRead: number; totalBytes: number }
  | { status: 'failed'; error: string }
  | CaptureSummary;

export interface AnswerOptions {
  /** Bursts over this capacity instead of the default 1 Gbit/s. */
  capacityBytesPerMs?: number;
  /** The summary only: no IO graph buckets (for views that need the time span and counts). */
  summaryOnly?: boolean;
  /** The coarser views (10 ms, 100 ms, 1 s) without the 1 ms buckets, which `window` serves in pieces. */
  coarseOnly?: boolean;
}

/** The widest piece of the 1 ms IO graph one request gets: ten minutes (600,000 buckets, ~5 MB of JSON). */
export const MAX_WINDOW_MS = 600_000;

export class AnalysisNotDone extends Error {}

/** Files are named `<sha256>.<FORMAT>.*`: results in an older layout are analyzed again when asked for. */
const FORMAT = 'v2';

/** Finished analyses' summaries kept in memory (a few KB each), least recently asked for dropped first. */
const FINISHED_KEPT = 1_000;

export interface CaptureAnalysesOptions {
  /**
   * The PostgreSQL mode: analyses are jobs shared by the nodes, results kept in PostgreSQL (the
   * summary in the job's row, the series as a blob); `dir` is then this node's cache of series files.
   * Without it (embedded): one queue in this process, results as files in `dir`.
   */
  shared?: SharedAnalysesOptions;
}

export class CaptureAnalyses {
  private readonly running = new Map<string, AnalysisState>();
  /** Finished (done or failed) states, read from disk once: a request asks several times. */
  private readonly finished = new Map<string, AnalysisState>();
  private queue: Promise<void> = Promise.resolve();
  private readonly shared?: SharedAnalyses;

  constructor(
    private readonly dir: string,
    private readonly blobs: Blobs,
    private readonly log: Logger,
    /** Progress and completion, for live updates. */
    private readonly onChange: (sha256: string, state: AnalysisState) => void,
    options: CaptureAnalysesOptions = {},
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (options.shared) this.shared = new SharedAnalyses(this.host(), `capture-analysis/${FORMAT}`, dir, blobs, log, options.shared);
  }

  /** What the shared mode uses of this instance: its caches of states, its listeners and its worker. */
  private host(): AnalysisHost {
    return {
      state: (sha256) => this.state(sha256),
      show: (sha256, state, announce) => {
        this.running.set(sha256, state);
        if (announce) this.onChange(sha256, state);
      },
      settle: (sha256, state, announce) => {
        this.running.delete(sha256);
        this.finished.delete(sha256);
        useMostRecent(this.finished, sha256, () => state, FINISHED_KEPT);
        if (announce) this.onChange(sha256, state);
      },
      forget: (sha256) => void this.finished.delete(sha256),
      analyze: (file, seriesFile, onProgress) => this.analyze(file, seriesFile, onProgress),
    };
  }

  private summaryFile(sha256: string): string {
    return path.join(this.dir, `${sha256}.${FORMAT}.json`);
  }

  private seriesFile(sha256: string): string {
    return path.join(this.dir, `${sha256}.${FORMAT}.io1ms`);
  }

  state(sha256: string): AnalysisState | undefined {
    const live = this.running.get(sha256);
    if (live) return live;
    if (this.shared) {
      const known = this.finished.get(sha256);
      return known && useMostRecent(this.finished, sha256, () => known, FINISHED_KEPT);
    }
    const stored = this.finished.get(sha256) ?? this.readStored(sha256);
    return stored && useMostRecent(this.finished, sha256, () => stored, FINISHED_KEPT);
  }

  private readStored(sha256: string): AnalysisState | undefined {
    let stored: AnalysisState;
    try {
      stored = JSON.parse(fs.readFileSync(this.summaryFile(sha256), 'utf8')) as AnalysisState;
    } catch {
      return undefined;
    }
    // A summary without its series (removed by hand, a disk restored in part) is analyzed again.
    return stored.status === 'done' && !fs.existsSync(this.seriesFile(sha256)) ? undefined : stored;
  }

  /** Bytes of the first `n` 1 ms buckets of a finished analysis, or none if there is none. */
  firstMillis(sha256: string, n: number): number[] {
    try {
      const file = this.shared ? this.shared.seriesFileSync(sha256) : this.seriesFile(sha256);
      return file ? readSeriesHeadSync(file, n) : [];
    } catch {
      return [];
    }
  }

  /** Queues the analysis of the stored capture unless it is done or under way. */
  start(sha256: string): void {
    if (this.state(sha256)) return;
    if (this.shared) return this.shared.start(sha256);
    this.set(sha256, { status: 'pending' });
    this.queue = this.queue.then(() => this.run(sha256));
  }

  /**
   * Writes the analysis answer of the API to `out` as JSON: the state, and once done the summary with
   * `ioGraph` = the 1 ms buckets (bytes and packets) and the 10 ms, 100 ms and 1 s views. Streamed a
   * chunk of buckets at a time, minding back-pressure.
   */
  async answer(sha256: string, out: Writable, opts: AnswerOptions = {}): Promise<void> {
    await this.shared?.settled(sha256);
    let state = this.state(sha256) ?? { status: 'pending' };
    const series = state.status === 'done' ? await this.openSeries(sha256) : undefined;
    if (!series) state = this.state(sha256) ?? { status: 'pending' }; // (shared: its series gone, analyzed again)
    if (state.status !== 'done' || !series) return void out.end(JSON.stringify(state));
    try {
      const bursts = opts.capacityBytesPerMs ? await series.bursts(opts.capacityBytesPerMs) : state.bursts;
      const summary = { ...state, bursts };
      if (opts.summaryOnly) return void out.end(JSON.stringify(summary));
      const write = async (text: string) => {
        if (!out.write(text)) await once(out, 'drain');
      };
      const { ioGraph, ...rest } = summary;
      const fine = !opts.coarseOnly;
      await write(`${JSON.stringify(rest).slice(0, -1)},"ioGraph":{"bucketMs":1,"buckets":${ioGraph.buckets},"peakBytes":${ioGraph.peakBytes}${fine ? ',"bytes":[' : ''}`);
      const views = COARSE_VIEWS_MS.map((ms) => new ViewBuilder(ms, series.buckets));
      for await (const { offset, values } of series.bytes()) {
        if (out.destroyed) return;
        for (const v of views) v.addBytes(offset, values);
        if (fine) await write(`${offset > 0 ? ',' : ''}${values.join(',')}`);
      }
      if (fine) await write('],"packets":[');
      for await (const { offset, values } of series.packets()) {
        if (out.destroyed) return;
        for (const v of views) v.addPackets(offset, values);
        if (fine) await write(`${offset > 0 ? ',' : ''}${values.join(',')}`);
      }
      out.end(`${fine ? ']' : ''},"views":${JSON.stringify(views.map((v) => v.view()))}}}`);
    } finally {
      await series.close();
    }
  }

  /**
   * The 1 ms buckets [fromMs, toMs) of a finished analysis (cut to the capture's end), with where they
   * start. Throws AnalysisNotDone before the analysis is done.
   */
  async window(sha256: string, fromMs: number, toMs: number): Promise<IoView & { offsetMs: number }> {
    await this.shared?.settled(sha256);
    const series = this.state(sha256)?.status === 'done' ? await this.openSeries(sha256) : undefined;
    if (!series) throw new AnalysisNotDone('the capture has not been analyzed yet');
    try {
      const bytes: number[] = [];
      const packets: number[] = [];
      for await (const { values } of series.bytes(fromMs, toMs)) for (const v of values) bytes.push(v);
      for await (const { values } of series.packets(fromMs, toMs)) for (const v of values) packets.push(v);
      return { bucketMs: 1, offsetMs: Math.min(fromMs, series.buckets), bytes, packets, peakBytes: bytes.reduce((a, b) => Math.max(a, b), 0) };
    } finally {
      await series.close();
    }
  }

  /**
   * Reads in what `state` and `firstMillis` (synchronous) need of these captures' finished analyses
   * (a report is built at once): in the shared mode from PostgreSQL, embedded nothing to do.
   */
  async prepare(sha256s: string[]): Promise<void> {
    await this.shared?.prepare(sha256s);
  }

  /** Stops the shared mode's work (an analysis under way is given back to the other nodes). */
  async close(): Promise<void> {
    await this.shared?.close();
  }

  private openSeries(sha256: string): Promise<SeriesFile | undefined> {
    return this.shared ? this.shared.openSeries(sha256) : SeriesFile.open(this.seriesFile(sha256));
  }

  private set(sha256: string, state: AnalysisState): void {
    this.running.set(sha256, state);
    this.onChange(sha256, state);
  }

  private async run(sha256: string): Promise<void> {
    const started = performance.now();
    const final = await this.blobs
      .withLocalFile(sha256, (file) => this.analyze(file, this.seriesFile(sha256), (bytesRead, totalBytes) => this.set(sha256, { status: 'running', bytesRead, totalBytes })).result)
      .catch((err: Error): AnalysisState => ({ status: 'failed', error: err.message }));
    try {
      // The summary last: once it is there, so is the series it describes.
      await writeFileAtomic(this.summaryFile(sha256), JSON.stringify(final));
    } catch (err) {
      this.log.error({ err, sha256 }, 'could not keep a capture analysis');
    }
    this.running.delete(sha256);
    useMostRecent(this.finished, sha256, () => final, FINISHED_KEPT);
    this.onChange(sha256, final);
    this.log.info({ sha256, status: final.status, ms: Math.round(performance.now() - started) }, 'capture analyzed');
  }

  /** Analyzes `file` in a worker thread, which writes the 1 ms series to `seriesFile` itself. */
  private analyze(file: string, seriesFile: string, onProgress: (bytesRead: number, totalBytes: number) => void): RunningAnalysis {
    const worker = startWorker(import.meta.url, './analysis-worker', {
      workerData: { file, seriesFile },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const result = new Promise<AnalysisState>((resolve) => {
      worker.on('message', (m: { type: string; bytesRead: number; totalBytes: number; summary: CaptureSummary; error: string }) => {
        if (m.type === 'progress') onProgress(m.bytesRead, m.totalBytes);
        else if (m.type === 'done') resolve(m.summary);
        else resolve({ status: 'failed', error: m.error });
      });
      worker.on('error', (err) => resolve({ status: 'failed', error: err.message }));
      worker.on('exit', (code) => resolve({ status: 'failed', error: `analysis stopped (exit ${code})` }));
    });
    return { result, stop: () => void worker.terminate() };
  }
}
