/**
 * Jobs: work any node of a cluster may do, done once for all of them (#15). A job is named by a kind
 * and a key (a capture analysis: 'capture-analysis/v2' and the capture's SHA-256) and moves
 *
 *   queued → running (claimed by one node, under a lease it renews while it works) → done | failed
 *
 * A node that stops renewing (killed, cut off from the database) loses the job once its lease has run
 * out: the next claim takes it over, as another attempt. Attempts are bounded, so a job that takes its
 * node down every time is failed after `maxAttempts` rather than passed around for ever. A result is
 * stored with the job, for every node to read.
 *
 * Only the PostgreSQL mode has jobs (postgres/pg-jobs.ts): embedded, one process does everything and
 * keeps its results in files, as before (capture-analyses.ts).
 */

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Job {
  key: string;
  status: JobStatus;
  /** The node holding the job (running), or the last one that did. */
  owner: string | null;
  /** Times the job was claimed (a claim given back by `release` is not counted). */
  attempts: number;
  /** Running: the progress its node last reported. */
  progress: unknown;
  /** Done: what the job produced (JSON, kept as written: keys in their order). */
  result: unknown;
  /** Failed: why. Queued again after a failed attempt: that attempt's error. */
  error: string | null;
  /** Running under a lease that has run out (its node stopped renewing it): the next claim takes it. */
  leaseExpired: boolean;
}

export interface ClaimOptions {
  /** How long the claim holds without a `renew`. */
  leaseMs: number;
  /** Attempts a job gets: one whose lease ran out on its last attempt is failed, not claimed. */
  maxAttempts: number;
}

export interface Claimed {
  key: string;
  /** 1 for the first claim, 2 for the first takeover, … */
  attempt: number;
}

export interface Jobs {
  /** Queues the job unless it exists (in any status: a failed job stays failed); answers it as it now stands. */
  enqueue(kind: string, key: string): Promise<Job>;
  /**
   * Claims for `owner` the job of `kind` waiting longest: queued, or running under a lease that has
   * run out. Jobs claimed by other nodes at the same moment are skipped, never waited for. A job
   * found on its last attempt with its lease run out is failed instead (and reported in `abandoned`),
   * and the next one looked at. `claimed` is undefined when nothing waits.
   */
  claimNext(kind: string, owner: string, options: ClaimOptions): Promise<{ claimed?: Claimed; abandoned: Job[] }>;
  /** Extends the lease `owner` holds on the job (recording its progress); false if it no longer holds it. */
  renew(kind: string, key: string, owner: string, leaseMs: number, progress?: unknown): Promise<boolean>;
  /** Stores the job's result; false (and nothing changed) if `owner` no longer holds the job. */
  finish(kind: string, key: string, owner: string, result: unknown): Promise<boolean>;
  /**
   * Ends `owner`'s attempt with `error`: failed for good, or with `retry` queued again — failed all
   * the same once it has had `maxAttempts`. False if `owner` no longer held the job.
   */
  fail(kind: string, key: string, owner: string, error: string, options: { retry: boolean; maxAttempts: number }): Promise<boolean>;
  /** Gives the job back, queued, as if `owner` had never claimed it (a node stopping on purpose). */
  release(kind: string, key: string, owner: string): Promise<boolean>;
  /** Queues a done job again (its result turned out to be unusable: a file of it is gone). */
  redo(kind: string, key: string): Promise<void>;
  /** The jobs among `keys` that exist. */
  get(kind: string, keys: string[]): Promise<Map<string, Job>>;
}
