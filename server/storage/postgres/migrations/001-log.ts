import type { Migration } from './index.js';

/**
 * Each incident's history (docs/several-nodes.md, "The commit protocol"). Sequence numbers come from
 * the head row, locked by the UPDATE that takes them until COMMIT: seq order is commit order, with
 * no gaps even when a transaction rolls back — never from a SERIAL, whose values are taken at INSERT
 * and can commit out of order (a reader at `seq > n` would skip one that commits late).
 */
export const log: Migration = {
  id: 1,
  name: 'incident log',
  sql: `
CREATE TABLE incident_log_heads (
  incident_id text PRIMARY KEY,
  last_seq bigint NOT NULL DEFAULT 0,
  last_at bigint NOT NULL DEFAULT 0
);
CREATE TABLE incident_updates (
  incident_id text NOT NULL,
  seq bigint NOT NULL,
  at bigint NOT NULL,
  user_id text NOT NULL,
  node_id text NOT NULL,
  "update" bytea NOT NULL,
  PRIMARY KEY (incident_id, seq)
);
CREATE TABLE incident_client_owners (
  incident_id text NOT NULL,
  client_id bigint NOT NULL,
  user_id text NOT NULL,
  PRIMARY KEY (incident_id, client_id)
);
CREATE TABLE incident_checkpoints (
  incident_id text NOT NULL,
  seq bigint NOT NULL,
  at bigint NOT NULL,
  doc bytea NOT NULL,
  PRIMARY KEY (incident_id, seq)
);

-- One batch of one incident's updates, in one call (one round trip, one transaction when called on
-- its own): takes n seqs from the head row (its lock is held until COMMIT), claims the client IDs the
-- batch brings in (one already owned by another user fails the whole batch: SQLSTATE BL409), inserts
-- the records. Returns the first seq and the receive time given to the batch.
CREATE FUNCTION bl_append(
  p_incident text, p_node text, p_at bigint,
  p_users text[], p_updates bytea[],
  p_claim_clients bigint[], p_claim_users text[]
) RETURNS TABLE (first_seq bigint, at bigint) LANGUAGE plpgsql AS $$
DECLARE
  n int := cardinality(p_updates);
  v_last bigint;
  v_at bigint;
  v_conflict bigint;
BEGIN
  UPDATE incident_log_heads h SET last_seq = h.last_seq + n, last_at = greatest(h.last_at, p_at)
    WHERE h.incident_id = p_incident RETURNING h.last_seq, h.last_at INTO v_last, v_at;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no incident log %', p_incident USING ERRCODE = 'BL404';
  END IF;
  IF cardinality(p_claim_clients) > 0 THEN
    INSERT INTO incident_client_owners (incident_id, client_id, user_id)
      SELECT p_incident, c, u FROM unnest(p_claim_clients, p_claim_users) AS t(c, u)
      ON CONFLICT (incident_id, client_id) DO NOTHING;
    SELECT o.client_id INTO v_conflict FROM incident_client_owners o
      JOIN unnest(p_claim_clients, p_claim_users) AS t(c, u) ON o.client_id = t.c
      WHERE o.incident_id = p_incident AND o.user_id <> t.u LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'client id % belongs to another user', v_conflict USING ERRCODE = 'BL409';
    END IF;
  END IF;
  INSERT INTO incident_updates (incident_id, seq, at, user_id, node_id, "update")
    SELECT p_incident, v_last - n + i, v_at, p_users[i], p_node, p_updates[i] FROM generate_subscripts(p_updates, 1) AS i;
  RETURN QUERY SELECT v_last - n + 1, v_at;
END $$;
`,
};
