/** The Blobs contract against the embedded implementation (files under DATA_DIR). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { openFileBlobs } from '../../server/storage/embedded/file-blobs.js';
import { describeBlobsContract } from './blobs.contract.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describeBlobsContract('embedded files', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-blobs-'));
  dirs.push(dataDir);
  return {
    blobs: await openFileBlobs(dataDir),
    reopen: () => openFileBlobs(dataDir),
    leftovers: async () => fs.readdirSync(path.join(dataDir, 'tmp')).length,
  };
});
