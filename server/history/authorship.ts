/**
 * Who created each entry, when it was logged, and who changed it since — read from the update log,
 * whose records carry the authenticated user and the server's receive time, never from fields a
 * client wrote into the document.
 *
 * A record is mapped to the entries it touches through the live document: every struct it creates,
 * and every struct it deletes, sits under at most one entry, and that never changes. So each record
 * is looked at once, and an incident's authorship catches up with its log as the log grows. The
 * first record that touches an entry is the one that created it: Yjs integrates a parent before
 * anything inside it.
 */
import * as Y from 'yjs';
import { entriesOf } from '../../shared/schema/doc.js';
import type { IncidentHistory } from './incident-history.js';
import { useMostRecent } from '../lru.js';
import type { UpdateRecord } from './record.js';

export interface EntryAuthors {
  /** User id of whoever wrote the record that created the entry. */
  createdBy: string;
  /** Server receive time of that record (ms, UTC). */
  loggedAt: number;
  /** Everyone else who changed it since, by user id, in the order they first did. */
  editors: string[];
  /** Server time of the last change after creation (ms, UTC). */
  editedAt?: number;
  /** Seq of the last record that touched it. */
  seq: number;
}

/** The id of the entry a struct of the document belongs to, if any (it may be in `meta` or a hypothesis). */
function entryOf(struct: Y.Item, entries: ReturnType<typeof entriesOf>): string | undefined {
  let item: Y.Item | null = struct;
  while (item) {
    const parent = item.parent as Y.AbstractType<unknown>;
    if (parent === entries) return item.parentSub ?? undefined;
    item = parent._item;
  }
  return undefined;
}

/**
 * The items of the document with ids in [clock, clock + len) of `client`. Garbage-collected ones
 * (the contents of a deleted entry) no longer know their place and are skipped.
 */
function* itemsIn(doc: Y.Doc, client: number, clock: number, len: number): Generator<Y.Item> {
  const structs = doc.store.clients.get(client);
  if (!structs || Y.getState(doc.store, client) <= clock) return;
  for (let i = Y.findIndexSS(structs, clock); i < structs.length && structs[i]!.id.clock < clock + len; i++) {
    const struct = structs[i]!;
    if (struct instanceof Y.Item) yield struct;
  }
}

/** Ids of the entries an update created, changed or deleted. `doc` must hold everything it wrote. */
export function entriesTouched(doc: Y.Doc, update: Uint8Array): Set<string> {
  const entries = entriesOf(doc);
  const touched = new Set<string>();
  const note = (item: Y.Item) => {
    const id = entryOf(item, entries);
    if (id !== undefined) touched.add(id);
  };
  const { structs, ds } = Y.decodeUpdate(update);
  for (const s of structs) {
    if (s instanceof Y.Item) for (const item of itemsIn(doc, s.id.client, s.id.clock, s.length)) note(item);
  }
  for (const [client, deletions] of ds.clients) {
    for (const { clock, len } of deletions) for (const item of itemsIn(doc, client, clock, len)) note(item);
  }
  return touched;
}

/** One incident's entry authorship, caught up with its log on demand. */
export class IncidentAuthorship {
  readonly entries = new Map<string, EntryAuthors>();
  /** Seq of the last record folded in. */
  seq = 0;
  private offset = 0;
  private catchingUp: Promise<void> = Promise.resolve();

  constructor(private readonly history: IncidentHistory) {}

  /**
   * Folds in the records up to `limit` bytes of the log (its durable size while it is live), and
   * only those received at or before `until` (ms, UTC) when given: authorship as of a moment.
   */
  catchUp(doc: Y.Doc, limit?: number, until = Infinity): Promise<void> {
    // One reader at a time; a failed read leaves the offset where it was for the next one.
    const run = this.catchingUp.then(async () => {
      for await (const { record, end } of this.history.records({ from: this.offset, limit })) {
        if (record.at > until) break;
        this.add(doc, record);
        this.offset = end;
      }
    });
    this.catchingUp = run.catch(() => undefined);
    return run;
  }

  private add(doc: Y.Doc, record: UpdateRecord): void {
    this.seq = record.seq;
    for (const id of entriesTouched(doc, record.update)) {
      const known = this.entries.get(id);
      if (!known) {
        this.entries.set(id, { createdBy: record.userId, loggedAt: record.at, editors: [], seq: record.seq });
        continue;
      }
      known.seq = record.seq;
      known.editedAt = record.at;
      if (record.userId !== known.createdBy && !known.editors.includes(record.userId)) known.editors.push(record.userId);
    }
  }
}

/** Authorship of every incident asked about, kept in memory so each record is read once. */
export class Authorship {
  /** In order of last use, oldest first (a Map keeps insertion order). */
  private readonly incidents = new Map<string, IncidentAuthorship>();

  /**
   * @param max incidents kept: past it, the least recently asked about is forgotten (and read from
   *   its log again if asked about later). An entry's authorship is ~150 bytes: 10k entries, 1.5 MB.
   */
  constructor(private readonly max = 64) {}

  of(incidentId: string, history: IncidentHistory): IncidentAuthorship {
    return useMostRecent(this.incidents, incidentId, () => new IncidentAuthorship(history), this.max);
  }

  get size(): number {
    return this.incidents.size;
  }
}
