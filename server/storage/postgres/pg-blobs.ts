/**
 * Blobs in PostgreSQL (#15): every node of a cluster reads and writes the same files. A blob is kept
 * as 1 MiB chunks in blob_chunks, visible once its `blobs` row is (migrations/003-blobs.ts). An upload
 * is staged under its own id, since its SHA-256 is known only at the end; its commit moves it under
 * the SHA-256 in one transaction, so no reader ever sees part of a file. Staged uploads are leased:
 * their writer refreshes a heartbeat, and those of a node that died mid-upload are swept by any node
 * once the lease has run out (by the node itself, at once, when it starts again with the same id).
 */
import { createHash, randomBytes, randomUUID, type Hash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { transaction } from './database.js';
import { BlobMissing, type Blobs, type BlobWriter, type ByteRange, type StoredBlob } from '../blobs.js';

const SHA256 = /^[0-9a-f]{64}$/;
const MiB = 1024 * 1024;
const CHUNK_SIZE = MiB;
/** Chunks fetched per query while reading: a read holds at most this many MiB, whatever the file's size. */
const READ_BATCH = 4;
const DEFAULT_LEASE_MS = 10 * 60_000;

export interface PgBlobsOptions {
  /**
   * This node's id, stored with its uploads. Give the same id across restarts of one node (and
   * different ids to nodes running at the same time): at start the node then drops at once what it
   * was uploading when it stopped. Default: an id of this process only, so its leftovers go only when
   * their lease runs out.
   */
  nodeId?: string;
  /** How long an upload whose heartbeat stopped is kept before any node may drop it. Default 10 min. */
  leaseMs?: number;
  /** How often stale uploads are looked for. Default: a tenth of the lease, at most every minute. */
  sweepEveryMs?: number;
  /**
   * Where `withLocalFile` puts its copies: a directory of this node's alone (what is in it is removed
   * at start, as a crash may have left copies there). Default: a directory of this process under
   * os.tmpdir() (those of processes gone are removed).
   */
  cacheDir?: string;
}

export interface PgBlobs extends Blobs {
  /** Stops the sweep of stale uploads (the pool is the caller's to end). */
  close(): void;
}

/** What a writer needs of its store. */
interface Staging {
  pool: pg.Pool;
  nodeId: string;
  heartbeatEveryMs: number;
  /** Moves a complete staged upload in under its SHA-256; false if the blob existed (the upload is left staged). */
  adopt(uploadId: string, stored: StoredBlob, chunks: number): Promise<boolean>;
}

export async function openPgBlobs(pool: pg.Pool, options: PgBlobsOptions = {}): Promise<PgBlobs> {
  const nodeId = options.nodeId ?? `${os.hostname()}/${process.pid}/${randomBytes(6).toString('hex')}`;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const sweepEveryMs = options.sweepEveryMs ?? Math.min(leaseMs / 10, 60_000);

  const sweep = async (alsoMine: boolean) => {
    await pool.query(
      `DELETE FROM blob_uploads WHERE heartbeat_at < now() - make_interval(secs => $1::float8 / 1000) OR (node_id = $2 AND $3)`,
      [leaseMs, nodeId, alsoMine],
    );
  };
  // The uploads a previous run of this node left are dead: it is this node that would be writing them.
  await sweep(true);
  if (options.cacheDir) {
    // Copies a crash left behind (the directory is this node's alone).
    for (const name of await fsp.readdir(options.cacheDir).catch(() => [] as string[])) {
      await fsp.rm(path.join(options.cacheDir, name), { recursive: true, force: true });
    }
  }
  const sweeper = setInterval(() => {
    if (pool.ended) return clearInterval(sweeper);
    // A failed sweep (PostgreSQL away for a moment) is tried again at the next one.
    sweep(false).catch(() => undefined);
  }, sweepEveryMs);
  sweeper.unref();

  const local = new LocalCopies(options.cacheDir);
  const keyOf = (sha256: string) => (SHA256.test(sha256) ? sha256 : undefined);

  const stat = async (sha256: string) => {
    const key = keyOf(sha256);
    if (!key) return undefined;
    const { rows } = await pool.query<{ size: string | number; chunk_size: number }>('SELECT size, chunk_size FROM blobs WHERE sha256 = $1', [key]);
    return rows[0] && { size: Number(rows[0].size), chunkSize: rows[0].chunk_size };
  };

  async function adopt(uploadId: string, stored: StoredBlob, chunks: number): Promise<boolean> {
    // The same bytes are stored already: nothing to move (the writer drops its copy after the answer).
    if (await stat(stored.sha256)) return false;
    return transaction(pool, async (client) => {
      // Locked so that no sweep drops the upload under the move; gone if it was swept already.
      const upload = await client.query('SELECT 1 FROM blob_uploads WHERE id = $1 FOR UPDATE', [uploadId]);
      if (upload.rowCount !== 1) throw new Error('the upload expired before its commit (its heartbeat stopped for longer than the lease)');
      const staged = await client.query<{ chunks: number; bytes: string | number }>(
        'SELECT count(*)::int AS chunks, coalesce(sum(length(data)), 0)::bigint AS bytes FROM blob_upload_chunks WHERE upload_id = $1',
        [uploadId],
      );
      const { chunks: stagedChunks, bytes } = staged.rows[0]!;
      if (stagedChunks !== chunks || Number(bytes) !== stored.size) {
        throw new Error(`the upload's staged chunks are not what was written (${stagedChunks} chunks, ${bytes} bytes staged; ${chunks} chunks, ${stored.size} bytes written)`);
      }
      // A concurrent writer of the same bytes waits here for the other's transaction, then finds the row.
      const inserted = await client.query(
        'INSERT INTO blobs (sha256, size, chunk_size) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING',
        [stored.sha256, stored.size, CHUNK_SIZE],
      );
      if (inserted.rowCount === 1) {
        await client.query('INSERT INTO blob_chunks (sha256, idx, data) SELECT $1, idx, data FROM blob_upload_chunks WHERE upload_id = $2', [stored.sha256, uploadId]);
      }
      await client.query('DELETE FROM blob_uploads WHERE id = $1', [uploadId]); // and its chunks (ON DELETE CASCADE)
      return true;
    });
  }

  const staging: Staging = { pool, nodeId, heartbeatEveryMs: Math.max(leaseMs / 4, 1), adopt };

  const blobs: PgBlobs = {
    size: async (sha256) => (await stat(sha256))?.size,
    has: async (sha256) => (await stat(sha256)) !== undefined,
    read(sha256, range) {
      if (range) checkRange(range);
      return Readable.from(readChunks(pool, sha256, range, stat), { objectMode: false, highWaterMark: 64 * 1024 });
    },
    async withLocalFile(sha256, use) {
      if (!(await stat(sha256))) throw new BlobMissing(sha256);
      const copy = await local.acquire(sha256, (file) => pipeline(blobs.read(sha256), fs.createWriteStream(file, { flags: 'wx', mode: 0o600 })));
      try {
        return await use(copy.file);
      } finally {
        copy.release();
      }
    },
    create: () => new PgBlobWriter(staging),
    close: () => clearInterval(sweeper),
  };
  return blobs;
}

/** As fs.createReadStream checks its start and end. */
function checkRange({ start, end }: ByteRange): void {
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`The value of "start" is out of range. It must be a non-negative integer. Received ${start}`);
  if (!Number.isSafeInteger(end) || end < 0) throw new RangeError(`The value of "end" is out of range. It must be a non-negative integer. Received ${end}`);
  if (start > end) throw new RangeError(`The value of "start" is out of range. It must be <= "end" (here: ${end}). Received ${start}`);
}

/**
 * The bytes of `range` (all by default; like a file's read stream, a range past the end is cut at the
 * end), READ_BATCH chunks per query and only the bytes asked for (substring of the first and last).
 */
async function* readChunks(
  pool: pg.Pool,
  sha256: string,
  range: ByteRange | undefined,
  stat: (sha256: string) => Promise<{ size: number; chunkSize: number } | undefined>,
): AsyncGenerator<Buffer> {
  const blob = await stat(sha256);
  if (!blob) throw new BlobMissing(sha256);
  const { size, chunkSize } = blob;
  const start = range?.start ?? 0;
  const end = Math.min(range?.end ?? Infinity, size - 1);
  if (start > end) return;
  const last = Math.floor(end / chunkSize);
  for (let first = Math.floor(start / chunkSize); first <= last; first += READ_BATCH) {
    const batchLast = Math.min(first + READ_BATCH - 1, last);
    // Only the batch's first chunk may start after its first byte (the range's start), only its last
    // may stop before its end (the range's end): in between, chunks are whole.
    const skip = Math.max(start - first * chunkSize, 0);
    const keep = Math.min(end - batchLast * chunkSize + 1, chunkSize);
    const expected = (idx: number) => (idx === batchLast ? keep : chunkSize) - (idx === first ? skip : 0);
    // In base64: pg 8 takes no binary results (it decodes every field as a string), and bytea's own
    // text form, hex, is twice the size of the bytes; base64 took half the time of hex for 100 MiB.
    const { rows } = await pool.query<{ idx: number; data: string }>(
      `SELECT idx, encode(substring(data
         FROM CASE WHEN idx = $2 THEN $4::int + 1 ELSE 1 END
         FOR CASE WHEN idx = $3 THEN $5::int ELSE $6::int END - CASE WHEN idx = $2 THEN $4::int ELSE 0 END), 'base64') AS data
       FROM blob_chunks WHERE sha256 = $1 AND idx BETWEEN $2 AND $3 ORDER BY idx`,
      [sha256, first, batchLast, skip, keep, chunkSize],
    );
    for (let idx = first, i = 0; idx <= batchLast; idx++, i++) {
      const row = rows[i];
      const data = row?.idx === idx ? Buffer.from(row.data, 'base64') : undefined; // (skips the line breaks PostgreSQL puts in)
      if (data?.length !== expected(idx)) throw new Error(`blob ${sha256} is damaged: its chunk ${idx} is ${data ? 'short' : 'missing'}`);
      yield data;
    }
  }
}

/**
 * A new blob, staged in blob_upload_chunks a chunk at a time: what is written is gathered up to a
 * chunk, which is inserted before more is taken (the Writable's buffer is one chunk: backpressure),
 * and hashed as it comes. The upload's heartbeat is refreshed by each chunk and by a timer, so a slow
 * upload keeps its lease. On abort or any failure the upload's rows are deleted.
 */
class PgBlobWriter extends Writable implements BlobWriter {
  private readonly uploadId = randomUUID();
  private readonly hash: Hash = createHash('sha256');
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private written = 0;
  private chunks = 0;
  private sha256?: string;
  /** Whether rows of the upload may exist (from the insert of its row until they are moved or dropped). */
  private staged = false;
  /** Committed: the blob is stored, abort has nothing to drop. */
  private stored = false;
  private heartbeat?: NodeJS.Timeout;
  private committing?: Promise<StoredBlob>;

  constructor(private readonly staging: Staging) {
    // Kept open after 'finish': commit still needs the upload.
    super({ highWaterMark: CHUNK_SIZE, autoDestroy: false });
  }

  override _construct(callback: (err?: Error | null) => void): void {
    this.staged = true;
    this.staging.pool.query('INSERT INTO blob_uploads (id, node_id) VALUES ($1, $2)', [this.uploadId, this.staging.nodeId]).then(() => {
      this.heartbeat = setInterval(() => {
        // A refresh that fails (PostgreSQL away for a moment) is tried again by the next chunk or tick.
        this.staging.pool.query('UPDATE blob_uploads SET heartbeat_at = now() WHERE id = $1', [this.uploadId]).catch(() => undefined);
      }, this.staging.heartbeatEveryMs);
      this.heartbeat.unref();
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.gathered.push(chunk);
    this.gatheredBytes += chunk.length;
    this.written += chunk.length;
    if (this.gatheredBytes < CHUNK_SIZE) return callback();
    this.insertFullChunks().then(() => callback(), callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    (async () => {
      await this.insertFullChunks();
      if (this.gatheredBytes > 0) await this.insertChunk(Buffer.concat(this.gathered, this.gatheredBytes));
      this.gathered = [];
      this.gatheredBytes = 0;
      this.sha256 = this.hash.digest('hex');
    })().then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    clearInterval(this.heartbeat);
    this.gathered = [];
    if (!this.staged) return callback(err);
    // A chunk insert still under way cannot outlive this: it refreshes the upload's row first, so it
    // either finds the row gone or holds it until it commits, and then the cascade takes the chunk too.
    // Should the delete fail (PostgreSQL away), the upload is swept once its lease runs out.
    this.staging.pool.query('DELETE FROM blob_uploads WHERE id = $1', [this.uploadId]).then(
      () => void (this.staged = false),
      () => undefined,
    ).then(() => callback(err));
  }

  commit(): Promise<StoredBlob> {
    return (this.committing ??= (async () => {
      try {
        if (!this.writableEnded) this.end();
        await new Promise<void>((resolve, reject) => {
          if (this.writableFinished) return resolve();
          if (this.destroyed) return reject(this.errored ?? new Error('the blob was aborted'));
          const failed = (err?: Error) => (this.off('finish', done), reject(err ?? new Error('the blob was aborted')));
          const done = () => (this.off('error', failed).off('close', failed), resolve());
          this.once('finish', done).once('error', failed).once('close', failed);
        });
        const stored = { sha256: this.sha256!, size: this.written };
        // If the blob existed, the staged copy is left to destroy(), which drops it after the answer.
        if (await this.staging.adopt(this.uploadId, stored, this.chunks)) this.staged = false;
        this.stored = true;
        this.destroy();
        return stored;
      } catch (err) {
        await this.abort();
        throw err;
      }
    })());
  }

  async abort(): Promise<void> {
    if (this.stored) return;
    if (!this.closed) {
      const closed = new Promise((resolve) => this.once('close', resolve));
      this.destroy();
      await closed;
    }
  }

  /** Inserts every whole chunk gathered; what is left (less than a chunk) stays gathered. */
  private async insertFullChunks(): Promise<void> {
    if (this.gatheredBytes < CHUNK_SIZE) return;
    let all = this.gathered.length === 1 ? this.gathered[0]! : Buffer.concat(this.gathered, this.gatheredBytes);
    this.gathered = [];
    this.gatheredBytes = 0;
    while (all.length >= CHUNK_SIZE) {
      await this.insertChunk(all.subarray(0, CHUNK_SIZE));
      all = all.subarray(CHUNK_SIZE);
    }
    if (all.length > 0) {
      this.gathered = [all];
      this.gatheredBytes = all.length;
    }
  }

  private async insertChunk(data: Buffer): Promise<void> {
    // The heartbeat's refresh and the insert in one statement: a chunk is never staged for an upload
    // that a sweep has dropped (it fails instead: the upload expired).
    const res = await this.staging.pool.query(
      `WITH upload AS (UPDATE blob_uploads SET heartbeat_at = now() WHERE id = $1 RETURNING id)
       INSERT INTO blob_upload_chunks (upload_id, idx, data) SELECT id, $2::int, $3::bytea FROM upload`,
      [this.uploadId, this.chunks, data],
    );
    if (res.rowCount !== 1) throw new Error('the upload expired (its heartbeat stopped for longer than the lease)');
    this.chunks++;
  }
}

/**
 * Local copies of blobs for `withLocalFile`: one file per blob while someone uses it (downloaded once
 * for all who ask meanwhile, to a temp name then renamed, so it is complete whenever it is seen),
 * removed when the last user is done. Kept in the node's cacheDir, or else in a directory of this
 * process under os.tmpdir(), created when first needed (those of processes gone are removed then).
 */
class LocalCopies {
  private dir?: Promise<string>;
  private readonly inUse = new Map<string, { users: number; ready: Promise<string> }>();

  constructor(private readonly cacheDir?: string) {}

  async acquire(sha256: string, download: (file: string) => Promise<void>): Promise<{ file: string; release(): void }> {
    const entry = this.inUse.get(sha256) ?? { users: 0, ready: this.fetch(sha256, download) };
    this.inUse.set(sha256, entry);
    entry.users++;
    const release = () => {
      if (--entry.users > 0) return;
      if (this.inUse.get(sha256) === entry) this.inUse.delete(sha256);
      entry.ready.then((file) => fsp.rm(file, { force: true })).catch(() => undefined);
    };
    try {
      return { file: await entry.ready, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  private async fetch(sha256: string, download: (file: string) => Promise<void>): Promise<string> {
    const dir = await (this.dir ??= this.makeDir());
    // A name of its own: a copy still being removed never meets the next one of the same blob.
    const file = path.join(dir, `${sha256}-${randomBytes(4).toString('hex')}`);
    const temp = `${file}.part`;
    try {
      await download(temp);
      await fsp.rename(temp, file);
      return file;
    } catch (err) {
      await fsp.rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  private async makeDir(): Promise<string> {
    if (this.cacheDir) {
      await fsp.mkdir(this.cacheDir, { recursive: true, mode: 0o700 });
      return this.cacheDir;
    }
    const prefix = 'bridgelog-pg-blobs-';
    for (const name of await fsp.readdir(os.tmpdir()).catch(() => [] as string[])) {
      const pid = Number(/^bridgelog-pg-blobs-(\d+)-/.exec(name)?.[1]);
      if (pid && pid !== process.pid && !alive(pid)) await fsp.rm(path.join(os.tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
    }
    return fsp.mkdtemp(path.join(os.tmpdir(), `${prefix}${process.pid}-`));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
