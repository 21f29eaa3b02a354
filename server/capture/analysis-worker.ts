/** Runs one capture analysis off the main thread, so the collaboration socket never waits for it. */
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeCapture } from './capture-analysis.js';

const { file } = workerData as { file: string };
let lastReport = 0;
try {
  const result = await analyzeCapture(file, {
    onProgress: (bytesRead, totalBytes) => {
      const now = Date.now();
      if (now - lastReport < 200) return;
      lastReport = now;
      parentPort!.postMessage({ type: 'progress', bytesRead, totalBytes });
    },
  });
  parentPort!.postMessage({ type: 'done', result });
} catch (err) {
  parentPort!.postMessage({ type: 'failed', error: (err as Error).message });
}
