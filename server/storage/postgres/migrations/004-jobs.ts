import type { Migration } from './index.js';

/**
 * Jobs any node may run, done once for the cluster (server/storage/jobs.ts): capture analyses. A
 * running job is held by its `owner` until `lease_until` (PostgreSQL's clock, the one every node
 * compares with); a job whose lease has run out is claimed again by another node, `attempts` counting
 * the claims. `result` and `progress` are json, not jsonb: kept as written, keys in their order, so
 * every node answers a result with the very same bytes as the node that produced it.
 *
 * Only waiting and running jobs are indexed (those a claim looks through), and not by the columns a
 * lease renewal changes, so renewals stay HOT updates.
 */
export const jobs: Migration = {
  id: 4,
  name: 'jobs',
  sql: `
CREATE TABLE jobs (
  kind text NOT NULL,
  key text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  owner text,
  lease_until timestamptz,
  attempts int NOT NULL DEFAULT 0,
  progress json,
  result json,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, key)
);
CREATE INDEX jobs_open ON jobs (kind) WHERE status IN ('queued', 'running');
`,
};
