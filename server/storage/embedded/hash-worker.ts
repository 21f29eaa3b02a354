/**
 * Hashes upload temp files behind their writer (see trailing-hash.ts): told how far a file is
 * written, it reads up to there — from the page cache, a copy in this thread — and feeds SHA-256.
 * One worker serves every upload in progress; each is a job by id.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';

export type HashRequest =
  | { type: 'open'; id: number; file: string }
  | { type: 'written' | 'end'; id: number; bytes: number }
  | { type: 'drop'; id: number };
export type HashReply = { id: number; sha256: string } | { id: number; error: string };

interface Job {
  fd?: number;
  hash: Hash;
  hashed: number;
  /** The first failure (the file could not be opened or read): reported at the end. */
  error?: string;
}

const jobs = new Map<number, Job>();
const buffer = Buffer.allocUnsafe(1 << 20);

function close(job: Job): void {
  if (job.fd !== undefined) fs.closeSync(job.fd);
  job.fd = undefined;
}

function catchUp(job: Job, bytes: number): void {
  try {
    while (job.fd !== undefined && job.hashed < bytes) {
      const n = fs.readSync(job.fd, buffer, 0, Math.min(buffer.length, bytes - job.hashed), job.hashed);
      if (n === 0) throw new Error(`the file ended at ${job.hashed} of ${bytes} written bytes`);
      job.hash.update(buffer.subarray(0, n));
      job.hashed += n;
    }
  } catch (err) {
    job.error ??= (err as Error).message;
    close(job);
  }
}

parentPort!.on('message', (m: HashRequest) => {
  if (m.type === 'open') {
    const job: Job = { hash: createHash('sha256'), hashed: 0 };
    try {
      job.fd = fs.openSync(m.file, 'r');
    } catch (err) {
      job.error = (err as Error).message;
    }
    jobs.set(m.id, job);
    return;
  }
  const job = jobs.get(m.id);
  if (!job) return;
  if (m.type === 'written') return catchUp(job, m.bytes);
  if (m.type === 'end') catchUp(job, m.bytes);
  close(job);
  jobs.delete(m.id);
  if (m.type === 'end') parentPort!.postMessage((job.error ? { id: m.id, error: job.error } : { id: m.id, sha256: job.hash.digest('hex') }) satisfies HashReply);
});
