/**
 * Search (#19): what `GET /api/search` answers and how a query is read, shared by the server, the web
 * app and the CLI.
 *
 * A query is words, "quoted phrases", -excluded words (or -"phrases"), and filters `name:value`:
 * `severity:sev1`, `status:resolved`, `from:2026-10-01`, `to:2026-10-31` (UTC days or ISO times),
 * `incident:<id>`, `kind:test|note|action|conclusion|hypothesis|alert|attachment|link|incident`, and
 * any other `name:value` is an alert label (`site:ny`). Everything is literal: no regular expressions,
 * no wildcards. An unbalanced quote runs to the end of the query.
 */
import { IncidentStatuses, Severities, type IncidentStatus, type Severity } from './model.js';

export const MaxQueryChars = 1_000;
export const MaxResults = 100;
export const DefaultResults = 20;

/** What a result is. `entry` kinds are an entry's kind; the others are things inside the incident. */
export const SearchKinds = ['test', 'note', 'action', 'conclusion', 'hypothesis', 'alert', 'attachment', 'link', 'incident'] as const;
export type SearchKind = (typeof SearchKinds)[number];

export interface SearchResult {
  incidentId: string;
  incidentTitle: string;
  incidentStatus: IncidentStatus;
  incidentSeverity: Severity;
  /** The entry the result is in or about (entries, their attachments, links and alerts); absent for incident-level things. */
  entryId?: string;
  /** A hypothesis' id, for `kind: 'hypothesis'`. */
  hypothesisId?: string;
  kind: SearchKind;
  /** The entry's title, the hypothesis' statement, the alert's name, the file's name… */
  title: string;
  /** Some text around the first match (plain text, never HTML). */
  snippet: string;
  /** Where the query's words are in `snippet`: [start, end) character offsets, in order. */
  highlights: Array<[number, number]>;
  /** When it happened (the entry's ranAt, the alert's start, the incident's creation), ISO UTC. */
  at: string;
  /** The entry's conclusion, when it has one (what it turned out to be). */
  conclusion?: string;
  /** The incident's conclusion: its latest conclusion entry, or its confirmed hypothesis. */
  incidentConclusion?: string;
  /** Higher is better; only comparable within one answer. */
  score: number;
}

export interface SearchAnswer {
  results: SearchResult[];
  /** How many matched in all (those this reader may see), before `limit`. */
  total: number;
  /** The index is still being built after a start: results may be missing. */
  indexing?: boolean;
  /** Filters that were not understood and searched as words instead, to say so. */
  notes?: string[];
}

export interface ParsedQuery {
  /** Words that must all appear (lower case). */
  words: string[];
  /** Phrases that must appear as written (case-insensitive). */
  phrases: string[];
  /** Words or phrases that must not appear. */
  exclude: string[];
  severity?: Severity[];
  status?: IncidentStatus[];
  kind?: SearchKind[];
  incident?: string;
  /** ISO UTC bounds on `at`. */
  from?: string;
  to?: string;
  /** Alert labels: every one must be on an alert of the result's incident. */
  labels: Array<{ name: string; value: string }>;
}

export class QueryError extends Error {}

const KnownFilters = new Set(['severity', 'sev', 'status', 'kind', 'incident', 'from', 'to']);

/** A UTC day (`2026-10-03`) or an ISO time; `end` moves a day to its last millisecond. */
function parseTime(value: string, end: boolean): string | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const t = Date.parse(`${value}T00:00:00Z`);
    if (Number.isNaN(t)) return undefined;
    return new Date(end ? t + 86_400_000 - 1 : t).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** The words of a text, as the index sees them: letters and digits (any script), lower case. */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]+(?:[.\-/:][\p{L}\p{N}_]+)*/gu) ?? [];
}

/** Tokens of a query: `-`?(`name:`)?(`"…"` | word). */
function tokens(query: string): Array<{ negated: boolean; name?: string; value: string; quoted: boolean }> {
  const out: Array<{ negated: boolean; name?: string; value: string; quoted: boolean }> = [];
  let i = 0;
  const n = query.length;
  while (i < n) {
    while (i < n && /\s/.test(query[i]!)) i++;
    if (i >= n) break;
    let negated = false;
    if (query[i] === '-' && i + 1 < n && !/\s/.test(query[i + 1]!)) {
      negated = true;
      i++;
    }
    let name: string | undefined;
    const filter = /^([A-Za-z][\w.-]{0,63}):(?=\S)/.exec(query.slice(i, i + 66));
    if (filter) {
      name = filter[1]!;
      i += filter[0].length;
    }
    if (query[i] === '"') {
      const close = query.indexOf('"', i + 1);
      const end = close === -1 ? n : close;
      out.push({ negated, name, value: query.slice(i + 1, end), quoted: true });
      i = close === -1 ? n : close + 1;
    } else {
      let j = i;
      while (j < n && !/\s/.test(query[j]!)) j++;
      out.push({ negated, name, value: query.slice(i, j), quoted: false });
      i = j;
    }
  }
  return out;
}

/**
 * Reads a query. Throws QueryError for what cannot be searched (nothing to look for, a bad filter
 * value); a filter it does not know is an alert label.
 */
export function parseQuery(query: string): ParsedQuery {
  if (query.length > MaxQueryChars) throw new QueryError(`the query is too long (${query.length} characters; at most ${MaxQueryChars})`);
  const q: ParsedQuery = { words: [], phrases: [], exclude: [], labels: [] };
  const list = <T extends string>(name: string, value: string, allowed: readonly T[]): T[] => {
    const values = value.toLowerCase().split(',').filter(Boolean);
    const bad = values.filter((v) => !allowed.includes(v as T));
    if (bad.length || values.length === 0) throw new QueryError(`${name}: "${value}" is not one of ${allowed.join(', ')}`);
    return values as T[];
  };
  for (const t of tokens(query)) {
    const name = t.name?.toLowerCase();
    if (name && KnownFilters.has(name)) {
      if (t.negated) throw new QueryError(`-${name}: filters cannot be excluded; name the values you want`);
      if (name === 'severity' || name === 'sev') q.severity = list('severity', t.value, Severities);
      else if (name === 'status') q.status = list('status', t.value, IncidentStatuses);
      else if (name === 'kind') q.kind = list('kind', t.value, SearchKinds);
      else if (name === 'incident') q.incident = t.value;
      else {
        const at = parseTime(t.value, name === 'to');
        if (!at) throw new QueryError(`${name}: "${t.value}" is not a UTC day (2026-10-03) or an ISO time`);
        q[name as 'from' | 'to'] = at;
      }
      continue;
    }
    if (t.name !== undefined) {
      // name:value that is not a filter we know: an alert label.
      if (t.negated) q.exclude.push(`${t.name}:${t.value}`.toLowerCase());
      else q.labels.push({ name: t.name, value: t.value });
      continue;
    }
    const value = t.value.trim();
    if (!value) continue;
    if (t.negated) q.exclude.push(value.toLowerCase());
    else if (t.quoted) {
      if (wordsOf(value).length > 1) q.phrases.push(value.toLowerCase());
      else q.words.push(...wordsOf(value));
    } else q.words.push(...wordsOf(value));
  }
  if (q.words.length === 0 && q.phrases.length === 0 && q.labels.length === 0) {
    throw new QueryError('nothing to search for: give a word, a "phrase" or a label such as site:ny');
  }
  return q;
}

/** Case-insensitive places where each needle occurs in `text`, merged and in order. */
export function findHighlights(text: string, needles: string[]): Array<[number, number]> {
  const lower = text.toLowerCase();
  const spans: Array<[number, number]> = [];
  for (const needle of needles) {
    if (!needle) continue;
    for (let i = lower.indexOf(needle); i !== -1 && spans.length < 200; i = lower.indexOf(needle, i + needle.length)) {
      spans.push([i, i + needle.length]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push([s[0], s[1]]);
  }
  return merged;
}

/** About `width` characters of `text` around its first highlight, with the highlights moved to match. */
export function snippetOf(text: string, needles: string[], width = 160): { snippet: string; highlights: Array<[number, number]> } {
  const flat = text.replace(/\s+/g, ' ').trim();
  const all = findHighlights(flat, needles);
  const first = all[0]?.[0] ?? 0;
  let start = Math.max(0, first - Math.floor(width / 3));
  if (start > 0) {
    const space = flat.indexOf(' ', start);
    if (space !== -1 && space < first) start = space + 1;
  }
  let end = Math.min(flat.length, start + width);
  if (end < flat.length) {
    const space = flat.lastIndexOf(' ', end);
    if (space > first) end = space;
  }
  const prefix = start > 0 ? '… ' : '';
  const suffix = end < flat.length ? ' …' : '';
  const snippet = prefix + flat.slice(start, end) + suffix;
  const highlights = all
    .filter(([s, e]) => s >= start && e <= end)
    .map(([s, e]): [number, number] => [s - start + prefix.length, e - start + prefix.length]);
  return { snippet, highlights };
}

/**
 * "Seen before" (`GET /api/search/similar?text=…&incident=<the incident being logged>`): entries of
 * *other* incidents like what a responder is typing, best first, each saying why it was offered.
 */
export interface SimilarResult extends SearchResult {
  /** e.g. `same command`, `host ny-edge1`, `alert BGPSessionDown`, `words: flap, carrier`. */
  why: string[];
}

export interface SimilarAnswer {
  results: SimilarResult[];
}
