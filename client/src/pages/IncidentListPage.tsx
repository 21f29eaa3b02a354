/**
 * The incidents overview (#18): filters (status, severity, declared between, text), sorting and the
 * durations of each incident. The filters live in the URL's query string, which is also what the page
 * asks the server for (`GET /api/incidents?…`, see shared/overview.ts), so a view can be shared.
 * Live: any app event about an incident (created, changed, gone for this user) or a reconnect fetches
 * the list again; durations still running tick here from the incident's milestones. The first 200
 * are shown, then 200 more at a time.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { IncidentStatuses, Severities, type User } from '../../../shared/model';
import { OverviewSortKeys, parseOverviewQuery, overviewSearch, type IncidentOverview, type OverviewPage, type OverviewQuery, type OverviewSortKey } from '../../../shared/overview';
import { DurationSpans, durationsOf, formatDuration, type DurationName, type DurationView } from '../../../shared/schema/milestones';
import { ServerEvent } from '../../../shared/events';
import { api } from '../api';
import { connectAppEvents } from '../app-events';
import { AlertInbox } from '../components/AlertInbox';
import { Chips } from '../components/Chips';
import { IncidentBadges } from '../components/IncidentBadges';
import { NewIncidentForm } from '../components/NewIncidentForm';
import { SearchEverything } from '../components/SearchEverything';
import { Link, navigate, useSearch } from '../router';
import { formatUtc } from '../time';
import './IncidentListPage.css';

const SHOWN_DURATIONS: Array<{ name: DurationName; short: string }> = [
  { name: 'timeToDetect', short: 'TTD' },
  { name: 'timeToMitigate', short: 'TTM' },
  { name: 'timeToResolve', short: 'TTR' },
];

const SORT_LABELS: Record<OverviewSortKey, string> = {
  createdAt: 'Declared',
  title: 'Title',
  severity: 'Severity',
  status: 'Status',
  timeToDetect: 'Time to detect',
  timeToAcknowledge: 'Time to acknowledge',
  timeToMitigate: 'Time to mitigate',
  timeToResolve: 'Time to resolve',
};

/** What the URL says, read leniently: a hand-edited bad value is shown as the server's error. */
function queryOf(search: string): { query: OverviewQuery; problem?: string } {
  const params = Object.fromEntries(new URLSearchParams(search));
  try {
    return { query: parseOverviewQuery(params) };
  } catch (err) {
    return { query: { sort: 'createdAt', descending: true, offset: 0 }, problem: (err as Error).message };
  }
}

/** `2026-11-30T00:00:00.000Z` → `2026-11-30` for a date input (UTC days). */
const dayOf = (iso?: string) => (iso ? iso.slice(0, 10) : '');
/** A UTC day from a date input; `to` means the end of that day (the API's `to` is exclusive). */
const isoOfDay = (day: string, end: boolean) => (day ? new Date(Date.parse(`${day}T00:00:00Z`) + (end ? 86_400_000 : 0)).toISOString() : undefined);

/** The list is shown this many at a time ("Show more" adds as many again): a year of incidents is megabytes. */
const PAGE = 200;

/** The list for the URL's query, its first `shown`, fetched again whenever an incident changes (throttled). */
function useOverview(search: string, shown: number) {
  const [page, setPage] = useState<OverviewPage>();
  const [error, setError] = useState<string>();
  const latest = useRef(0);
  const load = useCallback(async () => {
    const mine = ++latest.current;
    try {
      const answer = await api<OverviewPage>('GET', `/api/incidents${search}${search ? '&' : '?'}view=page&limit=${shown}`);
      if (mine !== latest.current) return;
      setPage(answer);
      setError(undefined);
    } catch (err) {
      if (mine === latest.current) setError((err as Error).message);
    }
  }, [search, shown]);

  useEffect(() => {
    void load();
    const socket = connectAppEvents();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const soon = () => {
      if (timer === undefined) timer = setTimeout(() => ((timer = undefined), void load()), 150);
    };
    socket.on(ServerEvent.incidentCreated, soon);
    socket.on(ServerEvent.incidentUpdated, soon);
    socket.on(ServerEvent.incidentGone, soon);
    socket.on('connect', soon); // events sent while it was not connected are lost
    return () => {
      clearTimeout(timer);
      socket.disconnect();
    };
  }, [load]);
  return { items: page?.incidents, total: page?.total ?? 0, error, reload: load };
}

/** Now, every `ms` while something runs. */
function useNow(active: boolean, ms = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
  return now;
}

function DurationCell({ view }: { view?: DurationView }) {
  if (!view || view.ms === undefined) {
    return (
      <span className="ov-duration unknown" title={view?.problem ?? 'not known'}>
        —<span className="visually-hidden"> ({view?.problem ?? 'not known'})</span>
      </span>
    );
  }
  return (
    <span className={view.running ? 'ov-duration running' : 'ov-duration'} title={view.running ? `${view.label}: still running` : view.label}>
      {formatDuration(view.ms)}
      {view.running && <span aria-label="still running"> …</span>}
    </span>
  );
}

function SortHeader({ query, sortKey, children, onSort }: { query: OverviewQuery; sortKey: OverviewSortKey; children: ReactNode; onSort: (key: OverviewSortKey, descending: boolean) => void }) {
  const active = query.sort === sortKey;
  // A first click on a time or a duration sorts longest/newest first; on text, A to Z.
  const firstDescending = sortKey !== 'title' && sortKey !== 'severity' && sortKey !== 'status';
  return (
    <th scope="col" aria-sort={active ? (query.descending ? 'descending' : 'ascending') : undefined}>
      <button type="button" className="sort" onClick={() => onSort(sortKey, active ? !query.descending : firstDescending)}>
        {children}
        <span aria-hidden="true" className="sort-mark">{active ? (query.descending ? ' ▾' : ' ▴') : ''}</span>
      </button>
    </th>
  );
}

export function IncidentListPage({ user }: { user: User }) {
  const search = useSearch();
  const { query, problem } = queryOf(search);
  // How many to show, for this query only: another filter starts again from the first PAGE.
  const [more, setMore] = useState({ search, shown: PAGE });
  const shown = more.search === search ? more.shown : PAGE;
  const { items, total, error } = useOverview(search, shown);
  const [text, setText] = useState(query.q ?? '');
  const textTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => setText((typed) => (typed.trim() === (query.q ?? '') ? typed : (query.q ?? ''))), [query.q]);

  const running = !!items?.some((i) => i.status !== 'resolved' && i.milestones);
  const now = useNow(running);
  const durations = (i: IncidentOverview): DurationView[] => (i.milestones ? durationsOf(i.milestones, { open: i.status !== 'resolved', now: Math.max(now, Date.now()) }) : i.durations);

  const change = (patch: Partial<OverviewQuery>) => navigate(`/${overviewSearch({ ...query, ...patch })}`, { replace: true });
  const onText = (value: string) => {
    setText(value);
    clearTimeout(textTimer.current);
    textTimer.current = setTimeout(() => change({ q: value.trim() || undefined }), 250);
  };
  const filtered = !!(query.status || query.severity || query.from || query.to || query.q);

  return (
    <>
      {user.role !== 'viewer' && <NewIncidentForm onCreated={(incident) => navigate(`/incidents/${encodeURIComponent(incident.id)}`)} />}
      <AlertInbox canDeclare={user.role !== 'viewer'} />
      <section aria-labelledby="incidents-heading" className="overview">
        <div className="overview-title">
          <h1 id="incidents-heading">Incidents</h1>
          {items && (
            <span className="hint" data-testid="incident-count">
              {total} {total === 1 ? 'incident' : 'incidents'}
              {filtered ? ' match' : ''}
              {total > items.length ? `, the first ${items.length} shown` : ''}
            </span>
          )}
          <SearchEverything />
        </div>
        <form className="overview-filters" role="search" aria-label="Filter incidents" onSubmit={(e) => e.preventDefault()}>
          <label className="grow">
            Search
            <input type="search" name="q" value={text} placeholder="Title or id" onChange={(e) => onText(e.target.value)} />
          </label>
          <Chips legend="Status" name="status" values={IncidentStatuses} chosen={query.status} onChange={(status) => change({ status: status.length ? status : undefined })} />
          <Chips legend="Severity" name="severity" values={Severities} chosen={query.severity} onChange={(severity) => change({ severity: severity.length ? severity : undefined })} />
          <label>
            Declared from (UTC)
            <input type="date" name="from" value={dayOf(query.from)} onChange={(e) => change({ from: isoOfDay(e.target.value, false) })} />
          </label>
          <label>
            to (UTC)
            <input type="date" name="to" value={query.to ? dayOf(new Date(Date.parse(query.to) - 1).toISOString()) : ''} onChange={(e) => change({ to: isoOfDay(e.target.value, true) })} />
          </label>
          <label className="sort-select">
            Sort
            <select
              aria-label="Sort by"
              name="sort"
              value={`${query.descending ? '-' : ''}${query.sort}`}
              onChange={(e) => {
                const v = e.target.value;
                change({ sort: v.replace(/^-/, '') as OverviewSortKey, descending: v.startsWith('-') });
              }}
            >
              {OverviewSortKeys.flatMap((key) => [
                <option key={`-${key}`} value={`-${key}`}>
                  {SORT_LABELS[key]} {key === 'createdAt' ? '(newest first)' : key === 'title' ? '(Z–A)' : key === 'severity' || key === 'status' ? '(last first)' : '(longest first)'}
                </option>,
                <option key={key} value={key}>
                  {SORT_LABELS[key]} {key === 'createdAt' ? '(oldest first)' : key === 'title' ? '(A–Z)' : key === 'severity' || key === 'status' ? '(first first)' : '(shortest first)'}
                </option>,
              ])}
            </select>
          </label>
          {filtered && (
            <button type="button" className="quiet small clear-filters" onClick={() => navigate('/', { replace: true })}>
              Clear filters
            </button>
          )}
        </form>
        {(problem || error) && (
          <p className="error" role="alert">
            {problem ?? error}
          </p>
        )}
        {items && items.length === 0 && !error && <p className="hint">{filtered ? 'No incidents match these filters.' : 'No incidents yet.'}</p>}
        {items && items.length > 0 && (
          <table className="overview-table">
            <thead>
              <tr>
                <SortHeader query={query} sortKey="title" onSort={(sort, descending) => change({ sort, descending })}>Incident</SortHeader>
                <SortHeader query={query} sortKey="severity" onSort={(sort, descending) => change({ sort, descending })}>Severity</SortHeader>
                <SortHeader query={query} sortKey="status" onSort={(sort, descending) => change({ sort, descending })}>Status</SortHeader>
                <SortHeader query={query} sortKey="createdAt" onSort={(sort, descending) => change({ sort, descending })}>Declared (UTC)</SortHeader>
                {SHOWN_DURATIONS.map(({ name, short }) => (
                  <SortHeader key={name} query={query} sortKey={name} onSort={(sort, descending) => change({ sort, descending })}>
                    <abbr title={DurationSpans[name].label}>{short}</abbr>
                  </SortHeader>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((incident) => {
                const views = durations(incident);
                return (
                  <tr key={incident.id} data-incident={incident.id}>
                    <td className="cell-title">
                      <Link to={`/incidents/${encodeURIComponent(incident.id)}`} className="incident-title">
                        {incident.title}
                      </Link>
                      {incident.members && <span className="badge restricted">restricted</span>}
                    </td>
                    <td className="cell-badge" data-label="Severity">
                      <IncidentBadges severity={incident.severity} />
                    </td>
                    <td className="cell-badge" data-label="Status">
                      <span className={`badge status-${incident.status}`}>{incident.status}</span>
                    </td>
                    <td className="cell-time" data-label="Declared">
                      <time dateTime={incident.createdAt}>{formatUtc(incident.createdAt)}</time>
                    </td>
                    {SHOWN_DURATIONS.map(({ name, short }) => (
                      <td key={name} className="cell-duration" data-label={short} data-duration={name}>
                        <DurationCell view={views.find((v) => v.name === name)} />
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {items && total > items.length && (
          <button type="button" className="quiet show-more" onClick={() => setMore({ search, shown: shown + PAGE })}>
            Show {Math.min(PAGE, total - items.length)} more of {total - items.length}
          </button>
        )}
      </section>
    </>
  );
}
