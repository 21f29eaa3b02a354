/**
 * A multer storage engine that streams an upload to a temp file while hashing it (SHA-256) and
 * sniffing its kind from the first bytes, enforces the kind's size limit as the bytes arrive, fsyncs,
 * and hands the file to the content-addressed blob store. On any failure — a limit, an empty file,
 * a client that aborts — the temp file is removed and its descriptor closed: nothing partial stays.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import type { AttachmentKind } from '../../shared/attachments.js';
import type { BlobStore } from '../store/blob-store.js';
import { sniff, type Sniffed } from './sniff.js';

const SNIFF_BYTES = 4096;
/** Bytes queued for the disk before the upload stream is paused (backpressure). */
const MAX_QUEUED = 8 * 1024 * 1024;

/**
 * Writes chunks to a file in batches (one writev per round trip to the thread pool), so a fast
 * upload is not slowed to one syscall and one pause per 64 KiB chunk.
 */
class BatchedFile {
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private inFlight = false;
  private failure: unknown;
  private idle: Array<(err?: unknown) => void> = [];

  constructor(
    readonly fd: number,
    /** Called when the queue has room again after `write` said it was full. */
    private readonly onRoom: () => void,
  ) {}

  /** Queues a chunk; false means the queue is full: pause the source until `onRoom`. */
  write(chunk: Buffer): boolean {
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    this.pump();
    return this.queuedBytes < MAX_QUEUED;
  }

  /** Resolves when everything queued is written (rejects if a write failed). */
  flushed(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.inFlight && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.idle.push((err) => (err ? reject(err) : resolve())));
  }

  private pump(): void {
    if (this.inFlight || this.queued.length === 0 || this.failure) return;
    const batch = this.queued;
    const wasFull = this.queuedBytes >= MAX_QUEUED;
    this.queued = [];
    this.queuedBytes = 0;
    this.inFlight = true;
    fs.writev(this.fd, batch, (err) => {
      this.inFlight = false;
      if (err) this.failure = err;
      if (err || this.queued.length === 0) {
        for (const done of this.idle.splice(0)) done(err ?? undefined);
      }
      if (!err) {
        if (wasFull) this.onRoom();
        this.pump();
      }
    });
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
    const hash = createHash('sha256');
    const head: Buffer[] = [];
    let headBytes = 0;
    let sniffed: Sniffed | undefined;
    let size = 0;
    const out = new BatchedFile(fd, () => file.stream.resume());
    let finished = false;
    let ended = false;
    const maxAny = Math.max(...Object.values(this.limits));

    const finish = (err: unknown, info?: StoredUpload) => {
      if (finished) return;
      finished = true;
      file.stream.removeAllListeners('data');
      file.stream.resume(); // let busboy drain what is left; we keep none of it
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
      hash.update(chunk);
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
      const info: StoredUpload = { sha256: hash.digest('hex'), size, kind: sniffed.kind, mime: sniffed.mime };
      out
        .flushed()
        .then(() => new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve()))))
        .then(() => finish(null, info), (e: unknown) => finish(e));
    });
  }

  /** Blobs are shared by content, so a stored one stays; a partial file never got this far. */
  _removeFile(_req: Request, _file: Express.Multer.File, cb: (error: Error | null) => void): void {
    cb(null);
  }
}
