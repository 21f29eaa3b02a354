/**
 * SHA-256 of a file while it is being written, computed off the main thread: a worker reads the file
 * behind the writer and hashes it. At 1 GB, hashing on the main thread took a quarter of its time —
 * time it could not spend parsing the upload — and moving the chunks themselves to a worker would
 * copy every one of them. The hash is of the bytes on disk, the very bytes the blob will hold.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../worker-thread.js';
import type { HashReply, HashRequest } from './hash-worker.js';

/** The worker is told how far the file is written at most this often, in bytes. */
const REPORT_EVERY = 8 * 1024 * 1024;

let worker: Worker | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve: (sha256: string) => void; reject: (err: Error) => void }>();

/** The one hashing worker, started when first needed; it never keeps the process alive. */
function hashWorker(): Worker {
  if (worker) return worker;
  const w = startWorker(import.meta.url, './hash-worker', { resourceLimits: { maxOldGenerationSizeMb: 32 } });
  const failAll = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const [id, p] of waiting) (waiting.delete(id), p.reject(err));
  };
  w.on('message', (m: HashReply) => {
    const p = waiting.get(m.id);
    waiting.delete(m.id);
    if ('error' in m) p?.reject(new Error(`hashing the upload failed: ${m.error}`));
    else p?.resolve(m.sha256);
  });
  w.on('error', failAll);
  w.on('exit', (code) => failAll(new Error(`the hashing worker stopped (exit ${code})`)));
  w.unref();
  return (worker = w);
}

export class TrailingHash {
  private readonly id = nextId++;
  private readonly worker = hashWorker();
  private reported = 0;

  constructor(file: string) {
    this.send({ type: 'open', id: this.id, file });
  }

  /** The file's first `bytes` bytes are written (and may be read). */
  written(bytes: number): void {
    if (bytes - this.reported < REPORT_EVERY) return;
    this.reported = bytes;
    this.send({ type: 'written', id: this.id, bytes });
  }

  /** The SHA-256 (hex) of the file's first `bytes` bytes, all written. */
  digest(bytes: number): Promise<string> {
    if (this.worker !== worker) return Promise.reject(new Error('the hashing worker stopped'));
    return new Promise((resolve, reject) => {
      waiting.set(this.id, { resolve, reject });
      this.send({ type: 'end', id: this.id, bytes });
    });
  }

  /** The upload failed: stop hashing and let go of the file. */
  drop(): void {
    this.send({ type: 'drop', id: this.id });
  }

  private send(m: HashRequest): void {
    this.worker.postMessage(m);
  }
}
