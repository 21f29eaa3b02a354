/**
 * An incident's append-only update log. Every accepted update becomes a record that is written and
 * fdatasync'd before anyone is told about it. Appends made while a flush is in progress are written
 * together by the next one (group commit), so one fdatasync covers a burst from many writers.
 *
 * The log is the incident's history and its replay: it is never compacted.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { decodeRecord, encodeRecord, type UpdateRecord } from './record.js';

export interface ScannedRecord {
  record: UpdateRecord;
  /** Byte offset of the record's first byte. */
  offset: number;
  /** Byte offset just past the record. */
  end: number;
}

const CHUNK = 1 << 20;
/** Batches up to this size are written on the event loop's thread (see flush). */
const SYNC_WRITE_MAX = 64 * 1024;

/**
 * Reads records from `from` up to `limit` bytes (default: end of file). Stops at the first torn or
 * corrupt record, reporting where in `onStop`.
 */
export async function* readRecords(
  file: string,
  opts: { from?: number; limit?: number; onStop?: (offset: number, reason: string) => void } = {},
): AsyncGenerator<ScannedRecord> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const limit = opts.limit ?? (await handle.stat()).size;
    let fileOffset = opts.from ?? 0; // file offset of buf[0]
    let buf = Buffer.alloc(0);
    let pos = 0; // within buf
    let eof = false;
    while (true) {
      const result = decodeRecord(buf, pos);
      if (result.kind === 'record') {
        yield { record: result.record, offset: fileOffset + pos, end: fileOffset + pos + result.size };
        pos += result.size;
        continue;
      }
      if (result.kind === 'corrupt') {
        opts.onStop?.(fileOffset + pos, result.reason);
        return;
      }
      if (eof) {
        if (pos < buf.length) opts.onStop?.(fileOffset + pos, 'incomplete record at end of log');
        return;
      }
      // Need more bytes: keep the unread rest, read the next chunk after it.
      const rest = buf.subarray(pos);
      fileOffset += pos;
      pos = 0;
      const readAt = fileOffset + rest.length;
      const want = Math.min(Math.max(CHUNK, rest.length), limit - readAt);
      if (want <= 0) {
        eof = true;
        buf = Buffer.from(rest);
        continue;
      }
      const chunk = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(chunk, 0, want, readAt);
      if (bytesRead === 0) eof = true;
      buf = Buffer.concat([rest, chunk.subarray(0, bytesRead)]);
    }
  } finally {
    await handle.close();
  }
}

export interface UpdateLogState {
  /** Bytes of valid records in the file. */
  size: number;
  lastSeq: number;
  lastAt: number;
}

export interface DurableEvent {
  /** Every record with seq ≤ upToSeq is on disk. */
  upToSeq: number;
  /** How long the write + fdatasync took, ms. */
  syncMs: number;
}

export class UpdateLog {
  private readonly fd: number;
  private pending: Buffer[] = [];
  private flushing = false;
  private closed = false;
  private failure: Error | undefined;
  private waiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private appended: number;
  private durable: number;
  private lastRecordAt: number;
  private writtenSize: number;

  /**
   * @param onDurable called after each group commit, in order.
   * @param onFailure called once if a write or fdatasync fails: nothing after that point may be
   *   acknowledged, the owner must stop using the log.
   */
  constructor(
    readonly file: string,
    state: UpdateLogState,
    private readonly onDurable: (event: DurableEvent) => void,
    private readonly onFailure: (err: Error) => void,
  ) {
    this.fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    this.appended = state.lastSeq;
    this.durable = state.lastSeq;
    this.lastRecordAt = state.lastAt;
    this.writtenSize = state.size;
  }

  get appendedSeq(): number {
    return this.appended;
  }
  get durableSeq(): number {
    return this.durable;
  }
  /** Receive time of the last appended record (ms, UTC). */
  get lastAt(): number {
    return this.lastRecordAt;
  }
  /** Bytes of the file that hold durable records: safe for readers to read up to. */
  get durableSize(): number {
    return this.writtenSize;
  }

  /** Queues a record; it is durable once `onDurable` reports its seq. Never reorders. */
  append(userId: string, update: Uint8Array): UpdateRecord {
    if (this.closed) throw new Error('update log is closed');
    if (this.failure) throw this.failure;
    // Receive times never go backwards, even if the server clock does: history is ordered by both.
    this.lastRecordAt = Math.max(Date.now(), this.lastRecordAt);
    const record: UpdateRecord = { seq: ++this.appended, at: this.lastRecordAt, userId, update };
    this.pending.push(encodeRecord(record));
    this.flush();
    return record;
  }

  /** Resolves once every record up to `seq` is durable. */
  whenDurable(seq: number = this.appended): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (seq <= this.durable) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.whenDurable().catch(() => undefined);
    this.closed = true;
    fs.closeSync(this.fd);
  }

  private flush(): void {
    if (this.flushing || this.pending.length === 0 || this.failure) return;
    this.flushing = true;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    const upToSeq = this.appended;
    const started = performance.now();
    const written = (err: Error | null) => {
      if (err) return this.fail(err);
      fs.fdatasync(this.fd, (syncErr) => {
        if (syncErr) return this.fail(syncErr);
        this.writtenSize += data.length;
        this.durable = upToSeq;
        this.flushing = false;
        this.onDurable({ upToSeq, syncMs: performance.now() - started });
        this.waiters = this.waiters.filter((w) => (w.seq <= upToSeq ? (w.resolve(), false) : true));
        this.flush();
      });
    };
    // A small batch is written here: into the page cache, it takes microseconds, and saves the round
    // trip through the thread pool whose completion would wait behind whatever else the event loop
    // has queued. Only the fdatasync goes to the pool. A big batch (a pasted screenshot's worth) is
    // written there too, so it cannot hold up the event loop.
    if (data.length > SYNC_WRITE_MAX) return this.writeAll(data, 0, this.writtenSize, written);
    try {
      for (let from = 0; from < data.length; ) from += fs.writeSync(this.fd, data, from, data.length - from, this.writtenSize + from);
    } catch (err) {
      // Reported as the pool's errors are, never from inside the caller's append.
      return process.nextTick(written, err as Error);
    }
    written(null);
  }

  private writeAll(data: Buffer, from: number, position: number, done: (err: Error | null) => void): void {
    fs.write(this.fd, data, from, data.length - from, position, (err, written) => {
      if (err) return done(err);
      if (from + written < data.length) return this.writeAll(data, from + written, position + written, done);
      done(null);
    });
  }

  private fail(err: Error): void {
    this.failure = new Error(`update log ${this.file} failed: ${err.message}`);
    this.flushing = false;
    for (const w of this.waiters) w.reject(this.failure);
    this.waiters = [];
    this.onFailure(this.failure);
  }
}
