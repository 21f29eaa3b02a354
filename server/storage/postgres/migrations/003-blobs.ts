import type { Migration } from './index.js';

/**
 * Evidence files (server/storage/blobs.ts) as 1 MiB chunks. A blob is readable once its `blobs` row
 * is there, and that row commits in the same transaction as its chunks, so no reader ever sees part
 * of a file. Bytes being uploaded are staged under the upload's id (their SHA-256 is known only at
 * the end) in blob_upload_chunks; the commit copies them under the SHA-256, inserts the `blobs` row
 * and drops the upload, in one transaction. An upload whose node stops refreshing `heartbeat_at` (a
 * node killed mid-upload) is deleted, chunks and all, by any node once its lease has run out.
 */
export const blobs: Migration = {
  id: 3,
  name: 'blobs',
  sql: `
CREATE TABLE blobs (
  sha256 text PRIMARY KEY,
  size bigint NOT NULL,
  -- Every chunk but the last holds exactly this many bytes: byte n is in chunk n / chunk_size.
  chunk_size int NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE blob_chunks (
  sha256 text NOT NULL,
  idx int NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (sha256, idx)
);
CREATE TABLE blob_uploads (
  id uuid PRIMARY KEY,
  node_id text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  -- Refreshed by the writing node (with PostgreSQL's clock, as the sweep compares it with now()).
  -- Not indexed: the table holds only the uploads under way, and an unindexed column keeps the
  -- refreshes HOT updates.
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE blob_upload_chunks (
  upload_id uuid NOT NULL REFERENCES blob_uploads (id) ON DELETE CASCADE,
  idx int NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (upload_id, idx)
);
`,
};
