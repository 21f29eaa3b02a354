/**
 * The document schema (v1, shared/schema/doc.ts), enforced on what a client sends: every new struct
 * of an update is placed — under which root, entry and field it would land — before the update is
 * applied, and an update that puts anything where the schema has no place for it is refused whole.
 * Without this, one update of 40,000 nested maps inside an entry was accepted, and everything that
 * walks the document afterwards paid for its depth.
 *
 * Lenient where honest clients need it: an entry or a hypothesis may hold plain values under keys
 * this version does not know (a newer client's field stays readable by older readers, which skip
 * it), never a nested type. Meta values stay plain strings, as readers mirror only valid ones.
 *
 * Linear in the update's size: each struct is placed once, from the struct it names as its parent or
 * neighbour — in the update (placed first) or in the document (a walk of at most MAX_NESTING steps).
 */
import * as Y from 'yjs';
import { CloseCode, Limits } from '../../shared/protocol.js';
import { EntryKinds, HypothesisStatuses, Verdicts } from '../../shared/schema/doc.js';
import { milestoneNameProblem } from '../../shared/schema/milestones.js';
import type { UpdateContents } from '../history/attribution.js';
import { ProtocolError } from './protocol.js';

/** Where a struct lands: a root, or a type at a schema position. */
const PLACES = ['meta', 'entries', 'entry', 'text', 'ids', 'links', 'verdicts', 'hypotheses', 'hypothesis', 'milestones'] as const;
type Place = (typeof PLACES)[number];
type Kind = 'map' | 'array' | 'text' | 'other';

const ROOTS: Readonly<Record<string, Place>> = { meta: 'meta', entries: 'entries', hypotheses: 'hypotheses', milestones: 'milestones' };
/** Places whose items are a sequence (no key); every other place is a map. */
const LISTS = new Set<Place>(['text', 'ids', 'links']);
/** Types below a root at the deepest schema position (entries → entry → field). */
const MAX_NESTING = 2;
const META_KEYS = new Set(['title', 'severity', 'status', 'startedAt', 'resolvedAt']);
const ENTRY_TYPES: Readonly<Record<string, [Kind, Place, string]>> = {
  command: ['text', 'text', 'Y.Text'],
  observations: ['text', 'text', 'Y.Text'],
  conclusion: ['text', 'text', 'Y.Text'],
  attachments: ['array', 'ids', 'Y.Array'],
  alerts: ['array', 'ids', 'Y.Array'],
  links: ['array', 'links', 'Y.Array'],
  hypotheses: ['map', 'verdicts', 'Y.Map'],
};
/**
 * A deletion is the tombstone `deleted: true` (#16); who set it and when is read from the attributed
 * history. A client claiming either in the document is refused, so no reader can be misled by it.
 */
const DELETION_IS_HISTORY = 'who deleted it and when are read from the server history, never written by a client';
/** How far ahead of the server's clock a run time may be (a client's clock can be off). */
const FUTURE_SLACK_MS = 24 * 60 * 60_000;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

const refused = (reason: string) => new ProtocolError(CloseCode.malformed, reason);
const isPlace = (s: string): s is Place => (PLACES as readonly string[]).includes(s);
/** A real instant written as toISOString() does (no 30 February). */
const isIsoUtc = (v: unknown): v is string =>
  typeof v === 'string' && ISO_UTC.test(v) && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString().slice(0, 19) === v.slice(0, 19);

function kindOf(type: Y.AbstractType<unknown>): Kind {
  if (type.constructor === Y.Map) return 'map';
  if (type.constructor === Y.Array) return 'array';
  if (type.constructor === Y.Text) return 'text';
  return 'other';
}

/** The place of a type of `kind` under `parent` at `key`, or why it has none. */
function typePlace(parent: Place, key: string | null, kind: Kind): Place | string {
  if (parent === 'entries') return kind === 'map' ? 'entry' : 'an entry must be a Y.Map';
  if (parent === 'hypotheses') return kind === 'map' ? 'hypothesis' : 'a hypothesis must be a Y.Map';
  const field = parent === 'entry' && key !== null ? ENTRY_TYPES[key] : undefined;
  if (field) return kind === field[0] ? field[1] : `entry ${key} must be a ${field[2]}`;
  return `no nested type allowed in ${parent}${key === null ? '' : ` ${key}`}`;
}

/** Why plain `values` may not go under `parent` at `key`, if they may not. */
function valueProblem(parent: Place, key: string | null, values: unknown[]): string | undefined {
  const all = (ok: (v: unknown) => boolean) => values.every(ok);
  switch (parent) {
    case 'meta':
      if (key === 'members') return 'meta members is written by the server';
      if (!META_KEYS.has(key!)) return `unknown meta key ${key}`;
      if (!all((v) => typeof v === 'string')) return `meta ${key} must be a string`;
      return key === 'title' && !all((v) => (v as string).length <= Limits.maxTitleChars) ? 'title too long' : undefined;
    case 'entry':
      switch (key) {
        case 'kind':
          return all((v) => EntryKinds.includes(v as never)) ? undefined : 'entry kind outside the enum';
        case 'title':
          return all((v) => typeof v === 'string' && v.length <= Limits.maxTitleChars) ? undefined : 'entry title not a string within the limit';
        case 'ranAt':
          if (!all(isIsoUtc)) return 'ranAt not an ISO-8601 UTC date';
          return all((v) => Date.parse(v as string) <= Date.now() + FUTURE_SLACK_MS) ? undefined : 'ranAt more than a day in the future';
        case 'mitigated':
          return all((v) => typeof v === 'boolean') ? undefined : 'entry mitigated must be a boolean';
        case 'deleted':
          return all((v) => v === true) ? undefined : 'entry deleted must be true (restoring removes it)';
        case 'deletedBy':
        case 'deletedAt':
          return DELETION_IS_HISTORY;
        default:
          return ENTRY_TYPES[key!] ? `entry ${key} must be a ${ENTRY_TYPES[key!]![2]}` : undefined;
      }
    case 'hypothesis':
      if (key === 'statement') return all((v) => typeof v === 'string') ? undefined : 'hypothesis statement must be a string';
      if (key === 'status') return all((v) => HypothesisStatuses.includes(v as never)) ? undefined : 'hypothesis status outside the enum';
      if (key === 'deleted') return all((v) => v === true) ? undefined : 'hypothesis deleted must be true (restoring removes it)';
      if (key === 'deletedBy' || key === 'deletedAt') return DELETION_IS_HISTORY;
      return undefined;
    case 'verdicts':
      return all((v) => Verdicts.includes(v as never)) ? undefined : 'verdict outside the enum';
    case 'ids':
      return all((v) => typeof v === 'string') ? undefined : 'ids must be strings';
    case 'links':
      return all((v) => typeof v === 'object' && v !== null && typeof (v as { url?: unknown }).url === 'string' && typeof (v as { label?: unknown }).label === 'string')
        ? undefined
        : 'links must be {url, label}';
    case 'milestones':
      if (key !== null && milestoneNameProblem(key)) return `milestone name: ${milestoneNameProblem(key)}`;
      return all(isIsoUtc) ? undefined : 'milestone not an ISO-8601 UTC date';
    default:
      return `no plain value allowed in ${parent}`;
  }
}

/** Checks what one new item holds, now that it is known where it lands; returns the place of a new type. */
function checkContent(parent: Place, key: string | null, item: Y.Item): Place | undefined {
  const content = item.content;
  if (content instanceof Y.ContentDeleted) return undefined; // nothing lands
  if ((key === null) !== LISTS.has(parent)) throw refused(key === null ? `a list item in the ${parent} map` : `a keyed item in a ${parent} list`);
  if (content instanceof Y.ContentType) {
    const place = typePlace(parent, key, kindOf(content.type as Y.AbstractType<unknown>));
    if (!isPlace(place)) throw refused(place);
    return place;
  }
  if (parent === 'text') {
    if (content instanceof Y.ContentString || content instanceof Y.ContentFormat) return undefined;
    throw refused('a Y.Text holds only text');
  }
  if (!(content instanceof Y.ContentAny)) throw refused(`only plain values in ${parent}`);
  const problem = valueProblem(parent, key, content.getContent());
  if (problem) throw refused(problem);
  return undefined;
}

/** Places of the document's types: a type never moves, so each is worked out once. `null`: outside the schema. */
const docPlaces = new WeakMap<Y.AbstractType<unknown>, Place | null>();

/** `undefined`: `depth` steps up, still no root: deeper than the schema (nothing is cached on such a walk). */
function docPlaceFrom(type: Y.AbstractType<unknown>, depth: number): Place | null | undefined {
  const known = docPlaces.get(type);
  if (known !== undefined) return known;
  const item = type._item;
  let place: Place | null = null;
  if (item === null) {
    for (const [name, root] of type.doc?.share ?? []) if (root === type) place = ROOTS[name] ?? null;
  } else {
    if (depth === MAX_NESTING) return undefined;
    const parent = docPlaceFrom(item.parent as Y.AbstractType<unknown>, depth + 1);
    if (parent === undefined) return depth === 0 ? null : undefined;
    const p = parent === null || (item.parentSub === null) !== LISTS.has(parent) ? null : typePlace(parent, item.parentSub, kindOf(type));
    place = p !== null && isPlace(p) ? p : null;
  }
  docPlaces.set(type, place);
  return place;
}

const docPlace = (type: Y.AbstractType<unknown>): Place | null => docPlaceFrom(type, 0) ?? null;

/** Where an item lands: its parent's place and its key; `discarded` when Yjs will drop it; `waits` for structs not received. */
type Landing = { parent: Place | null; key: string | null } | 'discarded' | 'waits';

/** Structs by client, in clock order, found by any clock they cover. */
class StructIndex {
  private readonly byClient = new Map<number, Array<Y.Item | Y.GC | Y.Skip>>();

  constructor(structs: Iterable<Y.Item | Y.GC | Y.Skip>) {
    for (const s of structs) {
      let list = this.byClient.get(s.id.client);
      if (!list) this.byClient.set(s.id.client, (list = []));
      list.push(s);
    }
    for (const list of this.byClient.values()) list.sort((a, b) => a.id.clock - b.id.clock);
  }

  find(id: Y.ID): Y.Item | Y.GC | undefined {
    const list = this.byClient.get(id.client) ?? [];
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = list[mid]!;
      if (s.id.clock + s.length <= id.clock) lo = mid + 1;
      else if (s.id.clock > id.clock) hi = mid - 1;
      else return s instanceof Y.Skip ? undefined : s;
    }
    return undefined;
  }
}

/**
 * Refuses (throws ProtocolError 4400) an update that breaks the document schema. An item that waits
 * for structs the server does not have cannot be placed, and is let through: it does not land now,
 * and the room drops what is left pending (incident-room.ts, applyClientUpdate).
 */
export function checkUpdateSchema(doc: Y.Doc, { structs, ds }: UpdateContents['decoded']): void {
  const store = doc.store;
  const index = new StructIndex(structs);
  const landings = new Map<Y.Item, Landing>();
  /** Places of the update's new types. */
  const newTypes = new Map<Y.Item, Place | undefined>();

  /** The struct at `id`, and whether it is new (then it must be placed first). What the document has is what Yjs uses. */
  const lookup = (id: Y.ID): { struct: Y.Item | Y.GC | undefined; fresh: boolean } => {
    const list = store.clients.get(id.client);
    if (list && id.clock < Y.getState(store, id.client)) return { struct: list[Y.findIndexSS(list, id.clock)], fresh: false };
    const struct = index.find(id);
    return { struct, fresh: struct instanceof Y.Item };
  };
  const referenced = (item: Y.Item): Array<Y.ID | null> =>
    item.parent instanceof Y.ID ? [item.parent] : typeof item.parent === 'string' ? [] : [item.origin, item.rightOrigin];

  const landingOf = (item: Y.Item): Landing => {
    if (typeof item.parent === 'string') {
      const root = ROOTS[item.parent];
      if (!root) throw refused(`unknown root type ${item.parent}`);
      return { parent: root, key: item.parentSub };
    }
    if (item.parent instanceof Y.ID) {
      const { struct, fresh } = lookup(item.parent);
      if (!struct) return 'waits';
      if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentType)) return 'discarded';
      if (!fresh) return { parent: docPlace(struct.content.type as Y.AbstractType<unknown>), key: item.parentSub };
      const parent = landings.get(struct)!;
      if (typeof parent === 'string') return parent; // dropped, or waiting, with its parent
      return { parent: newTypes.get(struct) ?? null, key: item.parentSub };
    }
    // No parent written: it is its neighbours' (the left one's first), as Yjs reads it.
    const left = item.origin ? lookup(item.origin) : undefined;
    const right = item.rightOrigin ? lookup(item.rightOrigin) : undefined;
    if ((left && !left.struct) || (right && !right.struct)) return 'waits';
    if (left?.struct instanceof Y.GC || right?.struct instanceof Y.GC) return 'discarded';
    const side = left ?? right;
    if (!side) throw refused('an item without parent or neighbours');
    const neighbour = side.struct as Y.Item;
    if (side.fresh) return landings.get(neighbour)!;
    return { parent: docPlace(neighbour.parent as Y.AbstractType<unknown>), key: neighbour.parentSub };
  };

  const place = (item: Y.Item): void => {
    const landing = landingOf(item);
    landings.set(item, landing);
    if (typeof landing === 'string') return;
    if (landing.parent === null) throw refused('a write inside a part of the document outside the schema');
    newTypes.set(item, checkContent(landing.parent, landing.key, item));
  };

  // Each item after the update's items it names, without recursion: 40,000 nested maps are 40,000 steps.
  const onStack = new Set<Y.Item>();
  for (const start of structs) {
    if (!(start instanceof Y.Item) || landings.has(start)) continue;
    if (start.id.clock + start.length <= Y.getState(store, start.id.client)) continue; // already applied: Yjs skips it
    const stack: Y.Item[] = [start];
    while (stack.length > 0) {
      const item = stack[stack.length - 1]!;
      if (landings.has(item)) {
        stack.pop();
        continue;
      }
      const first: Y.Item[] = [];
      for (const id of referenced(item)) {
        const { struct, fresh } = id ? lookup(id) : { struct: undefined, fresh: false };
        if (fresh && !landings.has(struct as Y.Item)) first.push(struct as Y.Item);
      }
      if (first.length === 0) {
        place(item);
        stack.pop();
        continue;
      }
      if (onStack.has(item)) throw refused('items that name each other as parent or neighbour');
      onStack.add(item);
      stack.push(...first);
    }
  }

  // Deleting what the server wrote is writing it.
  const members = doc.getMap('meta')._map.get('members');
  if (members && !members.deleted && Y.isDeleted(ds, members.id)) throw refused('meta members is written by the server');
}
