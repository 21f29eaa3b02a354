/**
 * Search in the several-node mode: the records of search-documents.ts in PostgreSQL (tables in
 * storage/postgres/migrations/005-search.ts), matched with full-text search (`tsvector @@ tsquery`
 * under a GIN index, ranked by ts_rank_cd), shared by every node: whichever node indexes an incident,
 * all of them find it.
 *
 * Records and queries are made of the same words as in the embedded engine (`indexTokens`, from the
 * words shared/search.ts reads), given to PostgreSQL as quoted lexemes by casts — never parsed by
 * it, so both modes find the same things and no input can change a query's meaning. Phrases and
 * exclusions are compared literally on the text, as the embedded engine does.
 */
import type pg from 'pg';
import { transaction } from '../../storage/postgres/database.js';
import { wordsOf, type ParsedQuery } from '../../../shared/search.js';
import type { SearchKind } from '../../../shared/search.js';
import type { IndexedIncident, SearchDoc } from '../search-documents.js';
import type { SearchEngine, SearchHit, SearchScope, SimilarQuery } from '../search-engine.js';
import { indexTokens } from '../embedded/memory-engine.js';

interface DocRow {
  id: string;
  incident_id: string;
  kind: SearchKind;
  entry_id: string | null;
  hypothesis_id: string | null;
  title: string;
  body: string;
  command: string | null;
  conclusion: string | null;
  at: string;
  score: number;
  incident_conclusion: string | null;
  total?: string;
}

const lexeme = (w: string) => `'${w.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/**
 * A tsquery of quoted lexemes, read by a cast (`::tsquery`), which takes them as they are — the
 * words the index was given (`indexTokens`), not PostgreSQL's parse of them. `prefix`: the last one
 * matches as a prefix.
 */
export function tsqueryOf(words: string[], op: '&' | '|', prefixLast = false): string {
  return words.map((w, i) => `${lexeme(w)}${prefixLast && i === words.length - 1 ? ':*' : ''}`).join(` ${op} `);
}

/** Most positions a tsvector keeps. */
const MAX_POS = 16_383;

/** The record's tsvector, as text for a `::tsvector` cast: the title's words at weight A, the body's at B. */
export function tsvectorOf(title: string, body: string): string {
  const positions = new Map<string, string[]>();
  let pos = 0;
  const add = (text: string, weight: 'A' | 'B') => {
    for (const token of indexTokens(text)) {
      pos = Math.min(pos + 1, MAX_POS);
      const list = positions.get(token) ?? [];
      if (list.length < 256) list.push(`${pos}${weight}`);
      positions.set(token, list);
    }
  };
  add(title, 'A');
  add(body, 'B');
  return [...positions].map(([token, at]) => `${lexeme(token)}:${at.join(',')}`).join(' ');
}

const docOf = (r: DocRow): SearchDoc => ({
  id: r.id,
  incidentId: r.incident_id,
  kind: r.kind,
  ...(r.entry_id ? { entryId: r.entry_id } : {}),
  ...(r.hypothesis_id ? { hypothesisId: r.hypothesis_id } : {}),
  title: r.title,
  body: r.body,
  ...(r.command ? { command: r.command } : {}),
  ...(r.conclusion ? { conclusion: r.conclusion } : {}),
  at: r.at,
});

const hitOf = (r: DocRow): SearchHit => ({
  doc: docOf(r),
  score: Number(r.score),
  ...(r.incident_conclusion ? { incidentConclusion: r.incident_conclusion } : {}),
});

const COLUMNS = `d.id, d.incident_id, d.kind, d.entry_id, d.hypothesis_id, d.title, d.body, d.command, d.conclusion, d.at, s.conclusion AS incident_conclusion`;
/**
 * A phrase or an excluded word as a case-insensitive regular expression (`~*`), any run of spaces
 * between its words — as passesFilters compares them in the embedded engine. Every character that
 * means something in a regular expression is escaped: what the reader typed is only ever literal.
 */
export function literalPattern(text: string): string {
  return text
    .trim()
    .split(/\s+/)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('\\s+');
}

export class PgSearchEngine implements SearchEngine {
  readonly kind = 'postgres' as const;

  constructor(private readonly pool: pg.Pool) {}

  async put(incident: IndexedIncident): Promise<void> {
    // Locks the incident's row until COMMIT: two nodes indexing one incident take turns, and the
    // later reading of the history wins whatever order they commit in.
    await transaction(this.pool, async (client) => {
      const kept = await client.query(
        `INSERT INTO search_incidents (incident_id, seq, labels, conclusion) VALUES ($1, $2, $3, $4)
         ON CONFLICT (incident_id) DO UPDATE SET seq = excluded.seq, labels = excluded.labels, conclusion = excluded.conclusion, indexed_at = now()
         WHERE search_incidents.seq <= excluded.seq
         RETURNING 1`,
        [incident.incidentId, incident.seq, incident.labels, incident.conclusion ?? null],
      );
      if (kept.rowCount === 0) return; // a later reading is there: this one changes nothing
      const d = incident.docs;
      await client.query(`DELETE FROM search_docs WHERE incident_id = $1 AND NOT (id = ANY($2::text[]))`, [incident.incidentId, d.map((x) => x.id)]);
      if (d.length === 0) return;
      await client.query(
        `INSERT INTO search_docs (id, incident_id, kind, entry_id, hypothesis_id, title, body, command, conclusion, at, tsv)
         SELECT id, incident_id, kind, entry_id, hypothesis_id, title, body, command, conclusion, at, tsv::tsvector
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
           AS t(id, incident_id, kind, entry_id, hypothesis_id, title, body, command, conclusion, at, tsv)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, entry_id = excluded.entry_id, hypothesis_id = excluded.hypothesis_id,
           title = excluded.title, body = excluded.body, command = excluded.command, conclusion = excluded.conclusion, at = excluded.at, tsv = excluded.tsv
         WHERE (search_docs.kind, search_docs.entry_id, search_docs.hypothesis_id, search_docs.title, search_docs.body, search_docs.command, search_docs.conclusion, search_docs.at)
           IS DISTINCT FROM (excluded.kind, excluded.entry_id, excluded.hypothesis_id, excluded.title, excluded.body, excluded.command, excluded.conclusion, excluded.at)`,
        [
          d.map((x) => x.id),
          d.map((x) => x.incidentId),
          d.map((x) => x.kind),
          d.map((x) => x.entryId ?? null),
          d.map((x) => x.hypothesisId ?? null),
          d.map((x) => x.title),
          d.map((x) => x.body),
          d.map((x) => x.command ?? null),
          d.map((x) => x.conclusion ?? null),
          d.map((x) => x.at),
          d.map((x) => tsvectorOf(x.title, x.body)),
        ],
      );
    });
  }

  async remove(incidentId: string): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM search_incidents WHERE incident_id = $1) DELETE FROM search_docs WHERE incident_id = $1`,
      [incidentId],
    );
  }

  async indexedSeqs(): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ incident_id: string; seq: string }>('SELECT incident_id, seq FROM search_incidents');
    return new Map(rows.map((r) => [r.incident_id, Number(r.seq)]));
  }

  /** Incidents whose history moved past what is indexed (or never indexed): what a sweep reads again. */
  async stale(limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ incident_id: string }>(
      `SELECT h.incident_id FROM incident_log_heads h LEFT JOIN search_incidents s USING (incident_id)
       WHERE s.seq IS NULL OR s.seq < h.last_seq ORDER BY h.incident_id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.incident_id);
  }

  async search(q: ParsedQuery, scope: SearchScope, limit: number): Promise<{ hits: SearchHit[]; total: number }> {
    if (scope.incidents.size === 0) return { hits: [], total: 0 };
    const params: unknown[] = [[...scope.incidents]];
    const where = ['d.incident_id = ANY($1::text[])'];
    const words = [...q.words, ...q.phrases.flatMap((p) => wordsOf(p))];
    let rank = '0';
    if (words.length) {
      const last = q.words[q.words.length - 1];
      const prefix = last !== undefined && words[words.length - 1] === last && last.length >= 3;
      params.push(tsqueryOf(words, '&', prefix));
      where.push(`d.tsv @@ $${params.length}::tsquery`);
      rank = `ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', d.tsv, $${params.length}::tsquery)`;
    }
    // Matched on title and body as stored (no lower-cased, flattened copy of every candidate).
    for (const phrase of q.phrases) {
      params.push(literalPattern(phrase));
      where.push(`(d.title ~* $${params.length} OR d.body ~* $${params.length})`);
    }
    for (const excluded of q.exclude) {
      params.push(literalPattern(excluded));
      where.push(`NOT (d.title ~* $${params.length} OR d.body ~* $${params.length})`);
    }
    if (q.labels.length) {
      params.push(q.labels.map((l) => `${l.name}=${l.value}`.toLowerCase()));
      where.push(`s.labels @> $${params.length}::text[]`);
    }
    if (q.kind) {
      params.push(q.kind);
      where.push(`d.kind = ANY($${params.length}::text[])`);
    }
    if (q.from) {
      params.push(q.from);
      where.push(`d.at >= $${params.length}`);
    }
    if (q.to) {
      params.push(q.to);
      where.push(`d.at <= $${params.length}`);
    }
    params.push(limit);
    const { rows } = await this.pool.query<DocRow>(
      `SELECT ${COLUMNS}, ${rank} AS score, count(*) OVER () AS total
       FROM search_docs d JOIN search_incidents s USING (incident_id)
       WHERE ${where.join(' AND ')}
       ORDER BY score DESC, d.at DESC, d.id
       LIMIT $${params.length}`,
      params,
    );
    return { hits: rows.map(hitOf), total: rows.length ? Number(rows[0]!.total) : 0 };
  }

  async similar(query: SimilarQuery, scope: SearchScope, limit: number): Promise<SearchHit[]> {
    if (query.words.length === 0 || scope.incidents.size === 0) return [];
    const { rows } = await this.pool.query<DocRow>(
      `SELECT ${COLUMNS}, ts_rank_cd(d.tsv, q) AS score
       FROM search_docs d JOIN search_incidents s USING (incident_id), CAST($2 AS tsquery) AS q
       WHERE d.incident_id = ANY($1::text[]) AND d.kind = ANY($3::text[]) AND d.tsv @@ q
       ORDER BY score DESC, d.at DESC, d.id
       LIMIT $4`,
      [[...scope.incidents], tsqueryOf(query.words, '|'), query.kinds, limit],
    );
    return rows.map(hitOf);
  }

  async size(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM search_docs');
    return Number(rows[0]!.n);
  }

  async close(): Promise<void> {}
}
