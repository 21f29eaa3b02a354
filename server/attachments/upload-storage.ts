/**
 * A multer storage engine that streams an upload to a temp file while hashing it (SHA-256, by a
 * worker reading behind the writes) and sniffing its kind from the first bytes, enforces the kind's
 * size limit as the bytes arrive, fdatasyncs, and hands the file to the content-addressed blob store.
 * On any failure — a limit, an empty file, a client that aborts, a full disk — the temp file is
 * removed and its descriptor closed: nothing partial stays.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import type { AttachmentKind } from '../../shared/attachments.js';
import type { BlobStore } from '../store/blob-store.js';
import { sniff, type Sniffed } from './sniff.js';
import { TrailingHash } from './trailing-hash.js';

const SNIFF_BYTES = 4096;
/** Bytes queued before a write starts: fewer, larger writes wake the thread pool less often. */
const MIN_WRITE = 1024 * 1024;
/** Bytes queued for the disk before the upload stream is paused (backpressure). */
const MAX_QUEUED = 8 * 1024 * 1024;
/**
 * Bytes written after which the disk is asked to catch up (fdatasync) while the upload goes on:
 * the last fdatasync then has little left to flush, instead of the whole file.
 */
const SYNC_EVERY = 64 * 1024 * 1024;

/**
 * Writes chunks to a file in batches (one writev per round trip to the thread pool), so a fast
 * upload is not slowed to one syscall and one pause per 64 KiB chunk, and has the disk catch up as
 * it goes (see SYNC_EVERY).
 */
class BatchedFile {
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  private syncing = false;
  /** Write everything queued, however little: the upload has ended. */
  private draining = false;
  private written = 0;
  private synced = 0;
  private failure: unknown = undefined;
  private idle: Array<(err?: unknown) => void> = [];

  constructor(
    readonly fd: number,
    /** Called when the queue has room again after `write` said it was full. */
    private readonly onRoom: () => void,
    /** Called after each write with the bytes written so far. */
    private readonly onWritten: (bytes: number) => void,
    /** Called once if a write or sync fails (a full disk): the upload cannot succeed. */
    private readonly onFailure: (err: unknown) => void,
  ) {}

  /** Queues a chunk; false means the queue is full: pause the source until `onRoom`. */
  write(chunk: Buffer): boolean {
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    this.pump();
    return this.queuedBytes < MAX_QUEUED;
  }

  /**
   * Resolves when everything queued is written and no fdatasync of ours is under way (so the file
   * may be closed); rejects if a write or sync failed.
   */
  flushed(): Promise<void> {
    this.draining = true;
    return new Promise((resolve, reject) => {
      this.idle.push((err) => (err ? reject(err) : resolve()));
      this.pump();
    });
  }

  private pump(): void {
    if (this.failure === undefined) {
      if (!this.writing && this.queuedBytes >= (this.draining ? 1 : MIN_WRITE)) this.writeQueued();
      if (!this.syncing && !this.draining && this.written - this.synced >= SYNC_EVERY) this.syncWritten();
    }
    const settled = !this.writing && !this.syncing && (this.failure !== undefined || this.queuedBytes === 0);
    if (this.draining && settled) for (const done of this.idle.splice(0)) done(this.failure);
  }

  private writeQueued(): void {
    const batch = this.queued;
    const bytes = this.queuedBytes;
    const wasFull = bytes >= MAX_QUEUED;
    this.queued = [];
    this.queuedBytes = 0;
    this.writing = true;
    fs.writev(this.fd, batch, (err) => {
      this.writing = false;
      if (err) this.fail(err);
      else {
        this.onWritten((this.written += bytes));
        if (wasFull) this.onRoom();
      }
      this.pump();
    });
  }

  private syncWritten(): void {
    const upTo = this.written;
    this.syncing = true;
    fs.fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (err) this.fail(err);
      else this.synced = upTo;
      this.pump();
    });
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.onFailure(err);
  }
}

export interface StoredUpload {
  sha256: string;
  size: number;
  kind: AttachmentKind;
  mime: string;
}

export class UploadRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type UploadFile = Express.Multer.File & { stream: NodeJS.ReadableStream & { destroy?: () => void } };

export class ContentAddressedStorage implements StorageEngine {
  constructor(
    private readonly blobs: BlobStore,
    private readonly limits: Record<AttachmentKind, number>,
    /**
     * Called the moment a limit is crossed. multer itself answers only once the whole body has
     * arrived; this lets the route answer 413 at once and close the connection.
     */
    private readonly onTooLarge: (req: Request, err: UploadRefused) => void,
  ) {}

  _handleFile(req: Request, file: UploadFile, cb: (error?: unknown, info?: Partial<Express.Multer.File> & StoredUpload) => void): void {
    const temp = path.join(this.blobs.tempDir, randomBytes(12).toString('hex'));
    let fd: number;
    try {
      fd = fs.openSync(temp, 'wx', 0o600);
    } catch (err) {
      return cb(err);
    }
    const hash = new TrailingHash(temp);
    const head: Buffer[] = [];
    let headBytes = 0;
    let sniffed: Sniffed | undefined;
    let size = 0;
    let finished = false;
    const out = new BatchedFile(
      fd,
      () => file.stream.resume(),
      (bytes) => hash.written(bytes),
      (err) => finish(err),
    );
    let ended = false;
    const maxAny = Math.max(...Object.values(this.limits));

    const finish = (err: unknown, info?: StoredUpload) => {
      if (finished) return;
      finished = true;
      file.stream.removeAllListeners('data');
      file.stream.resume(); // let busboy drain what is left; we keep none of it
      if (err) hash.drop();
      void out.flushed().catch(() => undefined).finally(() => {
        fs.close(fd, () => {
          if (err) fs.rm(temp, { force: true }, () => cb(err));
          else this.blobs.adopt(temp, info!.sha256).then(() => cb(null, info), (e: unknown) => fs.rm(temp, { force: true }, () => cb(e)));
        });
      });
    };

    file.stream.on('data', (chunk: Buffer) => {
      if (finished) return;
      size += chunk.length;
      if (!sniffed) {
        head.push(chunk);
        headBytes += chunk.length;
        if (headBytes >= SNIFF_BYTES) sniffed = sniff(Buffer.concat(head));
      }
      const limit = sniffed ? this.limits[sniffed.kind] : maxAny;
      if (size > limit) {
        const err = new UploadRefused(413, `the file is over the ${Math.floor(limit / 2 ** 20)} MiB limit for ${sniffed?.kind ?? 'uploads'}`);
        this.onTooLarge(req, err);
        return finish(err);
      }
      if (!out.write(chunk)) file.stream.pause();
    });
    file.stream.on('error', (err: unknown) => finish(err));
    // A client that goes away mid-upload: busboy closes the stream without an end.
    file.stream.on('close', () => {
      if (!ended) finish(new UploadRefused(400, 'the upload was cut off before the end'));
    });
    file.stream.on('end', () => {
      ended = true;
      if (finished) return;
      sniffed ??= sniff(Buffer.concat(head));
      if (size === 0) return finish(new UploadRefused(400, 'the file is empty'));
      if (size > this.limits[sniffed.kind]) {
        return finish(new UploadRefused(413, `the file is over the ${Math.floor(this.limits[sniffed.kind] / 2 ** 20)} MiB limit for ${sniffed.kind}`));
      }
      const { kind, mime } = sniffed;
      out
        .flushed()
        .then(() => Promise.all([hash.digest(size), new Promise<void>((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())))]))
        .then(([sha256]) => finish(null, { sha256, size, kind, mime }), (e: unknown) => finish(e));
    });
  }

  /** Blobs are shared by content, so a stored one stays; a partial file never got this far. */
  _removeFile(_req: Request, _file: Express.Multer.File, cb: (error: Error | null) => void): void {
    cb(null);
  }
}
