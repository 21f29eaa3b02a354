/**
 * Document schema v1 (docs/api.md): one Y.Doc per incident. These helpers are the only code that
 * should know the shape; server, client, CLI and tests create and read entries through them.
 *
 * Entries and hypotheses live in Y.Maps keyed by id: pushing objects onto a Y.Array is quadratic
 * to replay (docs/architecture.md).
 */
import * as Y from 'yjs';
import { IncidentStatuses, Severities, type IncidentStatus, type Severity } from '../model.js';

export const SCHEMA_VERSION = 1;

export const EntryKinds = ['test', 'note', 'action', 'conclusion'] as const;
export type EntryKind = (typeof EntryKinds)[number];

export const HypothesisStatuses = ['open', 'supported', 'ruled-out', 'confirmed'] as const;
export type HypothesisStatus = (typeof HypothesisStatuses)[number];

export const Verdicts = ['supports', 'refutes'] as const;
export type Verdict = (typeof Verdicts)[number];

export interface EvidenceLink {
  url: string;
  label: string;
}

export interface Meta {
  title?: string;
  severity?: Severity;
  status?: IncidentStatus;
  startedAt?: string;
  resolvedAt?: string;
  /**
   * Who a restricted incident is for, by name ("alice, bob"), written by the server when its members
   * change so the change is in the attributed history; absent while it is open to everyone.
   */
  members?: string;
}

export interface EntryInput {
  kind: EntryKind;
  title: string;
  /** When the test was run, ISO-8601 UTC. */
  ranAt: string;
  command?: string;
  observations?: string;
  conclusion?: string;
}

/** An entry read out of the document as plain data. */
export interface Entry extends Required<EntryInput> {
  id: string;
  attachments: string[];
  links: EvidenceLink[];
  alerts: string[];
  hypotheses: Record<string, Verdict>;
  /** Marked as what mitigated the incident (#18): offered as the `mitigated` milestone at its ranAt. Absent unless true. */
  mitigated?: boolean;
  /** Deleted (#16): kept in the document as a tombstone, left out of every current view. Absent unless true. */
  deleted?: boolean;
}

export interface Hypothesis {
  id: string;
  statement: string;
  status: HypothesisStatus;
  /** Deleted (#16): see `Entry.deleted`. Absent unless true. */
  deleted?: boolean;
}

/**
 * What `listEntries` and `listHypotheses` return: the current items by default; with
 * `includeDeleted`, the deleted ones too (a "deleted items" list that offers to restore them).
 */
export interface ListOptions {
  includeDeleted?: boolean;
}

export const metaOf = (doc: Y.Doc): Y.Map<unknown> => doc.getMap('meta');
export const entriesOf = (doc: Y.Doc): Y.Map<Y.Map<unknown>> => doc.getMap('entries');
export const hypothesesOf = (doc: Y.Doc): Y.Map<Y.Map<unknown>> => doc.getMap('hypotheses');

/** A short random id, safe in URLs; works in browsers outside secure contexts too. */
export function newId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += (b % 36).toString(36);
  return s;
}

/** Reads the meta leniently, as `readEntry` reads an entry: a value another client mistyped is left out. */
export function readMeta(doc: Y.Doc): Meta {
  const map = metaOf(doc);
  const text = (key: keyof Meta) => (typeof map.get(key) === 'string' ? (map.get(key) as string) : undefined);
  const meta: Meta = {
    title: text('title'),
    severity: Severities.find((s) => s === map.get('severity')),
    status: IncidentStatuses.find((s) => s === map.get('status')),
    startedAt: text('startedAt'),
    resolvedAt: text('resolvedAt'),
    members: text('members'),
  };
  // Absent rather than undefined: callers spread it and compare it.
  for (const key of Object.keys(meta) as Array<keyof Meta>) if (meta[key] === undefined) delete meta[key];
  return meta;
}

export function setMeta(doc: Y.Doc, meta: Meta): void {
  doc.transact(() => {
    const map = metaOf(doc);
    for (const [key, value] of Object.entries(meta)) {
      if (value !== undefined && map.get(key) !== value) map.set(key, value);
    }
  });
}

function text(value: string | undefined): Y.Text {
  return new Y.Text(value ?? '');
}

/** Adds an entry in one transaction and returns its id. */
export function createEntry(doc: Y.Doc, input: EntryInput, id: string = newId()): string {
  doc.transact(() => {
    const entry = new Y.Map<unknown>();
    entry.set('kind', input.kind);
    entry.set('title', input.title);
    entry.set('ranAt', input.ranAt);
    entry.set('command', text(input.command));
    entry.set('observations', text(input.observations));
    entry.set('conclusion', text(input.conclusion));
    entry.set('attachments', new Y.Array<string>());
    entry.set('links', new Y.Array<EvidenceLink>());
    entry.set('alerts', new Y.Array<string>());
    entry.set('hypotheses', new Y.Map<Verdict>());
    entriesOf(doc).set(id, entry);
  });
  return id;
}

/** Changes an entry's plain fields (its texts are edited in place, through `entryText`). */
export function updateEntry(doc: Y.Doc, id: string, change: Partial<Pick<EntryInput, 'kind' | 'title' | 'ranAt'>>): void {
  const entry = entriesOf(doc).get(id);
  if (!(entry instanceof Y.Map)) throw new Error(`no entry ${id}`);
  doc.transact(() => {
    for (const [key, value] of Object.entries(change)) {
      if (value !== undefined && entry.get(key) !== value) entry.set(key, value);
    }
  });
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v instanceof Y.Text ? v.toString() : '');
const list = (v: unknown): unknown[] => (v instanceof Y.Array ? v.toArray() : []);
const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');
const links = (v: unknown): EvidenceLink[] =>
  list(v).flatMap((x) => {
    const { url, label } = (x ?? {}) as Partial<Record<keyof EvidenceLink, unknown>>;
    return typeof url === 'string' && typeof label === 'string' ? [{ url, label }] : [];
  });
const verdicts = (v: unknown): Record<string, Verdict> =>
  v instanceof Y.Map ? Object.fromEntries([...v.entries()].filter(([, verdict]) => Verdicts.includes(verdict))) : {};

/** Reads an entry leniently: a field another client left out or mistyped reads as empty, a mistyped item is left out. */
export function readEntry(id: string, entry: Y.Map<unknown>): Entry {
  const kind = entry.get('kind');
  return {
    id,
    kind: EntryKinds.includes(kind as EntryKind) ? (kind as EntryKind) : 'note',
    title: str(entry.get('title')),
    ranAt: str(entry.get('ranAt')),
    command: str(entry.get('command')),
    observations: str(entry.get('observations')),
    conclusion: str(entry.get('conclusion')),
    attachments: strings(entry.get('attachments')),
    links: links(entry.get('links')),
    alerts: strings(entry.get('alerts')),
    hypotheses: verdicts(entry.get('hypotheses')),
    ...(entry.get('mitigated') === true ? { mitigated: true } : {}),
    ...(entry.get('deleted') === true ? { deleted: true } : {}),
  };
}

/**
 * Deleting an entry or a hypothesis sets `deleted: true` on its Y.Map instead of removing the map, so
 * the history, the replay and an "as of" export still have it and restoring it is one more change.
 * Who deleted it and when is never a field: the server reads it from the attributed history, like
 * who created it (server/history/authorship.ts).
 */
function setDeleted(map: Y.Map<unknown> | undefined, what: string, deleted: boolean): void {
  if (!(map instanceof Y.Map)) throw new Error(`no ${what}`);
  if (deleted) {
    if (map.get('deleted') !== true) map.set('deleted', true);
  } else if (map.has('deleted')) map.delete('deleted');
}

export const deleteEntry = (doc: Y.Doc, id: string): void => setDeleted(entriesOf(doc).get(id), `entry ${id}`, true);
export const restoreEntry = (doc: Y.Doc, id: string): void => setDeleted(entriesOf(doc).get(id), `entry ${id}`, false);
export const deleteHypothesis = (doc: Y.Doc, id: string): void => setDeleted(hypothesesOf(doc).get(id), `hypothesis ${id}`, true);
export const restoreHypothesis = (doc: Y.Doc, id: string): void => setDeleted(hypothesesOf(doc).get(id), `hypothesis ${id}`, false);

/** Renames a hypothesis: its id, status and the verdicts that name it stay. */
export function renameHypothesis(doc: Y.Doc, id: string, statement: string): void {
  const h = hypothesesOf(doc).get(id);
  if (!(h instanceof Y.Map)) throw new Error(`no hypothesis ${id}`);
  if (h.get('statement') !== statement) h.set('statement', statement);
}

/** Marks an entry as what mitigated the incident, or takes the mark away. */
export function setMitigated(doc: Y.Doc, id: string, mitigated: boolean): void {
  const entry = entriesOf(doc).get(id);
  if (!(entry instanceof Y.Map)) throw new Error(`no entry ${id}`);
  if (mitigated) entry.set('mitigated', true);
  else entry.delete('mitigated');
}

export function getEntry(doc: Y.Doc, id: string): Entry | undefined {
  const entry = entriesOf(doc).get(id);
  return entry instanceof Y.Map ? readEntry(id, entry) : undefined;
}

/** The entries (deleted ones only when asked), in the order they were run (ranAt), then by id for a stable order. */
export function listEntries(doc: Y.Doc, { includeDeleted = false }: ListOptions = {}): Entry[] {
  const out: Entry[] = [];
  entriesOf(doc).forEach((entry, id) => {
    if (entry instanceof Y.Map && (includeDeleted || entry.get('deleted') !== true)) out.push(readEntry(id, entry));
  });
  return out.sort((a, b) => a.ranAt.localeCompare(b.ranAt) || a.id.localeCompare(b.id));
}

/** The collaborative text of one field of an entry, for editors to bind to. */
export function entryText(doc: Y.Doc, id: string, field: 'command' | 'observations' | 'conclusion'): Y.Text | undefined {
  const value = entriesOf(doc).get(id)?.get(field);
  return value instanceof Y.Text ? value : undefined;
}

export function createHypothesis(doc: Y.Doc, statement: string, id: string = newId()): string {
  doc.transact(() => {
    const h = new Y.Map<unknown>();
    h.set('statement', statement);
    h.set('status', 'open');
    hypothesesOf(doc).set(id, h);
  });
  return id;
}

export function setHypothesisStatus(doc: Y.Doc, id: string, status: HypothesisStatus): void {
  const h = hypothesesOf(doc).get(id);
  if (!(h instanceof Y.Map)) throw new Error(`no hypothesis ${id}`);
  h.set('status', status);
}

/** The hypotheses (deleted ones only when asked), by id. */
export function listHypotheses(doc: Y.Doc, { includeDeleted = false }: ListOptions = {}): Hypothesis[] {
  const out: Hypothesis[] = [];
  hypothesesOf(doc).forEach((h, id) => {
    if (!(h instanceof Y.Map)) return;
    const deleted = h.get('deleted') === true;
    if (deleted && !includeDeleted) return;
    const status = h.get('status');
    out.push({
      id,
      statement: str(h.get('statement')),
      status: HypothesisStatuses.includes(status as HypothesisStatus) ? (status as HypothesisStatus) : 'open',
      ...(deleted ? { deleted: true } : {}),
    });
  });
  // Map iteration order differs between replicas; every replica should list the same way.
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Marks an entry as evidence for or against a hypothesis; `null` removes the mark. */
export function setVerdict(doc: Y.Doc, entryId: string, hypothesisId: string, verdict: Verdict | null): void {
  const verdicts = entriesOf(doc).get(entryId)?.get('hypotheses');
  if (!(verdicts instanceof Y.Map)) throw new Error(`no entry ${entryId}`);
  if (verdict === null) verdicts.delete(hypothesisId);
  else verdicts.set(hypothesisId, verdict);
}
