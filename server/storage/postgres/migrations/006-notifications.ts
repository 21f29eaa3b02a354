import type { Migration } from './index.js';

/**
 * Notifications (issue #20; server/notifications/notification-store.ts). `notify_incidents` holds
 * each incident's notified state, locked `FOR UPDATE` while a node derives from it, so two nodes
 * deriving one incident take turns; the messages a derivation produces are inserted in the same
 * transaction (`ON CONFLICT (id) DO NOTHING`: ids are stable). Messages are claimed with
 * `FOR UPDATE SKIP LOCKED` under a lease (PostgreSQL's clock), so one node at a time sends each.
 * Times the nodes set (`created_at`, `next_at`, …) are ms since the epoch by the node's clock.
 * Secrets (signing secret, access token, SMTP password) must be readable to be used: kept in their
 * own column, never in `value`, which is what the API presents.
 */
export const notifications: Migration = {
  id: 6,
  name: 'notifications',
  sql: `
CREATE TABLE notify_destinations (
  id text PRIMARY KEY,
  value json NOT NULL,
  secret text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE notify_incidents (
  incident_id text PRIMARY KEY,
  seq bigint NOT NULL DEFAULT 0,
  state json,
  recheck_at bigint
);
CREATE INDEX notify_incidents_recheck ON notify_incidents (recheck_at) WHERE recheck_at IS NOT NULL;
CREATE TABLE notify_messages (
  id text PRIMARY KEY,
  destination_id text NOT NULL,
  incident_id text NOT NULL,
  event json NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'withheld')),
  digest boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL,
  since bigint NOT NULL,
  next_at bigint,
  delivered_at bigint,
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  lease_owner text,
  lease_until timestamptz
);
CREATE INDEX notify_messages_due ON notify_messages (next_at) WHERE status = 'pending';
CREATE INDEX notify_messages_destination ON notify_messages (destination_id, created_at DESC);
CREATE INDEX notify_messages_open_digest ON notify_messages (destination_id, incident_id) WHERE digest AND status = 'pending';
CREATE TABLE notify_attempts (
  message_id text NOT NULL,
  n int NOT NULL,
  destination_id text NOT NULL,
  at timestamptz NOT NULL,
  duration_ms int NOT NULL,
  ok boolean NOT NULL,
  status_code int,
  error text,
  excerpt text,
  PRIMARY KEY (message_id, n)
);
`,
};
