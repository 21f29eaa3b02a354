/**
 * What a test server keeps, asked the same way whichever storage it runs on (the files under DATA_DIR,
 * or PostgreSQL under `npm run test:postgres`): for tests that check nothing is left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { TestServer } from './server.js';

/** Whether this run keeps everything in PostgreSQL (vitest.postgres.config.ts). */
export const inPostgres = Boolean(process.env.BRIDGELOG_TEST_POSTGRES);

async function count(server: TestServer, sql: string): Promise<number> {
  const client = new pg.Client(server.databaseUrl);
  await client.connect();
  try {
    return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0]!.n;
  } finally {
    await client.end();
  }
}

/** Files stored (each once, by content). */
export async function storedBlobCount(server: TestServer): Promise<number> {
  if (server.databaseUrl) return count(server, 'blobs');
  const root = path.join(server.dataDir, 'blobs');
  return fs.readdirSync(root).flatMap((d) => fs.readdirSync(path.join(root, d))).length;
}

/** Uploads begun and not finished: temp files, or staged chunks in PostgreSQL. */
export async function unfinishedUploads(server: TestServer): Promise<number> {
  if (server.databaseUrl) return count(server, 'blob_uploads');
  return fs.readdirSync(path.join(server.dataDir, 'tmp')).length;
}

/** Whether the incident has a checkpoint (a snapshot to load from). */
export async function hasCheckpoint(server: TestServer, incidentId: string): Promise<boolean> {
  if (server.databaseUrl) return (await count(server, `incident_checkpoints WHERE incident_id = '${incidentId.replace(/'/g, "''")}'`)) > 0;
  return fs.existsSync(path.join(server.dataDir, 'incidents', incidentId, 'checkpoint.bin'));
}

/** Takes a stored file away behind the server's back (a disk restored in part, a row deleted by hand). */
export async function removeBlob(server: TestServer, sha256: string): Promise<void> {
  if (!server.databaseUrl) return fs.rmSync(path.join(server.dataDir, 'blobs', sha256.slice(0, 2), sha256));
  const client = new pg.Client(server.databaseUrl);
  await client.connect();
  try {
    await client.query('DELETE FROM blob_chunks WHERE sha256 = $1', [sha256]);
    await client.query('DELETE FROM blobs WHERE sha256 = $1', [sha256]);
  } finally {
    await client.end();
  }
}
