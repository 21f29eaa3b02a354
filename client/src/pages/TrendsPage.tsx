/**
 * Trends (#18): how many incidents per week or month by severity, and how long detecting, mitigating
 * and resolving took (median and p90 of the incidents where it is known), as charts and as CSV. The
 * choices live in the URL's query string, which is what the page asks `GET /api/trends` for.
 * Restricted incidents count only for their members: the server answers each user their own figures.
 */
import { lazy, Suspense, useEffect, useState } from 'react';
import { Severities, type Severity } from '../../../shared/model';
import { parseTrendsQuery, TrendPeriods, type TrendPeriod, type TrendsAnswer, type TrendsQuery } from '../../../shared/overview';
import { api } from '../api';
import { navigate, useSearch } from '../router';
import './TrendsPage.css';

const TrendCharts = lazy(() => import('./TrendCharts').then((m) => ({ default: m.TrendCharts })));

type Choice = Omit<TrendsQuery, 'format'>;

function choiceOf(search: string): { choice: Choice; problem?: string } {
  try {
    const { format: _format, ...choice } = parseTrendsQuery(Object.fromEntries(new URLSearchParams(search)));
    return { choice };
  } catch (err) {
    return { choice: { by: 'week' }, problem: (err as Error).message };
  }
}

function searchOf(choice: Choice, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  params.set('by', choice.by);
  if (choice.severity?.length) params.set('severity', choice.severity.join(','));
  if (choice.from) params.set('from', choice.from);
  if (choice.to) params.set('to', choice.to);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return `?${params}`;
}

const dayOf = (iso?: string) => (iso ? iso.slice(0, 10) : '');
const isoOfDay = (day: string, end: boolean) => (day ? new Date(Date.parse(`${day}T00:00:00Z`) + (end ? 86_400_000 : 0)).toISOString() : undefined);

export function TrendsPage() {
  const search = useSearch();
  const { choice, problem } = choiceOf(search);
  const query = searchOf(choice);
  const [answer, setAnswer] = useState<TrendsAnswer>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    let current = true;
    api<TrendsAnswer>('GET', `/api/trends${query}`).then(
      (a) => {
        if (!current) return;
        setAnswer(a);
        setError(undefined);
      },
      (err: Error) => current && setError(err.message),
    );
    return () => {
      current = false;
    };
  }, [query]);

  const change = (patch: Partial<Choice>) => navigate(`/trends${searchOf({ ...choice, ...patch })}`, { replace: true });
  const chosen = new Set<Severity>(choice.severity ?? []);
  const total = answer?.periods.reduce((sum, p) => sum + p.all.count, 0) ?? 0;

  return (
    <section className="trends" aria-labelledby="trends-heading">
      <div className="trends-title">
        <h1 id="trends-heading">Trends</h1>
        {answer && (
          <span className="hint" data-testid="trend-total">
            {total} {total === 1 ? 'incident' : 'incidents'}
            {answer.from && answer.to ? ` from ${dayOf(answer.from)} to ${dayOf(new Date(Date.parse(answer.to) - 1).toISOString())} (UTC)` : ''}
          </span>
        )}
      </div>
      <form className="trends-controls" aria-label="Trends" onSubmit={(e) => e.preventDefault()}>
        <fieldset className="segmented">
          <legend>Per</legend>
          {TrendPeriods.map((by: TrendPeriod) => (
            <label key={by} className={choice.by === by ? 'on' : undefined}>
              <input type="radio" name="by" value={by} checked={choice.by === by} onChange={() => change({ by })} />
              {by}
            </label>
          ))}
        </fieldset>
        <fieldset className="chips">
          <legend>Severity</legend>
          {Severities.map((s) => (
            <label key={s} className={chosen.has(s) ? 'chip on' : 'chip'}>
              <input
                type="checkbox"
                name="severity"
                value={s}
                checked={chosen.has(s)}
                onChange={(e) => {
                  const next = new Set(chosen);
                  if (e.target.checked) next.add(s);
                  else next.delete(s);
                  const severity = Severities.filter((x) => next.has(x));
                  change({ severity: severity.length ? severity : undefined });
                }}
              />
              {s}
            </label>
          ))}
        </fieldset>
        <label>
          From (UTC)
          <input type="date" name="from" value={dayOf(choice.from)} onChange={(e) => change({ from: isoOfDay(e.target.value, false) })} />
        </label>
        <label>
          To (UTC)
          <input type="date" name="to" value={choice.to ? dayOf(new Date(Date.parse(choice.to) - 1).toISOString()) : ''} onChange={(e) => change({ to: isoOfDay(e.target.value, true) })} />
        </label>
        <a className="button-link" href={`/api/trends${searchOf(choice, { format: 'csv' })}`} download={`bridgelog-trends-${choice.by}.csv`}>
          Download CSV
        </a>
      </form>
      {(problem || error) && (
        <p className="error" role="alert">
          {problem ?? error}
        </p>
      )}
      {answer && answer.periods.length === 0 && <p className="hint">No incidents to chart yet.</p>}
      {answer && answer.periods.length > 0 && (
        <Suspense fallback={<p className="hint">Drawing…</p>}>
          <TrendCharts answer={answer} />
        </Suspense>
      )}
      <p className="hint trends-note">
        Each incident counts in the {choice.by} it was declared in (UTC{choice.by === 'week' ? ', weeks from Monday' : ''}). Medians and p90s are of the incidents whose duration is known:
        both milestones set, in order, and not still running.
      </p>
    </section>
  );
}
