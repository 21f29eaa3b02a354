/**
 * Where records lie in an embedded update log, by seq: a sparse list of (seq, the byte just past it,
 * its time), filled in as records are read, so reading after a seq seeks to the nearest known point
 * instead of scanning from the start. Offsets are the embedded log's own detail: no reader sees them.
 * Only the ends of records that read as valid are noted, and those are never cut from the log.
 */
import type { RecordMark } from './record.js';

/** Records between two noted points, at most (besides checkpoints and the furthest point read). */
const EVERY = 256;

export interface LogPosition {
  /** Byte offset to read from. */
  from: number;
  /** The record just before it; absent at the start of the log. */
  after?: RecordMark;
}

export class SeqIndex {
  private readonly seqs: number[] = [];
  private readonly ends: number[] = [];
  private readonly ats: number[] = [];
  /** The furthest record read: where a reader that keeps up continues. */
  private furthest = { seq: 0, at: 0, end: 0 };

  /** Record `seq`, received `at`, ends at byte `end`; `keep` notes it whatever its neighbours. */
  note(seq: number, at: number, end: number, keep = false): void {
    if (seq > this.furthest.seq) Object.assign(this.furthest, { seq, at, end });
    const i = this.countUpTo(seq);
    const before = i > 0 ? this.seqs[i - 1]! : 0;
    if (before === seq || (!keep && seq - before < EVERY)) return;
    this.seqs.splice(i, 0, seq);
    this.ends.splice(i, 0, end);
    this.ats.splice(i, 0, at);
  }

  /** The nearest known point at or before the end of record `after`. */
  seek(after: number): LogPosition {
    const f = this.furthest;
    if (f.seq > 0 && f.seq <= after) return { from: f.end, after: { seq: f.seq, at: f.at } };
    const i = this.countUpTo(after) - 1;
    return i < 0 ? { from: 0 } : { from: this.ends[i]!, after: { seq: this.seqs[i]!, at: this.ats[i]! } };
  }

  /** The byte just past record `seq`, if known. */
  endOf(seq: number): number | undefined {
    if (seq === this.furthest.seq) return this.furthest.end;
    const i = this.countUpTo(seq) - 1;
    return i >= 0 && this.seqs[i] === seq ? this.ends[i] : undefined;
  }

  /** How many noted seqs are ≤ `seq`. */
  private countUpTo(seq: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
