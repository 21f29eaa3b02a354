import type { Migration } from './index.js';

/**
 * Search (#19): the records of every incident as server/search/search-documents.ts reads them, with
 * a tsvector over title (weight A) and body (B) under a GIN index. The tsvector is made by the server
 * from the same words the embedded index takes (no stemming, no stop words, compound
 * words whole and by their parts), so both modes find the same things.
 * `search_incidents` holds what is per incident: the history's seq it was read at (a later reading
 * replaces an earlier one, never the reverse), its alert labels (`site:ny`) and its conclusion.
 */
export const search: Migration = {
  id: 5,
  name: 'search',
  sql: `
CREATE TABLE search_incidents (
  incident_id text PRIMARY KEY,
  seq bigint NOT NULL,
  labels text[] NOT NULL DEFAULT '{}',
  conclusion text,
  indexed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_incidents_labels ON search_incidents USING gin (labels);
CREATE TABLE search_docs (
  id text PRIMARY KEY,
  incident_id text NOT NULL,
  kind text NOT NULL,
  entry_id text,
  hypothesis_id text,
  title text NOT NULL,
  body text NOT NULL,
  command text,
  conclusion text,
  at text NOT NULL,
  tsv tsvector NOT NULL
);
CREATE INDEX search_docs_tsv ON search_docs USING gin (tsv);
CREATE INDEX search_docs_incident ON search_docs (incident_id);
`,
};
