/**
 * Search across incidents (#19), `/search?q=…`: "have we seen this before?". The query is the
 * server's syntax (words, "phrases", -exclude, severity:, status:, from:, to:, labels such as
 * site:ny); the filter controls write into it, and it lives in the URL so a search can be shared.
 * Each result links to its entry inside its incident (`#entry-<id>`), with what it turned out to be.
 */
import { useEffect, useRef, useState } from 'react';
import { IncidentStatuses, Severities } from '../../../shared/model';
import { findHighlights, parseQuery, QueryError, type ParsedQuery, type SearchAnswer, type SearchResult } from '../../../shared/search';
import { api } from '../api';
import { Chips } from '../components/Chips';
import { Highlighted } from '../components/Highlighted';
import { IncidentBadges } from '../components/IncidentBadges';
import { needlesOf } from '../search/incident-search';
import { entryLink } from '../search/linked-target';
import { withFilter, type FilterName } from '../search/query-filters';
import { Link, navigate, useSearch } from '../router';
import { formatLocal, formatUtc } from '../time';
import './SearchPage.css';

/** Asked of the server; the page says how many more matched. */
const LIMIT = 50;
/** Typing moves the URL (and so the search) this long after the last key. */
const TYPING_MS = 300;

export const searchPath = (q: string) => (q.trim() ? `/search?q=${encodeURIComponent(q.trim())}` : '/search');

function parsed(q: string): { query?: ParsedQuery; problem?: string } {
  if (!q.trim()) return {};
  try {
    return { query: parseQuery(q) };
  } catch (err) {
    if (err instanceof QueryError) return { problem: err.message };
    throw err;
  }
}

/** The server's answer for `q`; an older answer arriving late is dropped. */
function useSearchAnswer(q: string, problem: string | undefined) {
  const [state, setState] = useState<{ q: string; answer?: SearchAnswer; error?: string }>({ q: '' });
  const latest = useRef(0);
  useEffect(() => {
    const mine = ++latest.current;
    if (!q.trim() || problem) return setState({ q });
    api<SearchAnswer>('GET', `/api/search?q=${encodeURIComponent(q)}&limit=${LIMIT}`).then(
      (answer) => mine === latest.current && setState({ q, answer }),
      (err: Error) => mine === latest.current && setState({ q, error: err.message }),
    );
  }, [q, problem]);
  return { ...state, loading: !!q.trim() && !problem && state.q !== q };
}

/** `2026-10-31T23:59:59.999Z` → `2026-10-31`, for a date input (UTC days). */
const dayOf = (iso?: string) => (iso ? iso.slice(0, 10) : '');

function Result({ result, needles }: { result: SearchResult; needles: string[] }) {
  return (
    <li className="search-hit" data-incident={result.incidentId}>
      <div className="search-hit-incident">
        <Link to={entryLink(result.incidentId)} className="search-hit-incident-title">
          {result.incidentTitle}
        </Link>
        <IncidentBadges severity={result.incidentSeverity} status={result.incidentStatus} />
      </div>
      <div className="search-hit-head">
        <span className={`badge kind-${result.kind}`}>{result.kind}</span>
        <Link to={entryLink(result.incidentId, result.entryId, result.hypothesisId)} className="search-hit-title">
          <Highlighted text={result.title || '(untitled)'} spans={findHighlights(result.title, needles)} />
        </Link>
        <time dateTime={result.at} title={formatLocal(result.at)}>
          {formatUtc(result.at)}
        </time>
      </div>
      {result.snippet && result.snippet.trim() !== result.title.trim() && (
        <p className="search-snippet">
          <Highlighted text={result.snippet} spans={result.highlights} />
        </p>
      )}
      {result.conclusion && (
        <p className="search-hit-conclusion">
          <span className="search-field">Concluded</span> {result.conclusion}
        </p>
      )}
      {result.incidentConclusion && (
        <p className="search-hit-conclusion incident-level">
          <span className="search-field">Incident concluded</span> {result.incidentConclusion}
        </p>
      )}
    </li>
  );
}

export function SearchPage() {
  const q = new URLSearchParams(useSearch()).get('q') ?? '';
  const [text, setText] = useState(q);
  const typing = useRef<ReturnType<typeof setTimeout>>(undefined);
  // Back and forward (and the filter controls) change the URL: the box follows.
  useEffect(() => setText((typed) => (typed.trim() === q.trim() ? typed : q)), [q]);
  useEffect(() => () => clearTimeout(typing.current), []);

  const { query, problem } = parsed(q);
  const { answer, error, loading } = useSearchAnswer(q, problem);
  const needles = query ? needlesOf(query) : [];

  const go = (next: string) => {
    clearTimeout(typing.current);
    navigate(searchPath(next), { replace: true });
  };
  const onText = (value: string) => {
    setText(value);
    clearTimeout(typing.current);
    typing.current = setTimeout(() => go(value), TYPING_MS);
  };
  /** A filter control changed: into the query as typed so far. */
  const filter = (name: FilterName, value: string | undefined) => {
    const next = withFilter(text, name, value);
    setText(next);
    go(next);
  };
  // Chips and dates show what the query says, as far as it can be read.
  const shown = query ?? parsed(text).query;

  return (
    <section className="search-page" aria-labelledby="search-heading">
      <h1 id="search-heading">Have we seen this before?</h1>
      <form
        className="overview-filters search-page-form"
        role="search"
        aria-label="Across incidents"
        onSubmit={(e) => {
          e.preventDefault();
          go(text);
        }}
      >
        <label className="search-page-query">
          Words, “phrases”, -exclude, labels such as site:ny
          <input
            type="search"
            name="q"
            aria-label="Find in every incident's log"
            value={text}
            autoFocus={!q}
            autoComplete="off"
            spellCheck={false}
            placeholder='bgp flap "carrier maintenance" -lab site:ny'
            onChange={(e) => onText(e.target.value)}
          />
        </label>
        <Chips legend="Severity" name="severity" values={Severities} chosen={shown?.severity} onChange={(v) => filter('severity', v.length ? v.join(',') : undefined)} />
        <Chips legend="Status" name="status" values={IncidentStatuses} chosen={shown?.status} onChange={(v) => filter('status', v.length ? v.join(',') : undefined)} />
        <label>
          From (UTC)
          <input type="date" name="from" value={dayOf(shown?.from)} onChange={(e) => filter('from', e.target.value || undefined)} />
        </label>
        <label>
          to (UTC)
          <input type="date" name="to" value={dayOf(shown?.to)} onChange={(e) => filter('to', e.target.value || undefined)} />
        </label>
      </form>
      {(problem || error) && (
        <p className="error" role="alert">
          {problem ?? error}
        </p>
      )}
      {answer?.indexing && <p className="hint banner">Still indexing: some results may be missing for a little while.</p>}
      {answer?.notes?.map((note) => (
        <p key={note} className="hint">
          {note}
        </p>
      ))}
      {!q.trim() && <p className="hint">Search every incident you can see: entries, hypotheses, alerts, files and links, with what each turned out to be.</p>}
      {answer && (
        <p className="hint" data-testid="search-count" aria-live="polite">
          {answer.total === 0
            ? 'Nothing matches.'
            : answer.total > answer.results.length
              ? `The best ${answer.results.length} of ${answer.total.toLocaleString('en')} results`
              : `${answer.total} ${answer.total === 1 ? 'result' : 'results'}`}
          {loading && ' · searching…'}
        </p>
      )}
      {!answer && loading && <p className="hint">Searching…</p>}
      {answer && answer.results.length > 0 && (
        <ol className="search-hits" aria-label="Results" aria-busy={loading}>
          {answer.results.map((r, i) => (
            <Result key={`${r.incidentId}:${r.kind}:${r.entryId ?? r.hypothesisId ?? ''}:${i}`} result={r} needles={needles} />
          ))}
        </ol>
      )}
    </section>
  );
}
