/**
 * The embedded Blobs: one file per blob under DATA_DIR/blobs/<first two hex>/<sha256>. A blob enters
 * only complete and fdatasync'd, renamed from a temp file in DATA_DIR/tmp (the same file system), so
 * no reader ever sees a partial one.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BlobMissing, type Blobs } from '../blobs.js';
import { fsyncDir } from '../../store/durable-file.js';
import { FileBlobWriter } from './file-blob-writer.js';

const SHA256 = /^[0-9a-f]{64}$/;

export async function openFileBlobs(dataDir: string): Promise<Blobs> {
  const root = path.join(dataDir, 'blobs');
  const tempDir = path.join(dataDir, 'tmp');
  await fsp.mkdir(root, { recursive: true, mode: 0o700 });
  await fsp.mkdir(tempDir, { recursive: true, mode: 0o700 });
  // Temp files left by a crash mid-upload are never adopted: clear them at start.
  for (const f of await fsp.readdir(tempDir)) await fsp.rm(path.join(tempDir, f), { force: true });

  // A key that is not a SHA-256 names no file, rather than a path outside the store.
  const pathOf = (sha256: string) => (SHA256.test(sha256) ? path.join(root, sha256.slice(0, 2), sha256) : undefined);

  const size = async (sha256: string) => {
    const file = pathOf(sha256);
    const stat = file && (await fsp.stat(file).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err))));
    return stat ? stat.size : undefined;
  };

  async function adopt(tempFile: string, sha256: string): Promise<void> {
    const target = pathOf(sha256)!;
    if (fs.existsSync(target)) {
      // The same bytes are stored already. Removing the temp copy frees its pages and blocks — half
      // a second of the kernel's time for a 1 GB capture — so it is done after the answer, not
      // before: a crash meanwhile leaves it in tmp/, which is cleared at start.
      void fsp.rm(tempFile, { force: true }).catch(() => undefined);
      return;
    }
    const dir = path.dirname(target);
    if (await fsp.mkdir(dir, { recursive: true, mode: 0o700 })) await fsyncDir(root);
    await fsp.rename(tempFile, target);
    await fsyncDir(dir);
  }

  return {
    size,
    has: async (sha256) => (await size(sha256)) !== undefined,
    read(sha256, range) {
      const file = pathOf(sha256);
      const open: typeof fs.open = ((p: string, flags: string, mode: number, cb: (err: Error | null, fd?: number) => void) => {
        if (!file) return cb(new BlobMissing(sha256));
        fs.open(p, flags, mode, (err, fd) => cb(err?.code === 'ENOENT' ? new BlobMissing(sha256) : err, fd));
      }) as typeof fs.open;
      // Opened through `open`, so a missing blob (or a key that is no SHA-256) fails as BlobMissing.
      return fs.createReadStream(file ?? sha256, { ...range, fs: { open, read: fs.read, close: fs.close } });
    },
    async withLocalFile(sha256, use) {
      if ((await size(sha256)) === undefined) throw new BlobMissing(sha256);
      return use(pathOf(sha256)!);
    },
    create: () => new FileBlobWriter(path.join(tempDir, randomBytes(12).toString('hex')), adopt),
  };
}
