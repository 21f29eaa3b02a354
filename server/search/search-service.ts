/**
 * Search as readers see it: a query read (shared/search.ts), the incidents this reader may see and
 * that pass the incident filters handed to the engine as its whole world, and each hit presented
 * with its incident, a snippet and where the words are in it. "Seen before" (`similar`) looks for
 * entries of other incidents sharing a command, a host, an alert or several words with what a
 * responder is typing, and says which.
 *
 * A restricted incident exists only for its members here as everywhere (`canSee`): the engine is
 * never asked about incidents outside the reader's scope, so nothing of one shows in a result, a
 * snippet, a count or a suggestion.
 */
import type { Incident } from '../../shared/model.js';
import {
  MaxResults, parseQuery, snippetOf, wordsOf,
  type ParsedQuery, type SearchAnswer, type SearchResult, type SimilarAnswer, type SimilarResult,
} from '../../shared/search.js';
import type { AlertStore } from '../alerts/alert-store.js';
import { canSee } from '../auth/authenticate.js';
import type { MetadataStore, UserRecord } from '../store/metadata.js';
import type { SearchEngine, SearchHit } from './search-engine.js';
import type { SearchIndexer } from './search-indexer.js';

/** Longer than this and "seen before" is refused: a composer's title and command are far shorter. */
export const MaxSimilarChars = 10_000;

/** Words too common to say two entries are alike. */
const STOP = new Set(
  'a an and are as at be but by for from has have in is it its of on or the this that to was were with we our not no yes ok check checked run ran test tested see seen'.split(' '),
);

/** A host, an address, a path or an error code: a word with a digit or a dot or dash in it. */
const isHostLike = (w: string) => /[.\-/:]/.test(w) && /\d|[a-z]\.[a-z]/.test(w);

const normalizeCommand = (c: string) => c.trim().replace(/\s+/g, ' ').toLowerCase();

export class SearchService {
  constructor(
    private readonly engine: SearchEngine,
    private readonly indexer: SearchIndexer,
    private readonly store: MetadataStore,
    private readonly alerts: AlertStore,
  ) {}

  /** `query` as typed; throws QueryError (a 400) when it cannot be searched. */
  async search(user: UserRecord, query: string, options: { incident?: string; limit: number }): Promise<SearchAnswer> {
    const q = parseQuery(query);
    if (options.incident) q.incident = options.incident;
    const incidents = this.scope(user, q);
    const { hits, total } = await this.engine.search(q, { incidents: new Set(incidents.keys()) }, Math.min(options.limit, MaxResults));
    const needles = [...q.words, ...q.phrases];
    return {
      results: hits.map((h) => this.present(h, incidents.get(h.doc.incidentId)!, needles)),
      total,
      ...(this.indexer.building ? { indexing: true } : {}),
    };
  }

  /** Entries of incidents other than `incident` like `text`, each saying why. */
  async similar(user: UserRecord, text: string, options: { incident?: string; limit: number }): Promise<SimilarAnswer> {
    const typed = text.slice(0, 2_000);
    const typedWords = [...new Set(wordsOf(typed))].filter((w) => w.length > 1 && !STOP.has(w) && !/^\d{1,3}$/.test(w)).slice(0, 24);
    if (typedWords.length === 0) return { results: [] };
    const incidents = new Map(
      this.store
        .listIncidents()
        .filter((i) => i.id !== options.incident && canSee(user, i))
        .map((i) => [i.id, i] as const),
    );
    const hits = await this.engine.similar({ words: typedWords, kinds: ['test', 'note', 'action', 'conclusion'] }, { incidents: new Set(incidents.keys()) }, 40);
    // Alert names on the incident being logged, and on each candidate's incident.
    const namesOf = new Map<string, Set<string>>();
    for (const a of this.alerts.alerts()) {
      for (const id of a.incidents) {
        let names = namesOf.get(id);
        if (!names) namesOf.set(id, (names = new Set()));
        names.add(a.title.toLowerCase());
      }
    }
    const alertNames = (incidentId: string) => namesOf.get(incidentId) ?? new Set<string>();
    const ours = options.incident ? alertNames(options.incident) : new Set<string>();
    const typedCommand = normalizeCommand(typed);
    const typedSet = new Set(typedWords);
    const candidates: Array<{ result: SimilarResult; weight: number }> = [];
    const perIncident = new Map<string, number>();
    for (const hit of hits) {
      const doc = hit.doc;
      const why: string[] = [];
      let weight = hit.score;
      const command = doc.command ? normalizeCommand(doc.command) : '';
      if (command.length >= 4 && typedCommand.includes(command)) {
        why.push('same command');
        weight += 100;
      }
      const theirs = new Set(wordsOf(`${doc.title}\n${doc.body}`));
      const shared = typedWords.filter((w) => theirs.has(w));
      const hosts = shared.filter(isHostLike);
      for (const host of hosts.slice(0, 2)) why.push(`host ${host}`);
      weight += 30 * hosts.length;
      const alertsShared = [...alertNames(doc.incidentId)].filter((name) => ours.has(name) || typedSet.has(name));
      for (const name of alertsShared.slice(0, 2)) why.push(`alert ${name}`);
      weight += 20 * alertsShared.length;
      const words = shared.filter((w) => !isHostLike(w));
      if (why.length === 0 && words.length < 2) continue;
      if (words.length > 0) why.push(`words: ${words.slice(0, 4).join(', ')}`);
      const n = perIncident.get(doc.incidentId) ?? 0;
      if (n >= 2) continue; // a few incidents rather than one incident's many entries
      perIncident.set(doc.incidentId, n + 1);
      const needles = [...hosts, ...words];
      candidates.push({ result: { ...this.present(hit, incidents.get(doc.incidentId)!, needles), why }, weight });
    }
    candidates.sort((a, b) => b.weight - a.weight);
    return { results: candidates.slice(0, Math.min(options.limit, 10)).map((c) => c.result) };
  }

  /** The incidents this reader may see that pass the query's incident filters. */
  private scope(user: UserRecord, q: ParsedQuery): Map<string, Incident> {
    const out = new Map<string, Incident>();
    for (const i of this.store.listIncidents()) {
      if (!canSee(user, i)) continue;
      if (q.incident && i.id !== q.incident) continue;
      if (q.severity && !q.severity.includes(i.severity)) continue;
      if (q.status && !q.status.includes(i.status)) continue;
      out.set(i.id, i);
    }
    return out;
  }

  private present(hit: SearchHit, incident: Incident, needles: string[]): SearchResult {
    const { doc } = hit;
    // Where the words are in the body; the body's start when they are only in the title (shown anyway).
    const shown = doc.body.trim() ? snippetOf(doc.body, needles) : snippetOf(doc.title, needles);
    return {
      incidentId: doc.incidentId,
      incidentTitle: incident.title,
      incidentStatus: incident.status,
      incidentSeverity: incident.severity,
      ...(doc.entryId ? { entryId: doc.entryId } : {}),
      ...(doc.hypothesisId ? { hypothesisId: doc.hypothesisId } : {}),
      kind: doc.kind,
      title: doc.title,
      snippet: shown.snippet,
      highlights: shown.highlights,
      at: doc.at,
      ...(doc.conclusion ? { conclusion: doc.conclusion } : {}),
      ...(hit.incidentConclusion ? { incidentConclusion: hit.incidentConclusion } : {}),
      score: Math.round(hit.score * 1000) / 1000,
    };
  }
}
