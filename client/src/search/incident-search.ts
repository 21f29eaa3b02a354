/**
 * Search within the open incident (#19), over this browser's copy of the document: no server call,
 * so it works offline and as fast as one can type. The query reads as the server's does (words,
 * "phrases", -exclude, kind:, from:, to:, labels such as site:ny; shared/search.ts).
 *
 * Each entry's text is lowered once and kept against the entry object: EntryList gives an entry a
 * new object only when a Y event touched it, so the cache is invalidated by the document's own
 * events, and a keystroke on a 5,000-entry incident is a scan of lower-case strings.
 */
import type { Alert } from '../../../shared/alerts';
import type { Entry, Hypothesis } from '../../../shared/schema/doc';
import { findHighlights, parseQuery, QueryError, snippetOf, type ParsedQuery, type SearchKind } from '../../../shared/search';
import type { AttachmentInfo } from '../evidence/attachment-shelf';

export type Spans = Array<[number, number]>;

export interface LocalResult {
  /** `entry:<id>`, `hypothesis:<id>` or `alert:<id>`: unique within an answer. */
  key: string;
  kind: SearchKind;
  /** Where Enter goes: the entry itself, or the entry an alert is linked to. */
  entryId?: string;
  hypothesisId?: string;
  alertId?: string;
  title: string;
  titleHighlights: Spans;
  /** Which part of it matched, e.g. `Command`, `File`, `Alert` (absent when only the title did). */
  field?: string;
  snippet: string;
  highlights: Spans;
  at?: string;
  /** An entry's or a hypothesis' status word (`confirmed`), an alert's (`firing`). */
  status?: string;
}

export interface LocalAnswer {
  results: LocalResult[];
  /** How many matched in all; only the first `limit` are in `results`. */
  total: number;
  /** Why nothing could be searched (a QueryError's message). */
  problem?: string;
  /** Parts of the query that only mean something across incidents. */
  notes: string[];
}

export interface IncidentSearchSources {
  incidentId: string;
  entries: readonly Entry[];
  hypotheses: readonly Hypothesis[];
  /** Every alert the page knows (the incident's, and others an entry links to). */
  alerts: ReadonlyMap<string, Alert>;
  attachments: ReadonlyMap<string, AttachmentInfo>;
}

export const SHOWN_RESULTS = 50;

/** One searchable part of an item: what it is called on screen, its text, and that text lowered. */
interface Part {
  field: string;
  text: string;
}

interface Haystack {
  parts: Part[];
  /** Every part, lowered and with runs of white space as one space (phrases match across lines). */
  lower: string;
}

const flat = (text: string) => text.replace(/\s+/g, ' ');

function haystackOf(parts: Part[]): Haystack {
  const kept = parts.filter((p) => p.text.trim() !== '');
  return { parts: kept, lower: flat(kept.map((p) => p.text).join('\n')).toLowerCase() };
}

/** An entry's own texts, read once per entry object. */
const ownText = new WeakMap<Entry, Haystack>();
function ownHaystack(entry: Entry): Haystack {
  let found = ownText.get(entry);
  if (!found) {
    found = haystackOf([
      { field: 'Title', text: entry.title },
      { field: 'Command', text: entry.command },
      { field: 'Observations', text: entry.observations },
      { field: 'Conclusion', text: entry.conclusion },
      ...entry.links.map((l) => ({ field: 'Link', text: `${l.label} ${l.url}` })),
    ]);
    ownText.set(entry, found);
  }
  return found;
}

/**
 * What an entry refers to by id (its files, alerts and verdicts), read by name from the page's other
 * sources; kept while neither the entry nor those sources change.
 */
const referenceText = new WeakMap<Entry, { sources: unknown[]; haystack: Haystack }>();
function referencesHaystack(entry: Entry, s: IncidentSearchSources, hypothesisById: ReadonlyMap<string, Hypothesis>): Haystack | undefined {
  const verdicts = Object.entries(entry.hypotheses);
  if (entry.attachments.length === 0 && entry.alerts.length === 0 && verdicts.length === 0) return undefined;
  const key = [s.attachments, s.alerts, hypothesisById];
  const cached = referenceText.get(entry);
  if (cached && cached.sources.every((v, i) => v === key[i])) return cached.haystack;
  const haystack = haystackOf([
    ...entry.attachments.flatMap((id) => (s.attachments.get(id) ? [{ field: 'File', text: s.attachments.get(id)!.name }] : [])),
    ...entry.alerts.flatMap((id) => (s.alerts.get(id) ? [{ field: 'Alert', text: alertText(s.alerts.get(id)!) }] : [])),
    ...verdicts.flatMap(([id, verdict]) => (hypothesisById.get(id) ? [{ field: 'Verdict', text: `${verdict} “${hypothesisById.get(id)!.statement}”` }] : [])),
  ]);
  referenceText.set(entry, { sources: key, haystack });
  return haystack;
}

const alertText = (alert: Alert) =>
  [alert.title, ...Object.entries(alert.labels).map(([k, v]) => `${k}=${v}`), ...Object.values(alert.annotations)].join(' ');

const alertCache = new WeakMap<Alert, Haystack>();
function alertHaystack(alert: Alert): Haystack {
  let found = alertCache.get(alert);
  if (!found) {
    found = haystackOf([
      { field: 'Alert', text: alert.title },
      { field: 'Labels', text: Object.entries(alert.labels).map(([k, v]) => `${k}=${v}`).join(' ') },
      ...Object.entries(alert.annotations).map(([k, v]) => ({ field: k, text: v })),
    ]);
    alertCache.set(alert, found);
  }
  return found;
}

const hasLabels = (alert: Alert, labels: ParsedQuery['labels']) =>
  labels.every(({ name, value }) => {
    const key = Object.keys(alert.labels).find((k) => k.toLowerCase() === name.toLowerCase());
    return key !== undefined && alert.labels[key]!.toLowerCase() === value.toLowerCase();
  });

/** What a query looks for in text: its words and phrases (labels are matched on alerts, not in text). */
export const needlesOf = (q: ParsedQuery): string[] => [...q.words, ...q.phrases];

function matchesText(lower: string, q: ParsedQuery): boolean {
  return q.words.every((w) => lower.includes(w)) && q.phrases.every((p) => lower.includes(p)) && !q.exclude.some((x) => lower.includes(x));
}

const inTime = (at: string | undefined, q: ParsedQuery) => (!q.from || (!!at && at >= q.from)) && (!q.to || (!!at && at <= q.to));

/** Title hits count most, then any hit; ties go to the newest. */
function score(title: string, q: ParsedQuery): number {
  const lower = title.toLowerCase();
  return needlesOf(q).filter((n) => lower.includes(n)).length;
}

interface Hit {
  key: string;
  score: number;
  at: string;
  build: () => LocalResult;
}

/** The part to quote: the first one (the title last) where a needle is, else the first that is not the title. */
function quote(h: Haystack, needles: string[]): { field?: string; snippet: string; highlights: Spans } {
  const rest = h.parts.filter((p) => p.field !== 'Title');
  const part = rest.find((p) => findHighlights(flat(p.text), needles).length > 0);
  if (part) return { field: part.field, ...snippetOf(part.text, needles, 140) };
  const first = rest[0];
  return first ? { field: first.field, ...snippetOf(first.text, [], 140) } : { snippet: '', highlights: [] };
}

/** Reads `text` and answers what matches, best first, the first `limit` of them built for display. */
export function searchIncident(text: string, s: IncidentSearchSources, limit = SHOWN_RESULTS): LocalAnswer {
  if (text.trim() === '') return { results: [], total: 0, notes: [] };
  let q: ParsedQuery;
  try {
    q = parseQuery(text);
  } catch (err) {
    if (err instanceof QueryError) return { results: [], total: 0, problem: err.message, notes: [] };
    throw err;
  }
  const notes: string[] = [];
  if (q.severity || q.status) notes.push('severity: and status: choose among incidents: search all incidents for them');
  if (q.incident && q.incident !== s.incidentId) notes.push('incident: names another incident: search all incidents for it');
  const needles = needlesOf(q);
  const wants = (kind: SearchKind) => !q.kind || q.kind.includes(kind);
  const hypothesisById = new Map(s.hypotheses.map((h) => [h.id, h]));
  const hits: Hit[] = [];

  for (const entry of s.entries) {
    if (!wants(entry.kind) || !inTime(entry.ranAt, q)) continue;
    const own = ownHaystack(entry);
    const refs = referencesHaystack(entry, s, hypothesisById);
    const lower = refs ? `${own.lower}\n${refs.lower}` : own.lower;
    if (!matchesText(lower, q)) continue;
    if (q.labels.length && !entry.alerts.some((id) => s.alerts.get(id) && hasLabels(s.alerts.get(id)!, q.labels))) continue;
    hits.push({
      key: `entry:${entry.id}`,
      score: score(entry.title, q) * 2 + 1,
      at: entry.ranAt,
      build: () => ({
        key: `entry:${entry.id}`,
        kind: entry.kind,
        entryId: entry.id,
        title: entry.title || '(untitled)',
        titleHighlights: findHighlights(entry.title, needles),
        ...quote(refs ? { parts: [...own.parts, ...refs.parts], lower } : own, needles),
        at: entry.ranAt,
        ...(entry.mitigated ? { status: 'mitigated it' } : {}),
      }),
    });
  }

  if (wants('hypothesis') && q.labels.length === 0 && !q.from && !q.to) {
    for (const h of s.hypotheses) {
      const lower = flat(`${h.statement}\n${h.status}`).toLowerCase();
      if (!matchesText(lower, q)) continue;
      hits.push({
        key: `hypothesis:${h.id}`,
        score: score(h.statement, q) * 2 + 1,
        at: '',
        build: () => ({
          key: `hypothesis:${h.id}`,
          kind: 'hypothesis',
          hypothesisId: h.id,
          title: h.statement,
          titleHighlights: findHighlights(h.statement, needles),
          snippet: '',
          highlights: [],
          status: h.status,
        }),
      });
    }
  }

  if (wants('alert')) {
    const linkedFrom = new Map<string, string>();
    for (const entry of s.entries) for (const id of entry.alerts) if (!linkedFrom.has(id)) linkedFrom.set(id, entry.id);
    for (const alert of s.alerts.values()) {
      if (!alert.incidents.includes(s.incidentId) && !linkedFrom.has(alert.id)) continue;
      if (!inTime(alert.startsAt, q) || (q.labels.length && !hasLabels(alert, q.labels))) continue;
      const h = alertHaystack(alert);
      if (!matchesText(h.lower, q)) continue;
      hits.push({
        key: `alert:${alert.id}`,
        score: score(alert.title, q) * 2 + 1,
        at: alert.startsAt,
        build: () => {
          const labels = h.parts.find((p) => p.field === 'Labels');
          const rest = { parts: h.parts.filter((p) => p.field !== 'Alert'), lower: h.lower };
          const quoted = quote(rest, needles);
          return {
            key: `alert:${alert.id}`,
            kind: 'alert',
            alertId: alert.id,
            entryId: linkedFrom.get(alert.id),
            title: alert.title,
            titleHighlights: findHighlights(alert.title, needles),
            ...(quoted.highlights.length || !labels ? quoted : { field: 'Labels', ...snippetOf(labels.text, needles, 140) }),
            at: alert.startsAt,
            status: alert.status,
          };
        },
      });
    }
  }

  hits.sort((a, b) => b.score - a.score || b.at.localeCompare(a.at) || a.key.localeCompare(b.key));
  return { results: hits.slice(0, limit).map((h) => h.build()), total: hits.length, notes };
}
