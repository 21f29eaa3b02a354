/**
 * The embedded default's search index: our inverted index (inverted-index.ts) in this process's
 * memory. It is not written to disk: the server builds it from the incidents' documents at start
 * (search-indexer.ts), in the background; BENCHMARKS.md has the build time and memory at 200,000
 * entries.
 *
 * Open incidents share one index; each restricted incident has an index of its own, searched only for
 * readers who may see it — so a non-member's search never touches, scores or spends time on a
 * restricted incident's words.
 *
 * Compound words are indexed whole, by their parts and by their leading parts, so
 * `ny-edge1.example.net` is found by `edge1` and `ny-edge1`, `10.0.0.1` by the address (not every `10`).
 */
import { wordsOf, type ParsedQuery } from '../../../shared/search.js';
import type { IndexedIncident, SearchDoc } from '../search-documents.js';
import { hasLabels, passesFilters, type SearchEngine, type SearchHit, type SearchScope, type SimilarQuery } from '../search-engine.js';
import { InvertedIndex, type Scored } from './inverted-index.js';

/**
 * The words of `text` as indexed: each word; and for a compound one each part and each leading run of
 * parts (`ny-edge1.example.net` also as `ny`, `edge1`, `example`, `net`, `ny-edge1`, `ny-edge1.example`).
 */
export function indexTokens(text: string): string[] {
  const out: string[] = [];
  for (const word of wordsOf(text)) {
    out.push(word);
    if (!/[.\-/:]/.test(word)) continue;
    for (const part of word.split(/[.\-/:]+/)) if (part && !/^\d{1,3}$/.test(part)) out.push(part);
    for (const joiner of word.matchAll(/[.\-/:]+/g)) if (joiner.index > 0) out.push(word.slice(0, joiner.index));
  }
  return out;
}

/** A cheap 53-bit hash of a record, to index again only what changed. */
function hashOf(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

interface Held {
  seq: number;
  /** The index holding its records: OPEN, or its own id while restricted. */
  partition: string;
  /** Each record's id → [its number in the index, the hash of its content]. */
  docs: Map<string, [number, number]>;
  labels: Set<string>;
  conclusion?: string;
}

const OPEN = '';
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class MemorySearchEngine implements SearchEngine {
  readonly kind = 'memory' as const;
  private readonly partitions = new Map<string, InvertedIndex<SearchDoc>>([[OPEN, new InvertedIndex()]]);
  private readonly incidents = new Map<string, Held>();

  async put(incident: IndexedIncident): Promise<void> {
    let held = this.incidents.get(incident.incidentId);
    if (held && held.seq > incident.seq) return;
    const partition = incident.restricted ? incident.incidentId : OPEN;
    if (held && held.partition !== partition) {
      // Restricted or opened: its records move to the other index.
      await this.remove(incident.incidentId);
      held = undefined;
    }
    let index = this.partitions.get(partition);
    if (!index) this.partitions.set(partition, (index = new InvertedIndex()));
    const before = held?.docs ?? new Map<string, [number, number]>();
    const after = new Map<string, [number, number]>();
    for (const doc of incident.docs) {
      const hash = hashOf(JSON.stringify(doc));
      const was = before.get(doc.id);
      if (was && was[1] === hash) {
        after.set(doc.id, was);
        continue;
      }
      if (was) index.remove(was[0]);
      after.set(doc.id, [index.add(doc, indexTokens(doc.title), indexTokens(doc.body)), hash]);
    }
    for (const [id, [n]] of before) if (!after.has(id)) index.remove(n);
    this.incidents.set(incident.incidentId, {
      seq: incident.seq,
      partition,
      docs: after,
      labels: new Set(incident.labels),
      ...(incident.conclusion ? { conclusion: incident.conclusion } : {}),
    });
  }

  async remove(incidentId: string): Promise<void> {
    const held = this.incidents.get(incidentId);
    if (!held) return;
    const index = this.partitions.get(held.partition)!;
    for (const [n] of held.docs.values()) index.remove(n);
    if (held.partition !== OPEN) this.partitions.delete(held.partition);
    this.incidents.delete(incidentId);
  }

  async indexedSeqs(): Promise<Map<string, number>> {
    return new Map([...this.incidents].map(([id, held]) => [id, held.seq]));
  }

  async search(q: ParsedQuery, scope: SearchScope, limit: number): Promise<{ hits: SearchHit[]; total: number }> {
    const words = [...q.words, ...q.phrases.flatMap((p) => wordsOf(p))];
    const last = q.words[q.words.length - 1];
    const prefixLast = last !== undefined && words[words.length - 1] === last;
    const accept = (doc: SearchDoc) =>
      scope.incidents.has(doc.incidentId) && hasLabels(this.incidents.get(doc.incidentId)?.labels, q) && passesFilters(doc, q);
    const found: Array<{ doc: SearchDoc; score: number }> = [];
    let total = 0;
    for (const index of this.indexesFor(scope)) {
      const r = index.searchAll(words, prefixLast, accept, limit);
      total += r.total;
      found.push(...this.records(index, r.top));
    }
    return { hits: this.best(found, limit), total };
  }

  async similar(query: SimilarQuery, scope: SearchScope, limit: number): Promise<SearchHit[]> {
    if (query.words.length === 0) return [];
    const accept = (doc: SearchDoc) => scope.incidents.has(doc.incidentId) && query.kinds.includes(doc.kind);
    const found: Array<{ doc: SearchDoc; score: number }> = [];
    for (const index of this.indexesFor(scope)) found.push(...this.records(index, index.searchAny(query.words, accept, limit)));
    return this.best(found, limit);
  }

  async size(): Promise<number> {
    let n = 0;
    for (const index of this.partitions.values()) n += index.size;
    return n;
  }

  async close(): Promise<void> {
    this.partitions.clear();
    this.incidents.clear();
  }

  /** The open index, and the restricted incidents' indexes this reader may see. */
  private indexesFor(scope: SearchScope): Array<InvertedIndex<SearchDoc>> {
    const out = [this.partitions.get(OPEN)!];
    for (const [partition, index] of this.partitions) if (partition !== OPEN && scope.incidents.has(partition)) out.push(index);
    return out;
  }

  private records(index: InvertedIndex<SearchDoc>, top: Scored[]): Array<{ doc: SearchDoc; score: number }> {
    return top.map((t) => ({ doc: index.record(t.doc)!, score: t.score }));
  }

  /** Best first: score, then newest, then id. */
  private best(found: Array<{ doc: SearchDoc; score: number }>, limit: number): SearchHit[] {
    found.sort((a, b) => b.score - a.score || cmp(b.doc.at, a.doc.at) || cmp(a.doc.id, b.doc.id));
    return found.slice(0, limit).map(({ doc, score }) => {
      const conclusion = this.incidents.get(doc.incidentId)?.conclusion;
      return { doc, score, ...(conclusion ? { incidentConclusion: conclusion } : {}) };
    });
  }
}
