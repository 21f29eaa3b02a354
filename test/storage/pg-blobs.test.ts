/** The Blobs contract against PostgreSQL, and what only a store shared by several nodes must show. */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BlobMissing, type BlobWriter } from '../../server/storage/blobs.js';
import { openDatabase, type Database } from '../../server/storage/postgres/database.js';
import { openPgBlobs, type PgBlobs, type PgBlobsOptions } from '../../server/storage/postgres/pg-blobs.js';
import { usePostgres } from '../helpers/postgres.js';
import { describeBlobsContract } from './blobs.contract.js';

const postgres = usePostgres();
const databases: Database[] = [];
const stores: PgBlobs[] = [];
const cacheDirs = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-pg-blobs-test-'));
afterAll(async () => {
  for (const s of stores) s.close();
  await Promise.all(databases.filter((db) => !db.pool.ended).map((db) => db.close()));
  fs.rmSync(cacheDirs, { recursive: true, force: true });
}, 30_000);
let nodes = 0;

/** A node: its own pool on the database, its own PgBlobs. */
async function node(url: string, options: PgBlobsOptions = {}): Promise<{ db: Database; blobs: PgBlobs }> {
  const db = await openDatabase(url);
  databases.push(db);
  const blobs = await openPgBlobs(db.pool, { cacheDir: path.join(cacheDirs, `node${++nodes}`), ...options });
  stores.push(blobs);
  return { db, blobs };
}

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const count = async (db: Database, sql: string) => Number((await db.pool.query<{ n: number }>(sql)).rows[0]!.n);
const stagedUploads = (db: Database) => count(db, 'SELECT count(*)::int AS n FROM blob_uploads');

async function writeAll(w: BlobWriter, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; at += 256 * 1024) {
    if (!w.write(bytes.subarray(at, at + 256 * 1024))) await new Promise((resolve) => w.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => w.write(Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
}

describeBlobsContract('postgresql', async () => {
  const url = await postgres.newDatabase();
  const first = await node(url, { nodeId: 'node-a' });
  return {
    blobs: first.blobs,
    // Node A started again: a new pool, the same node id (the abandoned instance's pool lives on, as
    // another process's would not, so it is not used again).
    reopen: async () => (await node(url, { nodeId: 'node-a' })).blobs,
    leftovers: () => stagedUploads(first.db),
  };
});

describe('PostgreSQL blobs shared by several nodes', () => {
  it('shows another node nothing of a blob while its chunks are staged', async () => {
    const url = await postgres.newDatabase();
    const a = await node(url, { nodeId: 'a' });
    const b = await node(url, { nodeId: 'b' });
    const bytes = randomBytes(2 * MiB + 5);
    const key = sha256(bytes);
    const w = a.blobs.create();
    await writeAll(w, bytes);
    await new Promise((resolve) => w.end(resolve));
    expect(await count(a.db, 'SELECT count(*)::int AS n FROM blob_upload_chunks')).toBe(3);
    expect(await b.blobs.has(key)).toBe(false);
    expect(await b.blobs.size(key)).toBeUndefined();
    await expect(buffer(b.blobs.read(key))).rejects.toBeInstanceOf(BlobMissing);
    expect(await w.commit()).toEqual({ sha256: key, size: bytes.length });
    expect(await b.blobs.size(key)).toBe(bytes.length);
    expect(sha256(await buffer(b.blobs.read(key)))).toBe(key);
    // Moved, not kept twice.
    expect(await count(b.db, 'SELECT count(*)::int AS n FROM blob_upload_chunks')).toBe(0);
    expect(await count(b.db, 'SELECT count(*)::int AS n FROM blob_chunks')).toBe(3);
  });

  it('drops the upload of a dead node once its lease has run out, and keeps a live one', async () => {
    const url = await postgres.newDatabase();
    const dead = await node(url, { nodeId: 'dead' });
    const cut = dead.blobs.create();
    await writeAll(cut, randomBytes(2 * MiB));
    dead.blobs.close();
    await dead.db.close(); // the node is gone: nothing refreshes its upload's heartbeat any more

    const leaseMs = 2_000;
    const live = await node(url, { nodeId: 'live', leaseMs, sweepEveryMs: 100 });
    // Another node's upload is not dropped at start while its lease runs.
    expect(await stagedUploads(live.db)).toBe(1);
    const slow = live.blobs.create();
    const bytes = randomBytes(MiB + 7);
    await writeAll(slow, bytes.subarray(0, MiB));
    await expect.poll(() => count(live.db, `SELECT count(*)::int AS n FROM blob_uploads WHERE node_id = 'dead'`)).toBe(0);
    expect(await count(live.db, 'SELECT count(*)::int AS n FROM blob_upload_chunks')).toBe(1); // the live upload's, only
    // The live upload, idle for longer than the lease, was kept alive by its heartbeat.
    await new Promise((resolve) => setTimeout(resolve, 1.5 * leaseMs));
    await writeAll(slow, bytes.subarray(MiB));
    expect(await slow.commit()).toEqual({ sha256: sha256(bytes), size: bytes.length });
    expect(sha256(await buffer(live.blobs.read(sha256(bytes))))).toBe(sha256(bytes));
    expect(await stagedUploads(live.db)).toBe(0);
    cut.destroy();
  });

  it('fails the commit of an upload swept while its node was silent, storing nothing', async () => {
    const url = await postgres.newDatabase();
    const stalled = await node(url, { nodeId: 'stalled' }); // heartbeats every 2.5 min: none in this test
    const bytes = randomBytes(MiB + 1);
    const w = stalled.blobs.create();
    await writeAll(w, bytes);
    const sweeper = await node(url, { nodeId: 'sweeper', leaseMs: 300, sweepEveryMs: 50 });
    await expect.poll(() => stagedUploads(sweeper.db)).toBe(0);
    await expect(w.commit()).rejects.toThrow(/expired/);
    expect(await sweeper.blobs.has(sha256(bytes))).toBe(false);
    expect(await count(sweeper.db, 'SELECT count(*)::int AS n FROM blob_upload_chunks')).toBe(0);
  });

  it('reads a range by fetching only the chunks that hold it, a few at a time', async () => {
    const url = await postgres.newDatabase();
    const { db, blobs } = await node(url);
    const bytes = randomBytes(9 * MiB + 100);
    const w = blobs.create();
    await writeAll(w, bytes);
    const { sha256: key } = await w.commit();
    expect(await count(db, 'SELECT count(*)::int AS n FROM blob_chunks')).toBe(10);
    expect(await count(db, 'SELECT max(length(data))::int AS n FROM blob_chunks')).toBe(MiB);
    // Which chunks each query fetched.
    const fetched: Array<[number, number]> = [];
    const original = db.pool.query.bind(db.pool) as (text: unknown, values?: unknown[]) => Promise<unknown>;
    const query = vi.spyOn(db.pool, 'query').mockImplementation(((text: unknown, values?: unknown[]) => {
      if (typeof text === 'string' && text.includes('FROM blob_chunks WHERE')) fetched.push([values![1] as number, values![2] as number]);
      return original(text, values);
    }) as never);
    const cases = [
      { start: 5 * MiB + 3, end: 5 * MiB + 40, chunks: [[5, 5]] }, // inside one chunk
      { start: 3 * MiB - 2, end: 3 * MiB + 1, chunks: [[2, 3]] }, // across two
      { start: 2 * MiB, end: 7 * MiB - 1, chunks: [[2, 5], [6, 6]] }, // whole chunks, in batches
      { start: 9 * MiB, end: 20 * MiB, chunks: [[9, 9]] }, // past the end: cut at the end, as a file's
      { start: 0, end: bytes.length - 1, chunks: [[0, 3], [4, 7], [8, 9]] },
    ];
    for (const { start, end, chunks } of cases) {
      fetched.length = 0;
      expect(sha256(await buffer(blobs.read(key, { start, end })))).toBe(sha256(bytes.subarray(start, end + 1)));
      expect(fetched).toEqual(chunks);
    }
    query.mockRestore();
    expect((await buffer(blobs.read(key, { start: bytes.length, end: bytes.length + 10 }))).length).toBe(0);
    expect(() => blobs.read(key, { start: 10, end: 9 })).toThrow(RangeError);
    // An empty blob is a blob.
    const empty = blobs.create();
    expect(await empty.commit()).toEqual({ sha256: sha256(Buffer.alloc(0)), size: 0 });
    expect((await buffer(blobs.read(sha256(Buffer.alloc(0))))).length).toBe(0);
  });

  it('reports a blob whose chunks are missing as damaged, not as shorter', async () => {
    const url = await postgres.newDatabase();
    const { db, blobs } = await node(url);
    const bytes = randomBytes(3 * MiB);
    const w = blobs.create();
    await writeAll(w, bytes);
    const { sha256: key } = await w.commit();
    await db.pool.query('DELETE FROM blob_chunks WHERE sha256 = $1 AND idx = 1', [key]);
    await expect(buffer(blobs.read(key))).rejects.toThrow(/damaged/);
    expect((await buffer(blobs.read(key, { start: 0, end: MiB - 1 }))).length).toBe(MiB);
  });

  it('lends one local copy to the users of a blob at the same time, removed after the last', async () => {
    const url = await postgres.newDatabase();
    const cacheDir = path.join(cacheDirs, 'lending');
    fs.mkdirSync(cacheDir);
    fs.writeFileSync(path.join(cacheDir, 'left-by-a-crash.part'), 'x');
    const { blobs } = await node(url, { cacheDir });
    expect(fs.readdirSync(cacheDir)).toEqual([]); // cleared at start
    const bytes = randomBytes(2 * MiB + 1);
    const w = blobs.create();
    await writeAll(w, bytes);
    const { sha256: key } = await w.commit();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const files: string[] = [];
    const first = blobs.withLocalFile(key, async (file) => (files.push(file), await held, sha256(fs.readFileSync(file))));
    await expect.poll(() => files.length).toBe(1);
    const second = await blobs.withLocalFile(key, async (file) => (files.push(file), sha256(fs.readFileSync(file))));
    expect(second).toBe(key);
    expect(files[1]).toBe(files[0]);
    expect(fs.existsSync(files[0]!)).toBe(true); // the first user still has it
    release();
    expect(await first).toBe(key);
    await expect.poll(() => fs.readdirSync(cacheDir)).toEqual([]);
    // A failing use still lets go of the copy.
    await expect(blobs.withLocalFile(key, async () => Promise.reject(new Error('worker crashed')))).rejects.toThrow('worker crashed');
    await expect.poll(() => fs.readdirSync(cacheDir)).toEqual([]);
  });
});
