/**
 * Not used by the server: the first embedded search engine, kept so the search benchmark can measure
 * it beside ours (server/search/embedded/memory-engine.ts), which replaced it — see BENCHMARKS.md.
 *
 * MiniSearch (a maintained, dependency-free full-text index with
 * BM25 ranking, prefix search and cheap removal), in this process's memory. It is not written to
 * disk: the server builds it from the incidents' documents at start (search-indexer.ts), in the
 * background; BENCHMARKS.md has the build time and memory for 200,000 entries.
 *
 * Open incidents share one index; each restricted incident has an index of its own, searched only for
 * readers who may see it — so a non-member's search never touches, scores or spends time on a
 * restricted incident's words.
 *
 * Compound words are indexed whole and by their parts, so `ny-edge1` finds `ny-edge1` and `edge1`,
 * `10.0.0.1` finds the address and not every `10`.
 */
import MiniSearch, { type SearchResult as MiniResult } from 'minisearch';
import { wordsOf, type ParsedQuery } from '../../shared/search.js';
import type { IndexedIncident, SearchDoc } from '../../server/search/search-documents.js';
import { indexTokens } from '../../server/search/embedded/memory-engine.js';
import { hasLabels, passesFilters, type SearchEngine, type SearchHit, type SearchScope, type SimilarQuery } from '../../server/search/search-engine.js';

interface Held {
  seq: number;
  /** Which index holds its records: OPEN, or its own id while restricted. */
  partition: string;
  /** Each record's id → its JSON, to index again only what changed. */
  docs: Map<string, string>;
  labels: Set<string>;
  conclusion?: string;
}

const OPEN = '';

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const newIndex = () =>
  new MiniSearch<SearchDoc>({
    idField: 'id',
    fields: ['title', 'body'],
    storeFields: [],
    tokenize: indexTokens,
    processTerm: (term) => term,
    searchOptions: { tokenize: wordsOf, processTerm: (term) => term, boost: { title: 2 } },
  });

export class MiniSearchEngine implements SearchEngine {
  readonly kind = 'memory' as const;
  private readonly partitions = new Map<string, MiniSearch<SearchDoc>>([[OPEN, newIndex()]]);
  private readonly docs = new Map<string, SearchDoc>();
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
    if (!index) this.partitions.set(partition, (index = newIndex()));
    const before = held?.docs ?? new Map<string, string>();
    const after = new Map<string, string>();
    for (const doc of incident.docs) {
      const json = JSON.stringify(doc);
      after.set(doc.id, json);
      if (before.get(doc.id) === json) continue;
      if (before.has(doc.id)) index.discard(doc.id);
      index.add(doc);
      this.docs.set(doc.id, doc);
    }
    for (const id of before.keys()) {
      if (after.has(id)) continue;
      index.discard(id);
      this.docs.delete(id);
    }
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
    for (const id of held.docs.keys()) {
      index.discard(id);
      this.docs.delete(id);
    }
    if (held.partition !== OPEN) this.partitions.delete(held.partition);
    this.incidents.delete(incidentId);
  }

  async indexedSeqs(): Promise<Map<string, number>> {
    return new Map([...this.incidents].map(([id, held]) => [id, held.seq]));
  }

  async search(q: ParsedQuery, scope: SearchScope, limit: number): Promise<{ hits: SearchHit[]; total: number }> {
    const words = [...q.words, ...q.phrases.flatMap((p) => wordsOf(p))];
    const allowed = (doc: SearchDoc | undefined): doc is SearchDoc =>
      doc !== undefined && scope.incidents.has(doc.incidentId) && hasLabels(this.incidents.get(doc.incidentId)?.labels, q) && passesFilters(doc, q);
    const results = this.searchScope(scope, (index) =>
      index.search(words.length ? words.join(' ') : MiniSearch.wildcard, {
        combineWith: 'AND',
        // The last word as a prefix while it is being typed (3 characters or more).
        prefix: (term, i, terms) => i === terms.length - 1 && term.length >= 3 && q.words.includes(term),
        filter: (r) => allowed(this.docs.get(r.id as string)),
      }),
    );
    return { hits: results.slice(0, limit).map((r) => this.hit(r.id as string, r.score)), total: results.length };
  }

  async similar(query: SimilarQuery, scope: SearchScope, limit: number): Promise<SearchHit[]> {
    if (query.words.length === 0) return [];
    const results = this.searchScope(scope, (index) =>
      index.search(query.words.join(' '), {
        combineWith: 'OR',
        filter: (r) => {
          const doc = this.docs.get(r.id as string);
          return doc !== undefined && scope.incidents.has(doc.incidentId) && query.kinds.includes(doc.kind);
        },
      }),
    );
    return results.slice(0, limit).map((r) => this.hit(r.id as string, r.score));
  }

  async size(): Promise<number> {
    return this.docs.size;
  }

  async close(): Promise<void> {
    this.partitions.clear();
    this.docs.clear();
    this.incidents.clear();
  }

  /** Runs `search` on the open index and on the restricted incidents in scope; best first. */
  private searchScope(scope: SearchScope, search: (index: MiniSearch<SearchDoc>) => MiniResult[]): MiniResult[] {
    const results = search(this.partitions.get(OPEN)!);
    for (const [partition, index] of this.partitions) {
      if (partition !== OPEN && scope.incidents.has(partition)) results.push(...search(index));
    }
    return results.sort((a, b) => b.score - a.score || cmp(this.docs.get(b.id)!.at, this.docs.get(a.id)!.at) || cmp(a.id, b.id));
  }

  private hit(id: string, score: number): SearchHit {
    const doc = this.docs.get(id)!;
    const conclusion = this.incidents.get(doc.incidentId)?.conclusion;
    return { doc, score, ...(conclusion ? { incidentConclusion: conclusion } : {}) };
  }
}
