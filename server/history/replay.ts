/**
 * An incident's history as a replay: the document exactly as it was after any record of the update
 * log, and what each record changed and who made it.
 *
 * Building a document per seek costs as much as loading the whole incident (hundreds of ms at 10k
 * entries), and a full checkpoint every few thousand records costs more disk than the log itself.
 * Instead, as each record is applied, the structs it added are encoded (Yjs v1) onto the end of
 * their client ID's byte run, and every deleted range remembers the record that deleted it. A v1
 * struct's bytes never change once integrated, so the document after record k is, per client ID,
 * a prefix of its run, plus the ranges deleted by then: the same encoding `Y.createDocFromSnapshot`
 * writes, copied instead of re-encoded. Nothing is stored beyond the log; everything here is rebuilt
 * from it on first use and caught up as the log grows.
 */
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { entriesOf, hypothesesOf, metaOf } from '../../shared/schema/doc.js';
import { milestonesOf } from '../../shared/schema/milestones.js';
import type { HistoryChange, HistoryEvent } from '../../shared/history.js';
import { useMostRecent } from '../lru.js';
import { HistoryCorruptError, type IncidentLog, type LogRecord } from '../storage/incident-log.js';

/** Applying a record from the log. */
const APPLY = Symbol('replay-apply');

/** Consecutive edits of the same entries by the same person this close together are one event. */
export const COALESCE_MS = 60_000;

/**
 * One client ID's structs, encoded as they were integrated, one after another; and after each record
 * that added some, how many structs and bytes the run had (parallel arrays, ascending).
 */
class StructRun {
  bytes = new Uint8Array(256);
  length = 0;
  readonly records: number[] = [];
  readonly counts: number[] = [];
  readonly ends: number[] = [];

  append(record: number, structs: number, encoded: Uint8Array): void {
    if (this.length + encoded.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + encoded.length));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(encoded, this.length);
    this.length += encoded.length;
    this.records.push(record);
    this.counts.push((this.counts[this.counts.length - 1] ?? 0) + structs);
    this.ends.push(this.length);
  }
}

/** Ranges a client ID's structs were deleted in, and the record that deleted each. */
interface Deletions {
  clocks: number[];
  lens: number[];
  records: number[];
}

/** Index of the last element ≤ `value` in ascending `sorted`, or -1. */
function lastAtMost(sorted: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export class IncidentReplay {
  /** The document as of the last record: applying to it says what each record added, deleted and changed. */
  private readonly doc = new Y.Doc();
  /** Receive time of record seq = i + 1 (ms, UTC), non-decreasing. */
  private readonly ats: number[] = [];
  private readonly runs = new Map<number, StructRun>();
  private readonly deletions = new Map<number, Deletions>();
  /** What happened, record by record, with runs of small edits folded into one event. */
  readonly events: HistoryEvent[] = [];
  private changes: HistoryChange[] = [];
  private catchingUp: Promise<void> = Promise.resolve();
  /** When this replay was last asked for anything (ms): idle ones are dropped. */
  lastUsed = Date.now();

  constructor(private readonly log: IncidentLog) {
    this.doc.on('afterTransaction', this.onTransaction);
    entriesOf(this.doc).observeDeep(this.onEntries);
    hypothesesOf(this.doc).observeDeep(this.onHypotheses);
    metaOf(this.doc).observe(this.onMeta);
    milestonesOf(this.doc).observe(this.onMilestones);
  }

  /** Seq of the last record folded in. */
  get seq(): number {
    return this.ats.length;
  }

  /** Receive time of record `seq` (ms, UTC). */
  atOf(seq: number): number {
    return this.ats[seq - 1]!;
  }

  /** The last record received at or before `at` (0: none). */
  seqAt(at: number): number {
    return lastAtMost(this.ats, at) + 1;
  }

  /** Folds in the records up to seq `upTo` (default: everything durable). */
  catchUp(upTo?: number): Promise<void> {
    this.lastUsed = Date.now();
    if (upTo !== undefined && upTo <= this.seq) return this.catchingUp; // nothing new: no need to read the log
    // One reader at a time; a failed read leaves the replay where it was for the next one.
    const run = this.catchingUp.then(async () => {
      for await (const record of this.log.records({ after: this.seq, upTo })) {
        // Seqs lost to a damaged span change nothing: the state and time of what comes next.
        while (record.seq > this.seq + 1) this.ats.push(this.ats[this.ats.length - 1] ?? record.at);
        this.apply(record);
      }
    });
    this.catchingUp = run.catch(() => undefined);
    return run;
  }

  /** Records after `after`, up to `count` of them, read from the log: only those folded in. */
  async *recordsAfter(after: number, count: number): AsyncGenerator<LogRecord> {
    this.lastUsed = Date.now();
    if (after >= this.seq || count <= 0) return;
    let left = count;
    for await (const record of this.log.records({ after, upTo: this.seq })) {
      yield record;
      if (--left === 0) return;
    }
  }

  /**
   * The document as it was after record `seq`, as a Yjs update (v1): the same content as applying
   * records 1…seq to an empty document.
   */
  stateAfter(seq: number): Uint8Array {
    this.lastUsed = Date.now();
    const last = Math.min(seq, this.seq) - 1; // record index
    const prefixes: Array<{ client: number; structs: number; bytes: Uint8Array }> = [];
    for (const [client, run] of this.runs) {
      const i = lastAtMost(run.records, last);
      if (i >= 0) prefixes.push({ client, structs: run.counts[i]!, bytes: run.bytes.subarray(0, run.ends[i]!) });
    }
    prefixes.sort((a, b) => b.client - a.client); // as Yjs writes them: higher client IDs first
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, prefixes.length);
    for (const { client, structs, bytes } of prefixes) {
      encoding.writeVarUint(encoder, structs);
      encoding.writeVarUint(encoder, client);
      encoding.writeVarUint(encoder, 0); // first clock
      encoding.writeUint8Array(encoder, bytes);
    }
    this.writeDeletionsUpTo(encoder, last);
    return encoding.toUint8Array(encoder);
  }

  /** The delete set of the snapshot: every range deleted by record index ≤ `last`, sorted and merged. */
  private writeDeletionsUpTo(encoder: encoding.Encoder, last: number): void {
    const perClient: Array<[number, Array<[number, number]>]> = [];
    for (const [client, d] of this.deletions) {
      // Ranges are noted in record order, so those deleted by then are a prefix.
      const count = lastAtMost(d.records, last) + 1;
      if (count === 0) continue;
      const ranges = d.clocks.slice(0, count).map((clock, i): [number, number] => [clock, d.lens[i]!]);
      ranges.sort((a, b) => a[0] - b[0]);
      const merged: Array<[number, number]> = [ranges[0]!];
      for (const [clock, len] of ranges.slice(1)) {
        const prev = merged[merged.length - 1]!;
        if (prev[0] + prev[1] >= clock) prev[1] = Math.max(prev[1], clock + len - prev[0]);
        else merged.push([clock, len]);
      }
      perClient.push([client, merged]);
    }
    perClient.sort((a, b) => b[0] - a[0]);
    encoding.writeVarUint(encoder, perClient.length);
    for (const [client, ranges] of perClient) {
      encoding.writeVarUint(encoder, client);
      encoding.writeVarUint(encoder, ranges.length);
      for (const [clock, len] of ranges) {
        encoding.writeVarUint(encoder, clock);
        encoding.writeVarUint(encoder, len);
      }
    }
  }

  destroy(): void {
    this.doc.destroy();
  }

  private apply(record: LogRecord): void {
    if (record.seq !== this.seq + 1) throw new HistoryCorruptError(`incident ${this.log.incidentId}: record seq ${record.seq} follows ${this.seq}`);
    this.changes = [];
    Y.applyUpdate(this.doc, record.update, APPLY); // onTransaction and the observers index it
    this.ats.push(record.at);
    this.addEvent(record, this.changes);
  }

  /**
   * Encodes the structs this record added and notes what it deleted. Runs before the transaction's
   * cleanup, so nothing it added has been merged into older structs or garbage-collected yet.
   */
  private onTransaction = (tr: Y.Transaction): void => {
    if (tr.origin !== APPLY) return;
    const index = this.seq; // the record being applied
    for (const [client, after] of tr.afterState) {
      const before = tr.beforeState.get(client) ?? 0;
      if (after <= before) continue;
      const structs = this.doc.store.clients.get(client)!;
      const encoder = new Y.UpdateEncoderV1();
      let count = 0;
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++, count++) {
        const struct = structs[i]!;
        struct.write(encoder, Math.max(0, before - struct.id.clock));
      }
      let run = this.runs.get(client);
      if (!run) this.runs.set(client, (run = new StructRun()));
      run.append(index, count, encoder.toUint8Array());
    }
    for (const [client, ranges] of tr.deleteSet.clients) {
      let d = this.deletions.get(client);
      if (!d) this.deletions.set(client, (d = { clocks: [], lens: [], records: [] }));
      for (const { clock, len } of ranges) {
        d.clocks.push(clock);
        d.lens.push(len);
        d.records.push(index);
      }
    }
  };

  private onEntries = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>, tr: Y.Transaction): void => {
    if (tr.origin !== APPLY) return;
    const entries = entriesOf(this.doc);
    const added = new Set<string>();
    const changed = new Map<string, { fields: Set<string>; attachments: string[] }>();
    for (const event of events) {
      if (event.target === entries) {
        for (const [id, change] of event.changes.keys) {
          if (change.action === 'delete') {
            this.changes.push({ kind: 'entry-removed', entry: id });
            continue;
          }
          const entry = entries.get(id);
          added.add(id);
          this.changes.push({ kind: 'entry-added', entry: id, entryKind: String(entry?.get('kind') ?? ''), title: String(entry?.get('title') ?? '') });
        }
        continue;
      }
      const id = event.path[0];
      if (typeof id !== 'string' || added.has(id)) continue;
      let c = changed.get(id);
      if (!c) changed.set(id, (c = { fields: new Set(), attachments: [] }));
      if (event.path.length === 1) {
        for (const key of event.changes.keys.keys()) c.fields.add(key);
        continue;
      }
      const field = String(event.path[1]);
      c.fields.add(field);
      if (field === 'attachments' && event.path.length === 2) {
        for (const d of event.delta) if (Array.isArray(d.insert)) c.attachments.push(...d.insert.map(String));
      }
    }
    for (const [entry, { fields, attachments }] of changed) {
      this.changes.push({ kind: 'entry-changed', entry, fields: [...fields].sort(), ...(attachments.length ? { attachmentsAdded: attachments } : {}) });
    }
  };

  private onHypotheses = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>, tr: Y.Transaction): void => {
    if (tr.origin !== APPLY) return;
    const hypotheses = hypothesesOf(this.doc);
    for (const event of events) {
      if (event.target === hypotheses) {
        for (const [id, change] of event.changes.keys) {
          const h = hypotheses.get(id);
          if (change.action === 'delete') this.changes.push({ kind: 'hypothesis-removed', hypothesis: id });
          else this.changes.push({ kind: 'hypothesis-added', hypothesis: id, statement: String(h?.get('statement') ?? ''), status: String(h?.get('status') ?? 'open') });
        }
        continue;
      }
      const id = event.path[0];
      if (typeof id !== 'string' || event.path.length !== 1) continue;
      const h = hypotheses.get(id);
      for (const key of event.changes.keys.keys()) {
        if (key === 'status') this.changes.push({ kind: 'verdict', hypothesis: id, statement: String(h?.get('statement') ?? ''), status: String(h?.get('status') ?? '') });
        else if (key) this.changes.push({ kind: 'hypothesis-changed', hypothesis: id, field: key });
      }
    }
  };

  private onMeta = (event: Y.YMapEvent<unknown>, tr: Y.Transaction): void => {
    if (tr.origin !== APPLY) return;
    for (const key of event.changes.keys.keys()) {
      const value = metaOf(this.doc).get(key);
      this.changes.push({ kind: 'incident', field: key, value: typeof value === 'string' ? value : null });
    }
  };

  private onMilestones = (event: Y.YMapEvent<string>, tr: Y.Transaction): void => {
    if (tr.origin !== APPLY) return;
    for (const name of event.keysChanged) {
      const value = milestonesOf(this.doc).get(name);
      this.changes.push({ kind: 'milestone', name, value: typeof value === 'string' ? value : null });
    }
  };

  /** Adds the record to the event index, folding it into the last event when it continues a run of edits. */
  private addEvent(record: LogRecord, changes: HistoryChange[]): void {
    if (changes.length === 0) return; // e.g. an update whose structs wait for ones not yet received
    const last = this.events[this.events.length - 1];
    if (last && last.userId === record.userId && record.at - this.atOf(last.toSeq) <= COALESCE_MS && continuesEdits(last.changes, changes)) {
      last.toSeq = record.seq;
      last.toAt = new Date(record.at).toISOString();
      for (const change of changes) {
        const into = last.changes.find((c) => c.kind === 'entry-changed' && change.kind === 'entry-changed' && c.entry === change.entry);
        if (into?.kind === 'entry-changed' && change.kind === 'entry-changed') into.fields = [...new Set([...into.fields, ...change.fields])].sort();
      }
      return;
    }
    const at = new Date(record.at).toISOString();
    this.events.push({ seq: record.seq, toSeq: record.seq, at, toAt: at, userId: record.userId, changes });
  }
}

/** Whether `next` only edits fields of the entries `run` already edits (no creation, evidence, verdict…). */
function continuesEdits(run: HistoryChange[], next: HistoryChange[]): boolean {
  const editing = new Set<string>();
  for (const c of run) {
    if (c.kind !== 'entry-changed' || c.attachmentsAdded) return false;
    editing.add(c.entry);
  }
  return next.every((c) => c.kind === 'entry-changed' && !c.attachmentsAdded && editing.has(c.entry));
}

/**
 * Replays of the incidents asked about: at most `max` (the least recently used goes first), each
 * dropped when unused for `idleMs`. A replay holds about one and a half times its incident's document
 * (141 MiB at 10k entries / 100k updates), so the cap bounds the memory replays can take. A dropped
 * replay is only forgotten, not destroyed: a request still using it finishes with it.
 */
export class Replays {
  /** In order of last use, oldest first (a Map keeps insertion order). */
  private readonly replays = new Map<string, IncidentReplay>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly max = 4,
    private readonly idleMs = 10 * 60_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(idleMs, 60_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.replays.size;
  }

  /** The incident's replay, caught up with its log up to seq `upTo` (default: everything durable). */
  async of(incidentId: string, log: IncidentLog, upTo?: number): Promise<IncidentReplay> {
    // A replay dropped here is only forgotten: a request using it finishes.
    const replay = useMostRecent(this.replays, incidentId, () => new IncidentReplay(log), this.max);
    await replay.catchUp(upTo);
    return replay;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, replay] of this.replays) if (now - replay.lastUsed >= this.idleMs) this.replays.delete(id);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const replay of this.replays.values()) replay.destroy();
    this.replays.clear();
  }
}
