/** Runs one capture analysis off the main thread, so the collaboration socket never waits for it. */
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeCapture } from './capture-analysis.js';

/**
 * Progress is reported every twentieth of the file (and at its end), by bytes rather than by time:
 * a steady bar for a 2 GB capture, and steps a responder sees even for one of tens of MB.
 */
const PROGRESS_STEPS = 20;

const { file } = workerData as { file: string };
let reported = 0;
try {
  const result = await analyzeCapture(file, {
    onProgress: (bytesRead, totalBytes) => {
      if (bytesRead < totalBytes && bytesRead - reported < totalBytes / PROGRESS_STEPS) return;
      reported = bytesRead;
      parentPort!.postMessage({ type: 'progress', bytesRead, totalBytes });
    },
  });
  parentPort!.postMessage({ type: 'done', result });
} catch (err) {
  parentPort!.postMessage({ type: 'failed', error: (err as Error).message });
}
