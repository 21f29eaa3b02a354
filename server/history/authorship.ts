/**
 * Who created each entry, when it was logged, and who changed it since — read from the update log,
 * whose records carry the authenticated user and the server's receive time, never from fields a
 * client wrote into the document.
 *
 * A record is mapped to the entries it touches through the live document: every struct it creates,
 * and every struct it deletes, sits under at most one entry's Y.Map, and that never changes. So each
 * record is looked at once, and an incident's authorship catches up with its log as the log grows.
 * The first record that touches an entry's Y.Map is the one that created it: Yjs integrates a parent
 * before anything inside it. An id answers for the Y.Map under it now: an entry replaced under the
 * same id (deleted and undone, say) is credited to whoever created the replacement.
 *
 * Milestones (#18) are read in the same pass: each value written into the `milestones` map is noted
 * with its record's user and time, so who set a milestone's current value is known from the log.
 */
import * as Y from 'yjs';
import { entriesOf } from '../../shared/schema/doc.js';
import { milestonesOf } from '../../shared/schema/milestones.js';
import { useMostRecent } from '../lru.js';
import type { IncidentLog, LogRecord } from '../storage/incident-log.js';
import type { HistoryEvent } from '../../shared/history.js';
import { incidentChangesOf } from './incident-changes.js';

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

const isEntries = (type: Y.AbstractType<unknown>) => type._item === null && type.doc?.share.get('entries') === type;

/**
 * The entry Y.Map (the item under `entries`) each struct lies in. A type never moves, so each is
 * looked up once and remembered: walking a record of 40,000 nested maps takes 40,000 steps, not
 * 40,000 walks up to the root (which took 11 s).
 */
export class EntryFinder {
  private readonly known = new WeakMap<Y.AbstractType<unknown>, Y.Item | null>();

  /** The entry item `struct` is or lies in; null when it is elsewhere (meta, a hypothesis). */
  of(struct: Y.Item): Y.Item | null {
    const parent = struct.parent as Y.AbstractType<unknown>;
    if (isEntries(parent)) return struct;
    const walked: Array<Y.AbstractType<unknown>> = [];
    let found: Y.Item | null | undefined;
    for (let type = parent; found === undefined; ) {
      found = this.known.get(type);
      if (found !== undefined) break;
      const item = type._item;
      if (item === null) found = null;
      else {
        walked.push(type);
        const up = item.parent as Y.AbstractType<unknown>;
        if (isEntries(up)) found = item;
        else type = up;
      }
    }
    for (const type of walked) this.known.set(type, found);
    return found;
  }
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

/** The entry Y.Maps an update created, changed or deleted. `doc` must hold everything it wrote. */
export function entriesTouched(doc: Y.Doc, update: Uint8Array, finder: EntryFinder): Set<Y.Item> {
  return entriesTouchedBy(doc, Y.decodeUpdate(update), finder);
}

type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>;

function entriesTouchedBy(doc: Y.Doc, { structs, ds }: DecodedUpdate, finder: EntryFinder): Set<Y.Item> {
  const touched = new Set<Y.Item>();
  const note = (item: Y.Item) => {
    const entry = finder.of(item);
    if (entry) touched.add(entry);
  };
  for (const s of structs) {
    if (s instanceof Y.Item) for (const item of itemsIn(doc, s.id.client, s.id.clock, s.length)) note(item);
  }
  for (const [client, deletions] of ds.clients) {
    for (const { clock, len } of deletions) for (const item of itemsIn(doc, client, clock, len)) note(item);
  }
  return touched;
}

const mapKey = (item: Y.Item) => `${item.id.client}:${item.id.clock}`;

/** Who wrote a milestone's value: the record's user and the server's receive time (ms, UTC). */
export interface MilestoneWriter {
  userId: string;
  at: number;
  seq: number;
}

/**
 * The values an update wrote into the `milestones` map, by the id (`client:clock`) of each value's
 * struct. A decoded struct that overwrites a key names its neighbour, not its parent, so the parent
 * and key are read from the document, where the struct now lies.
 */
function valuesWritten(doc: Y.Doc, { structs }: DecodedUpdate, where: (item: Y.Item) => boolean): string[] {
  const out: string[] = [];
  for (const s of structs) {
    if (!(s instanceof Y.Item)) continue;
    for (const item of itemsIn(doc, s.id.client, s.id.clock, s.length)) {
      if (item.parentSub === null || !where(item)) continue;
      const from = Math.max(item.id.clock, s.id.clock);
      const to = Math.min(item.id.clock + item.length, s.id.clock + s.length);
      for (let clock = from; clock < to; clock++) out.push(`${item.id.client}:${clock}`);
    }
  }
  return out;
}

const milestoneValuesWritten = (doc: Y.Doc, update: DecodedUpdate) => {
  const milestones = milestonesOf(doc);
  return valuesWritten(doc, update, (item) => item.parent === milestones);
};

/** The `deleted` tombstones (#16) an update set on entries: their writers are who deleted them. */
const deletionsWritten = (doc: Y.Doc, update: DecodedUpdate) => {
  const entries = entriesOf(doc);
  return valuesWritten(doc, update, (item) => item.parentSub === 'deleted' && (item.parent as Y.AbstractType<unknown>)._item?.parent === entries);
};

/** The value struct a map holds under `key` now, as `client:clock` of its last element; undefined when unset. */
function currentValueKey(map: Y.Map<unknown> | undefined, key: string): string | undefined {
  const item = map?._map.get(key);
  if (!item || item.deleted) return undefined;
  return `${item.id.client}:${item.id.clock + item.length - 1}`;
}

/** One incident's entry authorship, caught up with its log on demand. */
export class IncidentAuthorship {
  /** By entry id: the authors of the Y.Map under that id. */
  readonly entries = new Map<string, EntryAuthors>();
  /** Status and severity set, hypotheses added and their verdicts, one event per record (#16, exports' timeline). */
  readonly incidentEvents: HistoryEvent[] = [];
  /** Seq of the last record folded in. */
  seq = 0;
  /** By entry Y.Map (its item's id), each one ever created. */
  private readonly byMap = new Map<string, EntryAuthors>();
  private readonly finder = new EntryFinder();
  /** By the id of each value ever written into the milestones map: who wrote it, when. */
  private readonly milestoneValues = new Map<string, MilestoneWriter>();
  /** By the id of each `deleted` tombstone ever set on an entry: who set it, when. */
  private readonly deletions = new Map<string, MilestoneWriter>();
  private catchingUp: Promise<void> = Promise.resolve();

  constructor(private readonly log: IncidentLog) {}

  /**
   * Folds in the records up to seq `upTo` (default: everything durable), and only those received
   * at or before `until` (ms, UTC) when given: authorship as of a moment.
   */
  catchUp(doc: Y.Doc, upTo?: number, until = Infinity): Promise<void> {
    // One reader at a time; a failed read leaves the seq where it was for the next one.
    const run = this.catchingUp.then(async () => {
      for await (const record of this.log.records({ after: this.seq, upTo })) {
        if (record.at > until) break;
        this.add(doc, record);
      }
    });
    this.catchingUp = run.catch(() => undefined);
    return run;
  }

  /**
   * Who set the milestone `name` to the value `doc` holds now, and when the server received it; undefined
   * when it is not set (or the records that set it have not been folded in).
   */
  milestoneWriter(doc: Y.Doc, name: string): MilestoneWriter | undefined {
    const key = currentValueKey(milestonesOf(doc) as Y.Map<unknown>, name);
    return key === undefined ? undefined : this.milestoneValues.get(key);
  }

  /**
   * Who deleted the entry `id` (its current tombstone) and when the server received it, from the
   * history; undefined when it is not deleted. A `deletedBy` a client wrote is never read (and the
   * server refuses one: server/collab/update-schema.ts).
   */
  deletionOf(doc: Y.Doc, id: string): MilestoneWriter | undefined {
    const key = currentValueKey(entriesOf(doc).get(id), 'deleted');
    return key === undefined ? undefined : this.deletions.get(key);
  }

  private add(doc: Y.Doc, record: LogRecord): void {
    this.seq = record.seq;
    const decoded = Y.decodeUpdate(record.update);
    for (const key of milestoneValuesWritten(doc, decoded)) this.milestoneValues.set(key, { userId: record.userId, at: record.at, seq: record.seq });
    for (const key of deletionsWritten(doc, decoded)) this.deletions.set(key, { userId: record.userId, at: record.at, seq: record.seq });
    const event = incidentChangesOf(doc, record, decoded);
    if (event) this.incidentEvents.push(event);
    for (const map of entriesTouchedBy(doc, decoded, this.finder)) {
      let known = this.byMap.get(mapKey(map));
      if (!known) this.byMap.set(mapKey(map), (known = { createdBy: record.userId, loggedAt: record.at, editors: [], seq: record.seq }));
      else {
        known.seq = record.seq;
        known.editedAt = record.at;
        if (record.userId !== known.createdBy && !known.editors.includes(record.userId)) known.editors.push(record.userId);
      }
      const id = map.parentSub!;
      const current = entriesOf(doc)._map.get(id);
      this.entries.set(id, (current && this.byMap.get(mapKey(current))) ?? known);
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

  of(incidentId: string, log: IncidentLog): IncidentAuthorship {
    return useMostRecent(this.incidents, incidentId, () => new IncidentAuthorship(log), this.max);
  }

  get size(): number {
    return this.incidents.size;
  }
}
