/**
 * An incident's append-only update log. Every accepted update becomes a record that is written and
 * fdatasync'd before anyone is told about it. Appends made while a flush is in progress are written
 * together by the next one (group commit), so one fdatasync covers a burst from many writers.
 *
 * The log is the incident's history and its replay: it is never compacted.
 */
import { DurableWaiters } from '../durable-waiters.js';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import {
  decodeRecord, encodeRecord, HEADER_BYTES, MAX_RECORD_BYTES, mayStartRecord, MIN_RECORD_BYTES, PEEK_BYTES,
  type DecodeResult, type RecordMark, type UpdateRecord,
} from './record.js';

export interface ScannedRecord {
  record: UpdateRecord;
  /** Byte offset of the record's first byte. */
  offset: number;
  /** Byte offset just past the record. */
  end: number;
}

/**
 * Bytes between valid records (or after the last one) that do not read as records: a torn write at
 * the tail, or damage (a bit flip, a bad sector) to records that were once complete.
 */
export interface DamagedSpan {
  offset: number;
  bytes: number;
  reason: string;
  /** Seq of the last valid record before it, when the reader knows it. */
  afterSeq?: number;
  /** Seq of the first valid record after it; absent when nothing valid follows. */
  nextSeq?: number;
}

const CHUNK = 1 << 20;
/** Batches up to this size are written on the event loop's thread (see flush). */
const SYNC_WRITE_MAX = 64 * 1024;

/** The bytes of a file from some offset on, read in chunks; reads only ever move forward. */
class FileWindow {
  buf = Buffer.alloc(0);
  /** File offset of buf[0]. */
  start = 0;

  constructor(
    private readonly handle: fsp.FileHandle,
    readonly limit: number,
  ) {}

  has(at: number, n: number): boolean {
    return at >= this.start && at + n <= this.start + this.buf.length;
  }

  /** Makes [at, at + n) readable, or as much of it as lies before the limit; drops what lies before `at`. */
  async fill(at: number, n: number): Promise<boolean> {
    if (this.has(at, n)) return true;
    const kept = this.has(at, 0) ? this.buf.subarray(at - this.start) : Buffer.alloc(0);
    const readAt = at + kept.length;
    const want = Math.min(Math.max(CHUNK, at + n - readAt), this.limit - readAt);
    const chunk = Buffer.allocUnsafe(Math.max(want, 0));
    const { bytesRead } = want > 0 ? await this.handle.read(chunk, 0, want, readAt) : { bytesRead: 0 };
    this.buf = Buffer.concat([kept, chunk.subarray(0, bytesRead)]);
    this.start = at;
    return this.has(at, n);
  }

  /** The record at `at`, reading as much as it says it holds. */
  async recordAt(at: number): Promise<DecodeResult> {
    if (!(await this.fill(at, HEADER_BYTES))) return { kind: 'incomplete' };
    const length = this.buf.readUInt32LE(at - this.start);
    if (length <= MAX_RECORD_BYTES && !(await this.fill(at, HEADER_BYTES + length))) return { kind: 'incomplete' };
    return decodeRecord(this.buf, at - this.start);
  }

  /**
   * The first valid record after damage starting at `damaged`. A record there must follow `after`
   * (the last good one) by at most as many seqs as the skipped bytes could have held records.
   */
  async nextRecord(damaged: number, after: RecordMark | undefined): Promise<UpdateRecord & { offset: number } | undefined> {
    for (let at = damaged + 1; at + MIN_RECORD_BYTES <= this.limit; at++) {
      if (!this.has(at, PEEK_BYTES)) await this.fill(at, PEEK_BYTES);
      const maxSeq = (after?.seq ?? 0) + 1 + Math.floor((at - damaged) / MIN_RECORD_BYTES);
      if (!mayStartRecord(this.buf, at - this.start, this.limit - at, after, maxSeq)) continue;
      const result = await this.recordAt(at);
      if (result.kind === 'record') return { ...result.record, offset: at };
    }
    return undefined;
  }
}

/**
 * Reads records from `from` up to `limit` bytes (default: end of file). A stretch that does not read
 * as records is reported to `onDamage` and skipped: reading goes on at the next valid record, found
 * by scanning forward. `after` is the last record before `from`, when known (it narrows that scan).
 */
export async function* readRecords(
  file: string,
  opts: { from?: number; limit?: number; after?: RecordMark; onDamage?: (span: DamagedSpan) => void } = {},
): AsyncGenerator<ScannedRecord> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const size = (await handle.stat()).size;
    const window = new FileWindow(handle, Math.min(opts.limit ?? size, size));
    let at = opts.from ?? 0;
    let last: RecordMark | undefined = opts.after ?? (at === 0 ? { seq: 0, at: -Infinity } : undefined);
    while (at < window.limit) {
      const result = await window.recordAt(at);
      if (result.kind === 'record') {
        yield { record: result.record, offset: at, end: at + result.size };
        last = result.record;
        at += result.size;
        continue;
      }
      const next = await window.nextRecord(at, last);
      opts.onDamage?.({
        offset: at,
        bytes: (next?.offset ?? window.limit) - at,
        reason: result.kind === 'corrupt' ? result.reason : 'incomplete record',
        ...(last ? { afterSeq: last.seq } : {}),
        ...(next ? { nextSeq: next.seq } : {}),
      });
      if (!next) return;
      at = next.offset;
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
  private readonly waiters = new DurableWaiters();
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
  /** One writer per incident: the document holds exactly what this log has made durable and appended. */
  get historySeq(): number {
    return this.durable;
  }
  settled(): { seq: number; at: number } | undefined {
    return this.appended === this.durable ? { seq: this.durable, at: this.lastRecordAt } : undefined;
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
    return this.waiters.wait(seq);
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
        this.waiters.reached(upToSeq);
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
    this.waiters.fail(this.failure);
    this.onFailure(this.failure);
  }
}
