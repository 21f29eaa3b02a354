/**
 * The seam between search and where its index lives (#19): the embedded default keeps an inverted
 * index in memory, built from the incidents' documents at start (embedded/memory-engine.ts); the
 * several-node mode keeps the same records in PostgreSQL with full-text search
 * (postgres/pg-search-engine.ts), shared by every node. One contract test suite runs against both
 * (test/search/search-engine.contract.ts).
 *
 * Engines know nothing of users: the caller passes the incidents a reader may see (and that pass the
 * severity/status filters), and an engine never looks at, counts or scores anything outside them.
 */
import type { ParsedQuery } from '../../shared/search.js';
import type { IndexedIncident, SearchDoc } from './search-documents.js';

export interface SearchHit {
  doc: SearchDoc;
  score: number;
  /** The incident's conclusion, as indexed. */
  incidentConclusion?: string;
}

export interface SearchScope {
  /** Only these incidents are looked at. */
  incidents: ReadonlySet<string>;
}

export interface SimilarQuery {
  /** Words worth comparing (no stop words), lower case. */
  words: string[];
  /** Only these kinds (entries). */
  kinds: string[];
}

export interface SearchEngine {
  readonly kind: 'memory' | 'postgres';
  /** Replaces what is indexed for the incident, unless a reading at a later seq is there already. */
  put(incident: IndexedIncident): Promise<void>;
  /** Forgets the incident. */
  remove(incidentId: string): Promise<void>;
  /** The seq each indexed incident was read at. */
  indexedSeqs(): Promise<Map<string, number>>;
  /** Matches of every word and phrase, none of the exclusions, and the filters; best first. */
  search(query: ParsedQuery, scope: SearchScope, limit: number): Promise<{ hits: SearchHit[]; total: number }>;
  /** Records sharing words with `query` (any of them), best first. */
  similar(query: SimilarQuery, scope: SearchScope, limit: number): Promise<SearchHit[]>;
  /** Records indexed, for /metrics and the benchmark. */
  size(): Promise<number>;
  close(): Promise<void>;
}

/** A phrase or an excluded word as a case-insensitive pattern, any run of spaces between its words. */
function literal(text: string): RegExp {
  const words = text.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(words.join('\\s+'), 'iu');
}

const patterns = new WeakMap<ParsedQuery, { phrases: RegExp[]; exclude: RegExp[] }>();

/** Whether `doc` passes the parts of a query an index does not do itself: phrases, exclusions, kinds, times. */
export function passesFilters(doc: SearchDoc, q: ParsedQuery): boolean {
  if (q.kind && !q.kind.includes(doc.kind)) return false;
  if (q.from && doc.at < q.from) return false;
  if (q.to && doc.at > q.to) return false;
  if (q.phrases.length || q.exclude.length) {
    // Compiled once per query; tested on title and body as they are (no lower-cased copy per record).
    let p = patterns.get(q);
    if (!p) patterns.set(q, (p = { phrases: q.phrases.map(literal), exclude: q.exclude.map(literal) }));
    const has = (re: RegExp) => re.test(doc.title) || re.test(doc.body);
    if (!p.phrases.every(has)) return false;
    if (p.exclude.some(has)) return false;
  }
  return true;
}

/** Whether the incident's alert labels hold every label the query asks for. */
export function hasLabels(labels: ReadonlySet<string> | readonly string[] | undefined, q: ParsedQuery): boolean {
  if (q.labels.length === 0) return true;
  if (!labels) return false;
  const has = (l: string) => (Array.isArray(labels) ? (labels as string[]).includes(l) : (labels as ReadonlySet<string>).has(l));
  return q.labels.every((l) => has(`${l.name}=${l.value}`.toLowerCase()));
}
