/**
 * A multer storage engine that streams an upload into a new blob while sniffing its kind from the
 * first bytes, and enforces the kind's size limit as the bytes arrive. On any failure — a limit, an
 * empty file, a client that aborts, a full disk — the blob is aborted: nothing partial stays.
 */
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import type { AttachmentKind } from '../../shared/attachments.js';
import type { Blobs } from '../storage/blobs.js';
import { sniff, type Sniffed } from './sniff.js';

const SNIFF_BYTES = 4096;

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
    private readonly blobs: Blobs,
    private readonly limits: Record<AttachmentKind, number>,
    /**
     * Called the moment a limit is crossed. multer itself answers only once the whole body has
     * arrived; this lets the route answer 413 at once and close the connection.
     */
    private readonly onTooLarge: (req: Request, err: UploadRefused) => void,
  ) {}

  _handleFile(req: Request, file: UploadFile, cb: (error?: unknown, info?: Partial<Express.Multer.File> & StoredUpload) => void): void {
    const blob = this.blobs.create();
    const head: Buffer[] = [];
    let headBytes = 0;
    let sniffed: Sniffed | undefined;
    let size = 0;
    let finished = false;
    let ended = false;
    const maxAny = Math.max(...Object.values(this.limits));

    const finish = (err: unknown, info?: StoredUpload) => {
      if (finished) return;
      finished = true;
      file.stream.removeAllListeners('data');
      file.stream.resume(); // let busboy drain what is left; we keep none of it
      if (err) void blob.abort().then(() => cb(err));
      else cb(null, info);
    };

    // A failed write or sync (a full disk) ends the upload at once.
    blob.on('error', (err) => finish(err));
    blob.on('drain', () => file.stream.resume());
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
      if (!blob.write(chunk)) file.stream.pause();
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
      blob.commit().then(({ sha256 }) => finish(null, { sha256, size, kind, mime }), (e: unknown) => finish(e));
    });
  }

  /** Blobs are shared by content, so a stored one stays; a partial file never got this far. */
  _removeFile(_req: Request, _file: Express.Multer.File, cb: (error: Error | null) => void): void {
    cb(null);
  }
}
