/**
 * What every Blobs implementation promises (server/storage/blobs.ts), written once and run against
 * each: the embedded files now, PostgreSQL later.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BlobMissing, type Blobs, type BlobWriter } from '../../server/storage/blobs.js';

export interface BlobsHarness {
  blobs: Blobs;
  /** The same storage opened again, as at a restart after a crash (the old instance is abandoned). */
  reopen(): Promise<Blobs>;
  /** How many unfinished writes the storage still keeps (temp files, staged chunks). */
  leftovers(): Promise<number>;
}

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Compares by digest: vitest's toEqual walks a buffer byte by byte, seconds per MiB. */
const digestOf = async (bytes: Promise<Buffer>) => sha256(await bytes);

/** Writes `bytes` in uneven pieces, minding backpressure; the writer is left open. */
async function writeAll(w: BlobWriter, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const piece = bytes.subarray(at, (at += 100_000 + (at % 7919)));
    if (!w.write(piece)) await new Promise((resolve) => w.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => w.write(Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
}

async function store(blobs: Blobs, bytes: Buffer) {
  const w = blobs.create();
  await writeAll(w, bytes);
  return w.commit();
}

export function describeBlobsContract(name: string, open: () => Promise<BlobsHarness>): void {
  describe(`Blobs contract: ${name}`, () => {
    it('stores what is written under its SHA-256, and reads it whole or by byte ranges', async () => {
      const { blobs } = await open();
      // Over 3 MiB, so ranges cross the chunk and batch boundaries implementations are likely to have.
      const bytes = randomBytes(3 * MiB + 12_345);
      expect(await store(blobs, bytes)).toEqual({ sha256: sha256(bytes), size: bytes.length });
      const key = sha256(bytes);
      expect(await blobs.has(key)).toBe(true);
      expect(await blobs.size(key)).toBe(bytes.length);
      expect(await digestOf(buffer(blobs.read(key)))).toBe(key);
      for (const [start, end] of [[0, 0], [0, 99], [MiB - 5, MiB + 5], [2 * MiB - 1, 3 * MiB], [bytes.length - 1, bytes.length - 1], [17, bytes.length - 1]] as const) {
        expect(await digestOf(buffer(blobs.read(key, { start, end })))).toBe(sha256(bytes.subarray(start, end + 1)));
      }
    });

    it('stores a small file and one piped in as a stream', async () => {
      const { blobs } = await open();
      const small = Buffer.from('ping db01: 3 packets transmitted, 0 received');
      const w = blobs.create();
      await pipeline(Readable.from([small]), w);
      expect(await w.commit()).toEqual({ sha256: sha256(small), size: small.length });
      expect(await buffer(blobs.read(sha256(small), { start: 5, end: 8 }))).toEqual(Buffer.from('db01'));
    });

    it('shows nothing of a blob before it is committed', async () => {
      const h = await open();
      const bytes = randomBytes(2 * MiB);
      const w = h.blobs.create();
      await writeAll(w, bytes);
      await new Promise((resolve) => w.end(resolve));
      expect(await h.blobs.has(sha256(bytes))).toBe(false);
      expect(await h.blobs.size(sha256(bytes))).toBeUndefined();
      await w.commit();
      expect(await h.blobs.has(sha256(bytes))).toBe(true);
    });

    it('keeps nothing of an aborted blob, whether its writes had ended or not', async () => {
      const h = await open();
      const bytes = randomBytes(2 * MiB);
      const open1 = h.blobs.create();
      await writeAll(open1, bytes);
      const ended = h.blobs.create();
      await writeAll(ended, bytes);
      await new Promise((resolve) => ended.end(resolve));
      await Promise.all([open1.abort(), ended.abort()]);
      expect(await h.blobs.has(sha256(bytes))).toBe(false);
      expect(await h.leftovers()).toBe(0);
      await expect(open1.commit()).rejects.toThrow();
      expect(await h.blobs.has(sha256(bytes))).toBe(false);
    });

    it('keeps nothing of a blob whose writing failed, and will not commit it', async () => {
      const h = await open();
      const bytes = randomBytes(2 * MiB);
      const w = h.blobs.create();
      const failed = new Promise((resolve) => w.once('error', resolve));
      await writeAll(w, bytes);
      w.destroy(new Error('no space left on device'));
      await failed;
      await expect(w.commit()).rejects.toThrow('no space left on device');
      expect(await h.blobs.has(sha256(bytes))).toBe(false);
      expect(await h.leftovers()).toBe(0);
    });

    it('stores the same bytes written by concurrent writers once, for both', async () => {
      const h = await open();
      const bytes = randomBytes(3 * MiB);
      const writers = [h.blobs.create(), h.blobs.create(), h.blobs.create()];
      await Promise.all(writers.map((w) => writeAll(w, bytes)));
      const stored = await Promise.all(writers.map((w) => w.commit()));
      for (const s of stored) expect(s).toEqual({ sha256: sha256(bytes), size: bytes.length });
      expect(await digestOf(buffer(h.blobs.read(sha256(bytes))))).toBe(sha256(bytes));
      // The copies not needed may be dropped after the answer, but they are dropped.
      await expect.poll(() => h.leftovers()).toBe(0);
      // And once more, after the blob exists.
      expect(await store(h.blobs, bytes)).toEqual({ sha256: sha256(bytes), size: bytes.length });
      await expect.poll(() => h.leftovers()).toBe(0);
    });

    it('lends a local file holding the bytes to whoever needs one', async () => {
      const { blobs } = await open();
      const bytes = randomBytes(MiB + 3);
      const { sha256: key } = await store(blobs, bytes);
      expect(await digestOf(blobs.withLocalFile(key, (file) => fs.readFile(file)))).toBe(key);
    });

    it('answers for a missing blob: not there, no size, BlobMissing to readers', async () => {
      const { blobs } = await open();
      for (const key of [sha256(Buffer.from('never stored')), '../../etc/passwd', '']) {
        expect(await blobs.has(key)).toBe(false);
        expect(await blobs.size(key)).toBeUndefined();
        await expect(buffer(blobs.read(key))).rejects.toBeInstanceOf(BlobMissing);
        await expect(buffer(blobs.read(key, { start: 0, end: 9 }))).rejects.toBeInstanceOf(BlobMissing);
        let lent = false;
        await expect(blobs.withLocalFile(key, async () => void (lent = true))).rejects.toBeInstanceOf(BlobMissing);
        expect(lent).toBe(false);
      }
    });

    it('clears what a crash left mid-write when opened again', async () => {
      const h = await open();
      const bytes = randomBytes(2 * MiB);
      const cut = h.blobs.create();
      await writeAll(cut, bytes);
      expect(await h.leftovers()).toBeGreaterThan(0);
      const after = await h.reopen();
      expect(await h.leftovers()).toBe(0);
      expect(await after.has(sha256(bytes))).toBe(false);
      // The restarted store works as before.
      expect((await store(after, bytes)).sha256).toBe(sha256(bytes));
      expect(await digestOf(buffer(after.read(sha256(bytes))))).toBe(sha256(bytes));
      cut.destroy(); // only this test's process lives on: let go of the abandoned writer
    });
  });
}
