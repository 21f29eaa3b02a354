/**
 * Blobs: evidence files kept by the SHA-256 of their bytes, stored once however often they are
 * uploaded. The seam between the server and where the bytes live (#15): files under DATA_DIR today
 * (embedded/file-blobs.ts), chunks in PostgreSQL later. Callers see streams and byte ranges, never a
 * path — except inside `withLocalFile`, for a worker that must have a file.
 */
import type { Readable, Writable } from 'node:stream';

/** Bytes `start` to `end`, both included (as in an HTTP Range). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredBlob {
  sha256: string;
  size: number;
}

/**
 * A new blob being written. Nobody sees it until `commit`, which stores it under the SHA-256 of what
 * was written (the store hashes, so a blob is never filed under a wrong key); `abort`, or a failed
 * write or commit, leaves nothing behind. Errors are emitted like any Writable's.
 */
export interface BlobWriter extends Writable {
  /** Ends the writes if the caller has not, makes the bytes durable and visible under their SHA-256. */
  commit(): Promise<StoredBlob>;
  /** Drops what was written; resolves once nothing of it is kept. Never rejects. */
  abort(): Promise<void>;
}

export interface Blobs {
  has(sha256: string): Promise<boolean>;
  /** The blob's length in bytes, or undefined if there is no such blob. */
  size(sha256: string): Promise<number | undefined>;
  /** The blob's bytes, or those of `range`; the stream fails with BlobMissing if there is no such blob. */
  read(sha256: string, range?: ByteRange): Readable;
  /** Runs `use` with a local file holding the blob (to read only), valid until `use` settles; rejects with BlobMissing. */
  withLocalFile<T>(sha256: string, use: (file: string) => Promise<T>): Promise<T>;
  /** A writer for a new blob. */
  create(): BlobWriter;
}

export class BlobMissing extends Error {
  constructor(readonly sha256: string) {
    super(`no stored file with SHA-256 ${sha256}`);
  }
}
