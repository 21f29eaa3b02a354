/**
 * Capture analyses, one worker thread at a time (two cores: the server must stay responsive), cached
 * by content: the same capture uploaded twice is analyzed once. Results are kept as JSON next to the
 * blobs, so they survive restarts. Bursts over capacity are recomputed from the 1 ms buckets for any
 * capacity a responder sets.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { CaptureAnalysis } from './capture-analysis.js';
import { writeFileAtomic } from '../store/durable-file.js';
import { startWorker } from '../worker-thread.js';

export type AnalysisState =
  | { status: 'pending' }
  | { status: 'running'; bytesRead: number; totalBytes: number }
  | { status: 'failed'; error: string }
  | CaptureAnalysis;

export class CaptureAnalyses {
  private readonly running = new Map<string, AnalysisState>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
    /** Progress and completion, for live updates. */
    private readonly onChange: (sha256: string, state: AnalysisState) => void,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private resultFile(sha256: string): string {
    return path.join(this.dir, `${sha256}.json`);
  }

  state(sha256: string): AnalysisState | undefined {
    const live = this.running.get(sha256);
    if (live) return live;
    try {
      return JSON.parse(fs.readFileSync(this.resultFile(sha256), 'utf8')) as AnalysisState;
    } catch {
      return undefined;
    }
  }

  /** Queues the analysis of the capture at `file` unless it is done or under way. */
  start(sha256: string, file: string): void {
    if (this.state(sha256)) return;
    this.set(sha256, { status: 'pending' });
    this.queue = this.queue.then(() => this.run(sha256, file));
  }

  private set(sha256: string, state: AnalysisState): void {
    this.running.set(sha256, state);
    this.onChange(sha256, state);
  }

  private async run(sha256: string, file: string): Promise<void> {
    const started = performance.now();
    const final = await new Promise<AnalysisState>((resolve) => {
      const worker = startWorker(import.meta.url, './analysis-worker', { workerData: { file }, resourceLimits: { maxOldGenerationSizeMb: 256 } });
      worker.on('message', (m: { type: string; bytesRead: number; totalBytes: number; result: CaptureAnalysis; error: string }) => {
        if (m.type === 'progress') this.set(sha256, { status: 'running', bytesRead: m.bytesRead, totalBytes: m.totalBytes });
        else if (m.type === 'done') resolve(m.result);
        else resolve({ status: 'failed', error: m.error });
      });
      worker.on('error', (err) => resolve({ status: 'failed', error: err.message }));
      worker.on('exit', (code) => resolve({ status: 'failed', error: `analysis stopped (exit ${code})` }));
    });
    try {
      await writeFileAtomic(this.resultFile(sha256), JSON.stringify(final));
    } catch (err) {
      this.log.error({ err, sha256 }, 'could not keep a capture analysis');
    }
    this.running.delete(sha256);
    this.onChange(sha256, final);
    this.log.info({ sha256, status: final.status, ms: Math.round(performance.now() - started) }, 'capture analyzed');
  }
}

/** The 1 ms buckets above `capacityBytesPerMs`, for a capacity other than the one analyzed with. */
export function burstsAt(analysis: CaptureAnalysis, capacityBytesPerMs: number): CaptureAnalysis['bursts'] {
  const over = analysis.ioGraph.bytes.flatMap((bytes, offsetMs) => (bytes > capacityBytesPerMs ? [{ offsetMs, bytes }] : []));
  return { capacityBytesPerMs, msOverCapacity: over.length, worst: over.sort((a, b) => b.bytes - a.bytes).slice(0, 20) };
}
