/**
 * A new blob written to a temp file next to the blobs: batched writes, the disk asked to catch up as
 * the upload goes on, SHA-256 taken by a worker reading behind the writes, and on commit fdatasync +
 * rename (done by the store). On abort or any failure — a full disk, a client gone — the temp file is
 * removed and its descriptor closed: nothing partial stays.
 */
import fs, { type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { BlobWriter, StoredBlob } from '../blobs.js';
import { TrailingHash } from './trailing-hash.js';

/** Bytes gathered before a write starts: fewer, larger writes wake the thread pool less often. */
const MIN_WRITE = 1024 * 1024;
/** Bytes queued for the disk before `write` says to wait (backpressure). */
const MAX_QUEUED = 8 * 1024 * 1024;
/**
 * Bytes written after which the disk is asked to catch up (fdatasync) while the upload goes on:
 * the last fdatasync then has little left to flush, instead of the whole file.
 */
const SYNC_EVERY = 64 * 1024 * 1024;

/** Moves a complete, fdatasync'd temp file in under its SHA-256 (or drops it: the blob exists). */
export type Adopt = (tempFile: string, sha256: string) => Promise<void>;

export class FileBlobWriter extends Writable implements BlobWriter {
  private file?: FileHandle;
  private hash?: TrailingHash;
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private written = 0;
  private synced = 0;
  private syncing?: Promise<void>;
  private sha256?: string;
  private adopted = false;
  private committing?: Promise<StoredBlob>;

  constructor(
    private readonly temp: string,
    private readonly adopt: Adopt,
  ) {
    // Kept open after 'finish': commit still needs the file.
    super({ highWaterMark: MAX_QUEUED, autoDestroy: false });
  }

  override _construct(callback: (err?: Error | null) => void): void {
    fs.open(this.temp, 'wx', 0o600).then((file) => {
      this.file = file;
      this.hash = new TrailingHash(this.temp);
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.gather([chunk], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    this.gather(chunks.map((c) => c.chunk), callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    (async () => {
      if (this.gatheredBytes > 0) await this.writeGathered();
      await this.syncing;
      const [sha256] = await Promise.all([this.hash!.digest(this.written), this.file!.datasync()]);
      this.sha256 = sha256;
    })().then(() => callback(), callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.adopted) this.hash?.drop();
    // FileHandle.close waits for the writes and syncs under way, so the temp file goes last.
    (async () => {
      await this.file?.close().catch(() => undefined);
      if (!this.adopted) await fs.rm(this.temp, { force: true }).catch(() => undefined);
    })().then(() => callback(err));
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
        await this.file!.close();
        this.file = undefined;
        await this.adopt(this.temp, this.sha256!);
        this.adopted = true;
        this.destroy();
        return { sha256: this.sha256!, size: this.written };
      } catch (err) {
        await this.abort();
        throw err;
      }
    })());
  }

  async abort(): Promise<void> {
    if (this.adopted) return;
    if (!this.closed) {
      const closed = new Promise((resolve) => this.once('close', resolve));
      this.destroy();
      await closed;
    }
  }

  /** Gathers chunks into one write of at least MIN_WRITE; acknowledged at once until then. */
  private gather(chunks: Buffer[], callback: (err?: Error | null) => void): void {
    for (const chunk of chunks) {
      this.gathered.push(chunk);
      this.gatheredBytes += chunk.length;
    }
    if (this.gatheredBytes < MIN_WRITE) return callback();
    this.writeGathered().then(() => callback(), callback);
  }

  private async writeGathered(): Promise<void> {
    const batch = this.gathered;
    const bytes = this.gatheredBytes;
    this.gathered = [];
    this.gatheredBytes = 0;
    await this.file!.writev(batch);
    this.written += bytes;
    this.hash!.written(this.written);
    if (!this.syncing && this.written - this.synced >= SYNC_EVERY) this.syncWritten();
  }

  private syncWritten(): void {
    const upTo = this.written;
    this.syncing = this.file!.datasync().then(
      () => void (this.synced = upTo),
      (err: Error) => void this.destroy(err),
    ).finally(() => (this.syncing = undefined));
  }
}
