/**
 * Content-addressed files: stored once under their SHA-256, whoever uploads them how often. A file
 * enters only complete and fsync'd (renamed from a temp file), so no reader ever sees a partial one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './durable-file.js';

export interface BlobStore {
  /** A directory for temp files on the same file system as the blobs (so the final move is a rename). */
  readonly tempDir: string;
  pathOf(sha256: string): string;
  has(sha256: string): boolean;
  /** Moves a complete, fsync'd temp file in; if the blob exists already, the temp file is dropped. */
  adopt(tempFile: string, sha256: string): Promise<void>;
}

export function fileBlobStore(dataDir: string): BlobStore {
  const root = path.join(dataDir, 'blobs');
  const tempDir = path.join(dataDir, 'tmp');
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  fs.mkdirSync(tempDir, { recursive: true, mode: 0o700 });
  // Temp files left by a crash mid-upload are never adopted: clear them at start.
  for (const f of fs.readdirSync(tempDir)) fs.rmSync(path.join(tempDir, f), { force: true });
  const pathOf = (sha256: string) => path.join(root, sha256.slice(0, 2), sha256);
  return {
    tempDir,
    pathOf,
    has: (sha256) => fs.existsSync(pathOf(sha256)),
    async adopt(tempFile, sha256) {
      const target = pathOf(sha256);
      if (fs.existsSync(target)) {
        // The same bytes are stored already. Removing the temp copy frees its pages and blocks — half
        // a second of the kernel's time for a 1 GB capture — so it is done after the answer, not
        // before: a crash meanwhile leaves it in tmp/, which is cleared at start.
        void fs.promises.rm(tempFile, { force: true }).catch(() => undefined);
        return;
      }
      await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await fs.promises.rename(tempFile, target);
      await fsyncDir(path.dirname(target));
    },
  };
}
