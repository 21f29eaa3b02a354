/**
 * Worker threads running one of our modules. Built, the module is plain JavaScript; from source
 * (tests, `tsx`), the worker must register the TypeScript loader itself before importing it.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Starts the module `relative` (without extension) to the caller's `import.meta.url`. */
export function startWorker(callerUrl: string, relative: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`${relative}.js`, callerUrl), options);
  const workerUrl = new URL(`${relative}.ts`, callerUrl).href;
  const loader = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl)}); });`;
  return new Worker(code, { ...options, eval: true });
}
