/**
 * Jobs in PostgreSQL (server/storage/jobs.ts; table in migrations/004-jobs.ts). Every change is one
 * statement: a claim locks the row it takes (`FOR UPDATE SKIP LOCKED`, so nodes claiming at once
 * take different jobs and never wait on each other), and each change by a job's owner is conditional
 * on still being that owner — a node whose lease ran out and was taken over finds out at its next
 * renew or finish, and changes nothing. Leases are compared with PostgreSQL's clock alone.
 */
import type pg from 'pg';
import type { ClaimOptions, Claimed, Job, Jobs } from '../jobs.js';

interface JobRow {
  key: string;
  status: Job['status'];
  owner: string | null;
  attempts: number;
  progress: unknown;
  result: unknown;
  error: string | null;
  lease_expired: boolean;
}

const COLUMNS = `key, status, owner, attempts, progress, result, error, (status = 'running' AND lease_until < now()) AS lease_expired`;
const lease = (param: string) => `now() + make_interval(secs => ${param}::float8 / 1000)`;

const jobOf = (r: JobRow): Job => ({
  key: r.key,
  status: r.status,
  owner: r.owner,
  attempts: r.attempts,
  progress: r.progress ?? null,
  result: r.result ?? null,
  error: r.error,
  leaseExpired: r.lease_expired,
});

export class PgJobs implements Jobs {
  constructor(private readonly pool: pg.Pool) {}

  async enqueue(kind: string, key: string): Promise<Job> {
    // Two statements: the select sees a row another node inserted while this insert waited on it.
    await this.pool.query(`INSERT INTO jobs (kind, key, status) VALUES ($1, $2, 'queued') ON CONFLICT (kind, key) DO NOTHING`, [kind, key]);
    const job = (await this.get(kind, [key])).get(key);
    if (!job) throw new Error(`job ${kind} ${key} vanished as it was queued`);
    return job;
  }

  async claimNext(kind: string, owner: string, { leaseMs, maxAttempts }: ClaimOptions): Promise<{ claimed?: Claimed; abandoned: Job[] }> {
    const abandoned: Job[] = [];
    for (;;) {
      // `exhausted`: running, its lease run out, on its last attempt — failed rather than claimed.
      const { rows } = await this.pool.query<JobRow>(
        `WITH next AS (
           SELECT key, (status = 'running' AND attempts >= $4) AS exhausted FROM jobs
           WHERE kind = $1 AND (status = 'queued' OR (status = 'running' AND lease_until < now()))
           ORDER BY updated_at, key
           LIMIT 1
           FOR UPDATE SKIP LOCKED
         )
         UPDATE jobs j SET
           status = CASE WHEN next.exhausted THEN 'failed' ELSE 'running' END,
           owner = CASE WHEN next.exhausted THEN j.owner ELSE $2 END,
           lease_until = CASE WHEN next.exhausted THEN NULL ELSE ${lease('$3')} END,
           attempts = CASE WHEN next.exhausted THEN j.attempts ELSE j.attempts + 1 END,
           error = CASE WHEN next.exhausted
             THEN format('gave up after %s attempts: the node running it (%s) stopped before finishing', j.attempts, j.owner) || coalesce('; before that: ' || j.error, '')
             ELSE j.error END,
           progress = NULL,
           updated_at = now()
         FROM next WHERE j.kind = $1 AND j.key = next.key
         RETURNING j.key, j.status, j.owner, j.attempts, j.progress, j.result, j.error, false AS lease_expired`,
        [kind, owner, leaseMs, maxAttempts],
      );
      const row = rows[0];
      if (!row) return { abandoned };
      if (row.status === 'running') return { claimed: { key: row.key, attempt: row.attempts }, abandoned };
      abandoned.push(jobOf(row));
    }
  }

  async renew(kind: string, key: string, owner: string, leaseMs: number, progress?: unknown): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE jobs SET lease_until = ${lease('$4')}, progress = coalesce($5::json, progress), updated_at = now()
       WHERE kind = $1 AND key = $2 AND owner = $3 AND status = 'running'`,
      [kind, key, owner, leaseMs, progress === undefined ? null : JSON.stringify(progress)],
    );
    return res.rowCount === 1;
  }

  async finish(kind: string, key: string, owner: string, result: unknown): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE jobs SET status = 'done', result = $4::json, error = NULL, progress = NULL, lease_until = NULL, updated_at = now()
       WHERE kind = $1 AND key = $2 AND owner = $3 AND status = 'running'`,
      [kind, key, owner, JSON.stringify(result)],
    );
    return res.rowCount === 1;
  }

  async fail(kind: string, key: string, owner: string, error: string, { retry, maxAttempts }: { retry: boolean; maxAttempts: number }): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE jobs SET
         status = CASE WHEN $5 AND attempts < $6 THEN 'queued' ELSE 'failed' END,
         error = CASE WHEN $5 AND attempts >= $6 THEN format('gave up after %s attempts: %s', attempts, $4::text) ELSE $4 END,
         progress = NULL, lease_until = NULL, updated_at = now()
       WHERE kind = $1 AND key = $2 AND owner = $3 AND status = 'running'`,
      [kind, key, owner, error, retry, maxAttempts],
    );
    return res.rowCount === 1;
  }

  async release(kind: string, key: string, owner: string): Promise<boolean> {
    const res = await this.pool.query(
      `UPDATE jobs SET status = 'queued', attempts = attempts - 1, progress = NULL, lease_until = NULL, updated_at = now()
       WHERE kind = $1 AND key = $2 AND owner = $3 AND status = 'running'`,
      [kind, key, owner],
    );
    return res.rowCount === 1;
  }

  async redo(kind: string, key: string): Promise<void> {
    await this.pool.query(
      `UPDATE jobs SET status = 'queued', attempts = 0, result = NULL, error = NULL, updated_at = now() WHERE kind = $1 AND key = $2 AND status = 'done'`,
      [kind, key],
    );
  }

  async get(kind: string, keys: string[]): Promise<Map<string, Job>> {
    if (keys.length === 0) return new Map();
    const { rows } = await this.pool.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE kind = $1 AND key = ANY($2::text[])`, [kind, keys]);
    return new Map(rows.map((r) => [r.key, jobOf(r)]));
  }
}
