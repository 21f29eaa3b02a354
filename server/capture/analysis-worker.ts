/**
 * Runs one capture analysis off the main thread, so the collaboration socket never waits for it. It
 * writes the 1 ms IO graph to its file itself and posts only the summary: an hour of buckets never
 * crosses to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeCapture } from './capture-analysis.js';
import { writeSeriesFile } from './io-series.js';

/**
 * Progress is reported every twentieth of the file (and at its end), by bytes rather than by time:
 * a steady bar for a 2 GB capture, and steps a responder sees even for one of tens of MB.
 */
const PROGRESS_STEPS = 20;

const { file, seriesFile } = workerData as { file: string; seriesFile: string };
let reported = 0;
try {
  const { summary, series } = await analyzeCapture(file, {
    onProgress: (bytesRead, totalBytes) => {
      if (bytesRead < totalBytes && bytesRead - reported < totalBytes / PROGRESS_STEPS) return;
      reported = bytesRead;
      parentPort!.postMessage({ type: 'progress', bytesRead, totalBytes });
    },
  });
  await writeSeriesFile(series, seriesFile);
  parentPort!.postMessage({ type: 'done', summary });
} catch (err) {
  parentPort!.postMessage({ type: 'failed', error: (err as Error).message });
}
