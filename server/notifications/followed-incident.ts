/**
 * An incident's document as its history builds it, record by record, with who made each change that
 * matters to notifications and when: the authenticated user and the server's receive time of the
 * record that last changed it. Built from the first record (not a checkpoint), so every value's
 * author is known; caught up with the log as it grows.
 */
import * as Y from 'yjs';
import { entriesOf, hypothesesOf, listHypotheses, metaOf, readEntry, readMeta, type Entry, type Meta } from '../../shared/schema/doc.js';
import { milestonesOf, readMilestones } from '../../shared/schema/milestones.js';
import type { IncidentLog, LogRecord } from '../storage/incident-log.js';

export interface Provenance {
  userId: string;
  /** ms since the epoch, the record's server receive time */
  at: number;
  seq: number;
}

/** What of the document notifications follow, as it stands after record `seq`. */
export interface DocumentFacts {
  seq: number;
  /** The meta as the first record (the declaration) left it. */
  declared: Meta | undefined;
  meta: Meta;
  milestones: Record<string, string>;
  hypotheses: Array<{ id: string; statement: string; status: string }>;
  entries: Entry[];
  /** Who last changed what: `meta.<key>`, `milestone.<name>`, `hypothesis.<id>`, `entry.<id>` (created), `conclusion.<id>`. */
  provenance: (key: string) => Provenance | undefined;
}

export class FollowedIncident {
  readonly doc = new Y.Doc({ gc: true });
  seq = 0;
  lastUsed = Date.now();
  private declared: Meta | undefined;
  private readonly changedBy = new Map<string, Provenance>();
  private current: Provenance | undefined;

  constructor(readonly incidentId: string) {
    metaOf(this.doc).observe((e) => e.keysChanged.forEach((key) => this.note(`meta.${key}`)));
    milestonesOf(this.doc).observe((e) => e.keysChanged.forEach((name) => this.note(`milestone.${name}`)));
    hypothesesOf(this.doc).observeDeep((events) => {
      for (const e of events) {
        if (e.path.length === 0) e.changes.keys.forEach((_c, id) => this.note(`hypothesis.${id}`));
        else if (e.path.length === 1 && e.changes.keys.has('status')) this.note(`hypothesis.${String(e.path[0])}`);
      }
    });
    entriesOf(this.doc).observeDeep((events) => {
      for (const e of events) {
        if (e.path.length === 0) e.changes.keys.forEach((c, id) => c.action === 'add' && this.note(`entry.${id}`));
        else if (e.path.length === 2 && e.path[1] === 'conclusion') this.note(`conclusion.${String(e.path[0])}`);
        else if (e.path.length === 1 && e.changes.keys.has('conclusion')) this.note(`conclusion.${String(e.path[0])}`);
      }
    });
  }

  private note(key: string): void {
    if (this.current) this.changedBy.set(key, this.current);
  }

  /** Applies every durable record after `seq`. */
  async catchUp(log: IncidentLog): Promise<void> {
    this.lastUsed = Date.now();
    for await (const record of log.records({ after: this.seq })) this.apply(record);
  }

  apply(record: LogRecord): void {
    if (record.seq <= this.seq) return;
    this.current = { userId: record.userId, at: record.at, seq: record.seq };
    try {
      Y.applyUpdate(this.doc, record.update, 'history');
    } finally {
      this.current = undefined;
    }
    this.seq = record.seq;
    if (this.declared === undefined && readMeta(this.doc).title !== undefined) this.declared = readMeta(this.doc);
  }

  facts(): DocumentFacts {
    const entries: Entry[] = [];
    entriesOf(this.doc).forEach((entry, id) => {
      // A deleted entry (#16) is out of every current view, notifications' facts too.
      if (entry instanceof Y.Map && entry.get('deleted') !== true) entries.push(readEntry(id, entry));
    });
    return {
      seq: this.seq,
      declared: this.declared,
      meta: readMeta(this.doc),
      milestones: readMilestones(this.doc),
      hypotheses: listHypotheses(this.doc),
      entries,
      provenance: (key) => this.changedBy.get(key),
    };
  }

  destroy(): void {
    this.doc.destroy();
  }
}
