/**
 * This node's copies of 1 ms IO-graph series files kept as blobs (the PostgreSQL mode: one node
 * analyzes a capture, every node serves it). The series readers work on files (io-series.ts), so a
 * series is downloaded once into the node's cache directory and read there until it is evicted,
 * least recently used first, once the copies pass `maxBytes`. A copy is named by the SHA-256 of its
 * bytes (`<sha256>.io1ms`): whatever is under a name is right for it, across restarts too. Copies
 * appear whole (downloaded to a temp name, then renamed); one evicted while a reader has it open stays
 * readable to that reader (the file is only unlinked).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Blobs, StoredBlob } from '../storage/blobs.js';

const COPY = /^([0-9a-f]{64})\.io1ms$/;
/** Temp files: downloads under way, series written by a worker before they are stored. */
const TEMP = /\.part-[0-9a-f]+$|^run-/;

interface Copy {
  file: string;
  size: number;
  /** Settles once the file is complete (a download). */
  ready: Promise<void>;
  done: boolean;
}

export class SeriesCache {
  /** In least-recently-used-first order (a Map keeps insertion order; a use re-inserts). */
  private readonly copies = new Map<string, Copy>();
  private bytes = 0;

  constructor(
    readonly dir: string,
    private readonly blobs: Blobs,
    private readonly maxBytes: number,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      const sha256 = COPY.exec(name)?.[1];
      if (sha256) this.add(sha256, { file, size: fs.statSync(file).size, ready: Promise.resolve(), done: true });
      else if (TEMP.test(name)) fs.rmSync(file, { force: true }); // left by a crash
    }
    this.evict();
  }

  /** A name in the cache directory for a worker to write a series to, before `store` keeps it. */
  runFile(captureSha256: string): string {
    return path.join(this.dir, `run-${captureSha256}-${randomBytes(4).toString('hex')}.io1ms`);
  }

  /** Stores a series file a worker wrote as a blob, and keeps it as this node's copy (the file is moved). */
  async store(file: string): Promise<StoredBlob> {
    const writer = this.blobs.create();
    let stored: StoredBlob;
    try {
      await pipeline(fs.createReadStream(file), writer);
      stored = await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    if (this.copies.has(stored.sha256)) {
      await fs.promises.rm(file, { force: true });
    } else {
      const copy = path.join(this.dir, `${stored.sha256}.io1ms`);
      await fs.promises.rename(file, copy);
      this.add(stored.sha256, { file: copy, size: stored.size, ready: Promise.resolve(), done: true });
      this.evict(stored.sha256);
    }
    return stored;
  }

  /** The copy of series `sha256` if this node has it whole, now (no download). */
  fileSync(sha256: string): string | undefined {
    const copy = this.copies.get(sha256);
    if (!copy?.done) return undefined;
    this.touch(sha256, copy);
    return copy.file;
  }

  /** The copy of series `sha256`, downloaded if this node has none; rejects with BlobMissing if the blob is gone. */
  async file(sha256: string): Promise<string> {
    let copy = this.copies.get(sha256);
    if (copy) {
      this.touch(sha256, copy);
    } else {
      const file = path.join(this.dir, `${sha256}.io1ms`);
      const temp = `${file}.part-${randomBytes(4).toString('hex')}`;
      const entry: Copy = { file, size: 0, done: false, ready: Promise.resolve() };
      entry.ready = (async () => {
        try {
          await pipeline(this.blobs.read(sha256), fs.createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
          entry.size = (await fs.promises.stat(temp)).size;
          await fs.promises.rename(temp, file);
        } catch (err) {
          await fs.promises.rm(temp, { force: true });
          if (this.copies.get(sha256) === entry) this.copies.delete(sha256);
          throw err;
        }
        entry.done = true;
        this.bytes += entry.size;
        this.evict(sha256);
      })();
      this.copies.set(sha256, entry);
      copy = entry;
    }
    await copy.ready;
    return copy.file;
  }

  /** Forgets a copy found unusable (cut short, damaged): the next `file` downloads it again. */
  drop(sha256: string): void {
    const copy = this.copies.get(sha256);
    if (!copy?.done) return;
    this.copies.delete(sha256);
    this.bytes -= copy.size;
    fs.rmSync(copy.file, { force: true });
  }

  private add(sha256: string, copy: Copy): void {
    this.copies.set(sha256, copy);
    if (copy.done) this.bytes += copy.size;
  }

  private touch(sha256: string, copy: Copy): void {
    this.copies.delete(sha256);
    this.copies.set(sha256, copy);
  }

  /** Removes the least recently used whole copies while over the bound (never `keep`, the one just added). */
  private evict(keep?: string): void {
    for (const [sha256, copy] of this.copies) {
      if (this.bytes <= this.maxBytes) break;
      if (sha256 === keep || !copy.done) continue;
      this.copies.delete(sha256);
      this.bytes -= copy.size;
      fs.rmSync(copy.file, { force: true });
    }
  }
}
