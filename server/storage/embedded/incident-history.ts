/**
 * An incident's history on disk: `updates.log` (every accepted update, forever) and `checkpoint.bin`
 * (the latest document state, to load fast). Loading is checkpoint + log tail; a record torn by a
 * crash at the log's tail is cut off (and kept aside in a `.torn-*` file for inspection). Damage
 * with valid records after it is not a torn tail: it is skipped and reported (log-damage.ts), and
 * nothing after it is cut.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as Y from 'yjs';
import type { Logger } from 'pino';
import { ClientBindings, inspectUpdate } from '../../history/attribution.js';
import { HistoryCorruptError } from '../incident-log.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { noteDamage, noteVerified } from './log-damage.js';
import type { RecordMark } from './record.js';
import { readRecords, type DamagedSpan, type ScannedRecord, type UpdateLogState } from './update-log.js';
import { fsyncDir } from '../../store/durable-file.js';

export interface LoadedHistory {
  doc: Y.Doc;
  bindings: ClientBindings;
  log: UpdateLogState;
  /** Seq of the checkpoint used (0: none). */
  checkpointSeq: number;
  /** Records replayed on top of the checkpoint. */
  replayed: number;
}

export class IncidentHistory {
  readonly logFile: string;
  readonly checkpointFile: string;

  constructor(readonly dir: string) {
    this.logFile = path.join(dir, 'updates.log');
    this.checkpointFile = path.join(dir, 'checkpoint.bin');
  }

  static async create(dir: string): Promise<IncidentHistory> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fsyncDir(path.dirname(dir));
    return new IncidentHistory(dir);
  }

  /** The checkpoint, unless it is unreadable or ahead of the log (then the log alone rebuilds everything). */
  async usableCheckpoint(log: Logger, logSize?: number): Promise<Checkpoint | undefined> {
    logSize ??= await this.logSize();
    try {
      const cp = await readCheckpoint(this.checkpointFile);
      if (cp && cp.logOffset > logSize) {
        log.warn({ file: this.checkpointFile, logOffset: cp.logOffset, logSize }, 'checkpoint is ahead of the log; replaying the log from the start');
        return undefined;
      }
      return cp;
    } catch (err) {
      log.warn({ file: this.checkpointFile, err: (err as Error).message }, 'unusable checkpoint ignored; replaying the log from the start');
      return undefined;
    }
  }

  private async logSize(): Promise<number> {
    return (await fs.stat(this.logFile).catch(() => ({ size: 0 }))).size;
  }

  /**
   * Reads the whole log, to find any damage, and applies what the checkpoint does not hold. A
   * damaged span with valid records after it leaves a gap in the seqs, accepted and reported. Only a
   * bad stretch with nothing valid after it, past what the checkpoint holds, is a torn tail: the
   * checkpoint proves what it holds was acknowledged.
   */
  async load(log: Logger): Promise<LoadedHistory> {
    const cp = await this.usableCheckpoint(log, await this.logSize());
    const doc = new Y.Doc();
    const bindings = new ClientBindings(cp ? new Map(cp.bindings) : new Map());
    const state: UpdateLogState = { size: cp?.logOffset ?? 0, lastSeq: cp?.seq ?? 0, lastAt: cp?.at ?? 0 };
    if (cp) Y.applyUpdate(doc, cp.docUpdate, 'load');

    const spans: DamagedSpan[] = [];
    let replayed = 0;
    for await (const { record, offset, end } of readRecords(this.logFile, { onDamage: (span) => spans.push(span) })) {
      const gap = spans[spans.length - 1];
      const afterDamage = gap !== undefined && gap.offset + gap.bytes === offset;
      if (afterDamage) noteDamage(this.logFile, gap, log);
      if (offset < state.size) continue; // in the checkpoint: read only to find damage
      if (record.seq !== state.lastSeq + 1 && !(afterDamage && record.seq > state.lastSeq)) {
        throw new HistoryCorruptError(`${this.logFile}: record seq ${record.seq} follows ${state.lastSeq}`);
      }
      Y.applyUpdate(doc, record.update, 'load');
      bindings.bind(inspectUpdate(record.update).clients, record.userId);
      state.lastSeq = record.seq;
      state.lastAt = record.at;
      state.size = end;
      replayed++;
    }
    const last = spans[spans.length - 1];
    const tail = last?.nextSeq === undefined ? last : undefined;
    if (tail && tail.offset < state.size) {
      noteDamage(this.logFile, { ...tail, bytes: state.size - tail.offset, nextSeq: state.lastSeq + 1 }, log);
    }
    if (tail && tail.offset + tail.bytes > state.size) await this.cutTornTail(log, Math.max(tail.offset, state.size), tail.reason);
    noteVerified(this.logFile, state.size, { seq: state.lastSeq, at: state.lastAt }, log);
    return { doc, bindings, log: state, checkpointSeq: cp?.seq ?? 0, replayed };
  }

  /** Moves everything from `offset` on into a side file, and truncates the log there. */
  private async cutTornTail(log: Logger, offset: number, reason: string): Promise<void> {
    const handle = await fs.open(this.logFile, 'r+');
    try {
      const { size } = await handle.stat();
      const tail = Buffer.alloc(size - offset);
      await handle.read(tail, 0, tail.length, offset);
      const aside = `${this.logFile}.torn-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await fs.writeFile(aside, tail, { mode: 0o600 });
      await handle.truncate(offset);
      await handle.sync();
      log.warn({ file: this.logFile, offset, bytes: tail.length, reason, keptIn: aside }, 'cut a torn record at the end of the update log');
    } finally {
      await handle.close();
    }
  }

  /**
   * Records in order, past any damage; `limit` bounds the bytes read (pass the log's durable size
   * while it is live). Damage found is noted, but not a bad stretch at the end without a `limit`: that
   * may be a torn tail the next load cuts.
   */
  records(opts: { from?: number; limit?: number; after?: RecordMark } = {}): AsyncGenerator<ScannedRecord> {
    return readRecords(this.logFile, {
      ...opts,
      onDamage: (span) => (span.nextSeq !== undefined || opts.limit !== undefined) && noteDamage(this.logFile, span),
    });
  }

  writeCheckpoint(cp: Checkpoint): Promise<void> {
    return writeCheckpoint(this.checkpointFile, cp);
  }
}
