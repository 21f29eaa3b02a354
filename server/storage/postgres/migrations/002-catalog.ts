import type { Migration } from './index.js';

/**
 * The catalog: users, API tokens, sessions, incidents, alert integrations, alerts, raw alert payloads,
 * seen marks and attachment records (catalog-feed.ts, pg-*.ts). One table per collection: the columns
 * lookups need, and `value`, the record as the embedded store keeps it.
 *
 * `value` is `json`, not `jsonb`: json keeps the text as given, and accepts every string JSON.stringify
 * writes (jsonb refuses \u0000 and lone surrogates, which a webhook sender or an incident title may well
 * contain: the write would fail every time it is retried). Nothing in SQL looks inside it; the nodes
 * merge changes in JavaScript.
 *
 * `version` is taken from one sequence at every insert (the column default) and update (a trigger),
 * so a row's versions only grow: a node keeps the newest version it has seen of each row, and writes
 * a change computed from the version it holds only if the row is still at that version. `pos` is the
 * order rows were first stored in (lists come in that order, as the embedded store's arrays do).
 * Every change of a row is announced to every node, in its transaction, by NOTIFY bl_catalog
 * {"table", "key"}; alert_raw is only ever appended and read by no node, so it has neither.
 */
export const catalog: Migration = {
  id: 2,
  name: 'catalog',
  sql: `
-- Row versions, from one sequence: a row's versions only grow, also across a delete and an insert of the same key.
CREATE SEQUENCE catalog_version;
CREATE TABLE catalog_users (
  id text PRIMARY KEY,
  -- Case-sensitive, as userByName matches; unique so that two nodes cannot both create a name.
  name text NOT NULL UNIQUE,
  pos bigint GENERATED ALWAYS AS IDENTITY,
  version bigint NOT NULL DEFAULT nextval('catalog_version'),
  value json NOT NULL
);
CREATE TABLE catalog_tokens (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  user_id text NOT NULL,
  pos bigint GENERATED ALWAYS AS IDENTITY,
  version bigint NOT NULL DEFAULT nextval('catalog_version'),
  value json NOT NULL
);
CREATE INDEX catalog_tokens_user ON catalog_tokens (user_id);
CREATE TABLE catalog_sessions (
  token_hash text PRIMARY KEY,
  user_id text NOT NULL,
  expires_at timestamptz NOT NULL,
  pos bigint GENERATED ALWAYS AS IDENTITY,
  version bigint NOT NULL DEFAULT nextval('catalog_version'),
  value json NOT NULL
);
CREATE INDEX catalog_sessions_user ON catalog_sessions (user_id);
CREATE INDEX catalog_sessions_expiry ON catalog_sessions (expires_at);
CREATE TABLE catalog_incidents (
  id text PRIMARY KEY,
  pos bigint GENERATED ALWAYS AS IDENTITY,
  version bigint NOT NULL DEFAULT nextval('catalog_version'),
  value json NOT NULL
);
CREATE TABLE alert_integrations (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  pos bigint GENERATED ALWAYS AS IDENTITY,
  version bigint NOT NULL DEFAULT nextval('catalog_version'),
  value json NOT NULL
);
CREATE TABLE alerts (
  id text PRIMARY KEY,
  source text NOT NULL,
  -- As a JSON string (a sender's fingerprint may hold \\u0000, which text refuses); only for the index.
  fingerprint text NOT NULL,
  pos bigint GENERATED ALWAYS AS IDENTITY,
  version bigint NOT NULL DEFAULT nextval('catalog_version'),
  value json NOT NULL,
  UNIQUE (source, fingerprint)
);
CREATE TABLE alert_raw (
  id text PRIMARY KEY,
  received_at timestamptz NOT NULL,
  integration_id text NOT NULL,
  source text NOT NULL,
  -- NULL when the sender's body was undefined (the embedded log leaves the field out).
  payload json
);
CREATE INDEX alert_raw_received ON alert_raw (received_at);
CREATE TABLE seen_marks (
  user_id text NOT NULL,
  incident_id text NOT NULL,
  seq bigint NOT NULL,
  version bigint NOT NULL DEFAULT nextval('catalog_version'),
  value json NOT NULL,
  PRIMARY KEY (user_id, incident_id)
);
CREATE TABLE attachments (
  id text PRIMARY KEY,
  incident_id text NOT NULL,
  pos bigint GENERATED ALWAYS AS IDENTITY,
  version bigint NOT NULL DEFAULT nextval('catalog_version'),
  value json NOT NULL
);
CREATE INDEX attachments_incident ON attachments (incident_id);

CREATE FUNCTION bl_catalog_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Taken under the row's lock: later than any version the row had.
  NEW.version := nextval('catalog_version');
  RETURN NEW;
END $$;

-- The key is read from the row's key columns, never from value (json functions refuse \\u0000).
CREATE FUNCTION bl_catalog_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r record;
  k json;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF TG_TABLE_NAME = 'seen_marks' THEN
    k := json_build_array(r.user_id, r.incident_id);
  ELSIF TG_TABLE_NAME = 'catalog_sessions' THEN
    k := to_json(r.token_hash);
  ELSE
    k := to_json(r.id);
  END IF;
  PERFORM pg_notify('bl_catalog', json_build_object('table', TG_TABLE_NAME, 'key', k)::text);
  RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['catalog_users', 'catalog_tokens', 'catalog_sessions', 'catalog_incidents', 'alert_integrations', 'alerts', 'seen_marks', 'attachments'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION bl_catalog_bump()', t || '_version', t);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION bl_catalog_notify()', t || '_notify', t);
  END LOOP;
END $$;
`,
};
