/**
 * The incidents overview and the trends page (issue #18, item 5): query parameters, answers and the
 * pure computations behind them, shared by the server (routes), the web app and the benchmark.
 * No zod: the web app imports this file.
 *
 * `GET /api/incidents` (filters and sort below) answers a plain array of `IncidentOverview` — what it
 * always answered, each incident now with its derived `durations` — and the number of matches before
 * `limit`/`offset` in the `X-Total-Count` header. With `view=page` it answers `OverviewPage` instead
 * (`{incidents, total, offset, limit}`).
 *
 * `GET /api/trends?by=week|month&from=&to=&severity=` answers `TrendsAnswer`; `&format=csv` the same
 * as CSV (`trendsCsv`). Periods are UTC: weeks start on Monday 00:00Z, months on the 1st 00:00Z. An
 * incident belongs to the period it was declared in (`createdAt`).
 */
import type { Incident, IncidentStatus, Severity } from './model.js';
import { IncidentStatuses, Severities } from './model.js';
import { DurationNames, durationsOf, type DurationName, type DurationView } from './schema/milestones.js';

/** An incident as the overview lists it. `milestones` is the catalog's mirror of the document's map. */
export type IncidentOverview = Incident & {
  milestones?: Record<string, string>;
  /** From `durationsOf(milestones ?? {}, {open: status !== 'resolved', now})`, `now` the server's clock when answered. */
  durations: DurationView[];
};

export interface OverviewPage {
  incidents: IncidentOverview[];
  /** How many incidents match the filters (before `offset` and `limit`). */
  total: number;
  offset: number;
  limit: number | null;
}

export const OverviewSortKeys = ['createdAt', 'title', 'severity', 'status', ...DurationNames] as const;
export type OverviewSortKey = (typeof OverviewSortKeys)[number];

export interface OverviewQuery {
  status?: IncidentStatus[];
  severity?: Severity[];
  /** Declared at or after (ISO, UTC). */
  from?: string;
  /** Declared before (ISO, UTC). */
  to?: string;
  /** Case-insensitive text in the title or the id. */
  q?: string;
  sort: OverviewSortKey;
  descending: boolean;
  limit?: number;
  offset: number;
}

export const OverviewLimits = { maxLimit: 1000, maxQueryChars: 200, maxPeriods: 520 } as const;

/** A bad query parameter: the message names the value, `field` the parameter. */
export class OverviewQueryError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
  }
}

type Params = Record<string, unknown>;

function single(params: Params, field: string): string | undefined {
  const value = params[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new OverviewQueryError(`${field}: give it once, as text`, field);
  return value;
}

function list<T extends string>(params: Params, field: string, allowed: readonly T[]): T[] | undefined {
  const value = single(params, field);
  if (value === undefined || value === '') return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.find((s) => !(allowed as readonly string[]).includes(s));
  if (bad !== undefined) throw new OverviewQueryError(`${field}: unknown value ${JSON.stringify(bad)} (one of ${allowed.join(', ')})`, field);
  return [...new Set(items)] as T[];
}

function time(params: Params, field: string): string | undefined {
  const value = single(params, field);
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  // A bare date is UTC midnight; anything else must say its offset, or it would mean the server's zone.
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}($|T.*(Z|[+-]\d{2}:?\d{2})$)/i.test(value)) {
    throw new OverviewQueryError(`${field}: ${JSON.stringify(value)} is not an ISO-8601 UTC time (e.g. 2026-11-30 or 2026-11-30T08:00:00Z)`, field);
  }
  return new Date(ms).toISOString();
}

function integer(params: Params, field: string, min: number, max: number): number | undefined {
  const value = single(params, field);
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new OverviewQueryError(`${field}: ${JSON.stringify(value)} is not an integer from ${min} to ${max}`, field);
  }
  return n;
}

function range(params: Params): { from?: string; to?: string } {
  const from = time(params, 'from');
  const to = time(params, 'to');
  if (from && to && to <= from) throw new OverviewQueryError(`to: ${to} is not after from (${from})`, 'to');
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

/** The list's query string, checked; throws `OverviewQueryError`. */
export function parseOverviewQuery(params: Params): OverviewQuery {
  const sortParam = single(params, 'sort') || '-createdAt';
  const descending = sortParam.startsWith('-');
  const sort = descending ? sortParam.slice(1) : sortParam;
  if (!(OverviewSortKeys as readonly string[]).includes(sort)) {
    throw new OverviewQueryError(`sort: unknown key ${JSON.stringify(sortParam)} (one of ${OverviewSortKeys.join(', ')}, - in front for descending)`, 'sort');
  }
  const q = single(params, 'q')?.trim();
  if (q && q.length > OverviewLimits.maxQueryChars) throw new OverviewQueryError(`q: longer than ${OverviewLimits.maxQueryChars} characters`, 'q');
  const status = list(params, 'status', IncidentStatuses);
  const severity = list(params, 'severity', Severities);
  const limit = integer(params, 'limit', 1, OverviewLimits.maxLimit);
  return {
    ...(status ? { status } : {}),
    ...(severity ? { severity } : {}),
    ...range(params),
    ...(q ? { q } : {}),
    sort: sort as OverviewSortKey,
    descending,
    ...(limit !== undefined ? { limit } : {}),
    offset: integer(params, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0,
  };
}

type WithMilestones = Incident & { milestones?: Record<string, string> };

export function withDurations<T extends WithMilestones>(incident: T, now: number): T & { durations: DurationView[] } {
  return { ...incident, durations: durationsOf(incident.milestones ?? {}, { open: incident.status !== 'resolved', now }) };
}

function matches(incident: Incident, query: Pick<OverviewQuery, 'status' | 'severity' | 'from' | 'to' | 'q'>, needle?: string): boolean {
  if (query.status && !query.status.includes(incident.status)) return false;
  if (query.severity && !query.severity.includes(incident.severity)) return false;
  if (query.from && incident.createdAt < query.from) return false;
  if (query.to && incident.createdAt >= query.to) return false;
  if (needle && !incident.title.toLowerCase().includes(needle) && !incident.id.toLowerCase().includes(needle)) return false;
  return true;
}

const titleOrder = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

/**
 * Filters, sorts and pages the incidents the caller may see (the caller filters for visibility).
 * Sorting by a duration puts incidents without a figure last either way; ties go newest first.
 * (ISO-8601 UTC times compare as strings; titles by an English collator, as people read them.)
 */
export function overviewOf<T extends WithMilestones>(incidents: readonly T[], query: OverviewQuery, now: number): { page: Array<T & { durations: DurationView[] }>; total: number } {
  const needle = query.q?.toLowerCase();
  const kept = incidents.filter((i) => matches(i, query, needle)).map((i) => withDurations(i, now));
  const dir = query.descending ? -1 : 1;
  const byCreated = (a: IncidentOverview, b: IncidentOverview) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0);
  let compare: (a: IncidentOverview, b: IncidentOverview) => number;
  if (query.sort === 'createdAt') {
    compare = (a, b) => -dir * byCreated(a, b);
  } else if (query.sort === 'title') {
    compare = (a, b) => dir * titleOrder.compare(a.title, b.title) || byCreated(a, b);
  } else if (query.sort === 'severity' || query.sort === 'status') {
    const order: readonly string[] = query.sort === 'severity' ? Severities : IncidentStatuses;
    const key = query.sort;
    compare = (a, b) => dir * (order.indexOf(a[key]) - order.indexOf(b[key])) || byCreated(a, b);
  } else {
    const slot = DurationNames.indexOf(query.sort);
    compare = (a, b) => {
      const x = a.durations[slot]!.ms;
      const y = b.durations[slot]!.ms;
      if (x === undefined || y === undefined) return x === y ? byCreated(a, b) : x === undefined ? 1 : -1;
      return dir * (x - y) || byCreated(a, b);
    };
  }
  kept.sort(compare);
  const end = query.limit !== undefined ? query.offset + query.limit : undefined;
  return { page: kept.slice(query.offset, end), total: kept.length };
}

// ---------------------------------------------------------------------------------------------------
// Trends

export const TrendPeriods = ['week', 'month'] as const;
export type TrendPeriod = (typeof TrendPeriods)[number];

/** The durations the trends report (time to detect, acknowledge, mitigate, resolve). */
export const TrendDurations = DurationNames;

export interface TrendFigure {
  /** How many incidents of the cell have this duration known (final: not running, no problem). */
  n: number;
  /** ms; null when n is 0. Median: the mean of the middle two when n is even. */
  median: number | null;
  /** ms, nearest rank; null when n is 0. */
  p90: number | null;
}

export interface TrendCell {
  count: number;
  durations: Record<DurationName, TrendFigure>;
}

export interface TrendPeriodRow {
  /** `2026-11-30` (week starting Monday) or `2026-11` (month). */
  period: string;
  /** ISO UTC, inclusive. */
  start: string;
  /** ISO UTC, exclusive. */
  end: string;
  /** One cell per severity asked for (all four by default). */
  bySeverity: Partial<Record<Severity, TrendCell>>;
  /** Those severities together. */
  all: TrendCell;
}

export interface TrendsAnswer {
  by: TrendPeriod;
  severities: Severity[];
  /** ISO UTC: the first period's start and the last period's end. */
  from: string | null;
  to: string | null;
  /** Every period from `from` to `to`, those without incidents included. */
  periods: TrendPeriodRow[];
}

export interface TrendsQuery {
  by: TrendPeriod;
  severity?: Severity[];
  from?: string;
  to?: string;
  format: 'json' | 'csv';
}

export function parseTrendsQuery(params: Params): TrendsQuery {
  const by = single(params, 'by') || 'week';
  if (!(TrendPeriods as readonly string[]).includes(by)) throw new OverviewQueryError(`by: unknown period ${JSON.stringify(by)} (week or month)`, 'by');
  const format = single(params, 'format') || 'json';
  if (format !== 'json' && format !== 'csv') throw new OverviewQueryError(`format: unknown format ${JSON.stringify(format)} (json or csv)`, 'format');
  const severity = list(params, 'severity', Severities);
  return { by: by as TrendPeriod, ...(severity ? { severity } : {}), ...range(params), format };
}

const DAY = 86_400_000;

/** The start of the UTC period holding `ms`. */
export function periodStart(ms: number, by: TrendPeriod): number {
  const d = new Date(ms);
  if (by === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return midnight - ((d.getUTCDay() + 6) % 7) * DAY; // back to Monday
}

function nextPeriod(start: number, by: TrendPeriod): number {
  if (by === 'week') return start + 7 * DAY;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

const periodName = (start: number, by: TrendPeriod) => new Date(start).toISOString().slice(0, by === 'week' ? 10 : 7);

function figure(values: number[]): TrendFigure {
  if (values.length === 0) return { n: 0, median: null, p90: null };
  const s = values.sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const p90 = s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)]!;
  return { n: s.length, median, p90 };
}

interface Bucket {
  count: number;
  values: Record<DurationName, number[]>;
}

const emptyBucket = (): Bucket => ({ count: 0, values: { timeToDetect: [], timeToAcknowledge: [], timeToMitigate: [], timeToResolve: [] } });

function cellOf(bucket: Bucket): TrendCell {
  const durations = {} as Record<DurationName, TrendFigure>;
  for (const name of TrendDurations) durations[name] = figure(bucket.values[name]);
  return { count: bucket.count, durations };
}

/**
 * Per period, per severity: how many incidents were declared, and the median and p90 of each duration
 * where it is known. `incidents` are those the caller may see. Periods run from `from` (else the first
 * incident's) to `to` (else `now`'s); more than `OverviewLimits.maxPeriods` is refused.
 */
export function trendsOf(incidents: readonly WithMilestones[], query: Omit<TrendsQuery, 'format'>, now: number): TrendsAnswer {
  const severities = query.severity ?? [...Severities];
  const kept = incidents.filter((i) => severities.includes(i.severity) && matches(i, { from: query.from, to: query.to }));
  const by = query.by;
  let first = query.from ? Date.parse(query.from) : Infinity;
  if (!query.from) for (const i of kept) first = Math.min(first, Date.parse(i.createdAt));
  if (first === Infinity) return { by, severities, from: null, to: null, periods: [] };
  const lastMs = query.to ? Date.parse(query.to) - 1 : Math.max(now, ...(kept.length ? [Date.parse(kept.reduce((a, b) => (a.createdAt > b.createdAt ? a : b)).createdAt)] : []));
  const starts: number[] = [];
  for (let s = periodStart(first, by); s <= lastMs; s = nextPeriod(s, by)) {
    starts.push(s);
    if (starts.length > OverviewLimits.maxPeriods) throw new OverviewQueryError(`from: more than ${OverviewLimits.maxPeriods} ${by}s between from and to; narrow the range`, 'from');
  }
  const index = new Map(starts.map((s, i) => [s, i]));
  const buckets = starts.map(() => ({ all: emptyBucket(), bySeverity: new Map<Severity, Bucket>(severities.map((s) => [s, emptyBucket()])) }));
  for (const incident of kept) {
    const slot = buckets[index.get(periodStart(Date.parse(incident.createdAt), by))!];
    if (!slot) continue;
    const own = slot.bySeverity.get(incident.severity)!;
    own.count++;
    slot.all.count++;
    for (const d of durationsOf(incident.milestones ?? {}, { open: incident.status !== 'resolved', now })) {
      if (d.ms === undefined || d.running || d.problem) continue;
      own.values[d.name].push(d.ms);
      slot.all.values[d.name].push(d.ms);
    }
  }
  const periods = starts.map((start, i): TrendPeriodRow => {
    const bySeverity: Partial<Record<Severity, TrendCell>> = {};
    for (const [severity, bucket] of buckets[i]!.bySeverity) bySeverity[severity] = cellOf(bucket);
    return { period: periodName(start, by), start: new Date(start).toISOString(), end: new Date(nextPeriod(start, by)).toISOString(), bySeverity, all: cellOf(buckets[i]!.all) };
  });
  return { by, severities, from: periods[0]!.start, to: periods.at(-1)!.end, periods };
}

const CSV_DURATION_COLUMNS: Record<DurationName, string> = {
  timeToDetect: 'time_to_detect',
  timeToAcknowledge: 'time_to_acknowledge',
  timeToMitigate: 'time_to_mitigate',
  timeToResolve: 'time_to_resolve',
};

/**
 * One row per period per severity (and one `all` row per period), durations in whole seconds:
 * `period,period_start,period_end,severity,count,time_to_detect_n,time_to_detect_median_s,time_to_detect_p90_s,…`.
 * Empty cells where a figure is unknown.
 */
export function trendsCsv(answer: TrendsAnswer): string {
  const header = ['period', 'period_start', 'period_end', 'severity', 'count'];
  for (const name of TrendDurations) header.push(`${CSV_DURATION_COLUMNS[name]}_n`, `${CSV_DURATION_COLUMNS[name]}_median_s`, `${CSV_DURATION_COLUMNS[name]}_p90_s`);
  const seconds = (ms: number | null) => (ms === null ? '' : String(Math.round(ms / 1000)));
  const row = (p: TrendPeriodRow, severity: string, cell: TrendCell) => {
    const cols = [p.period, p.start, p.end, severity, String(cell.count)];
    for (const name of TrendDurations) {
      const f = cell.durations[name];
      cols.push(String(f.n), seconds(f.median), seconds(f.p90));
    }
    return cols.join(',');
  };
  const lines = [header.join(',')];
  for (const p of answer.periods) {
    for (const severity of answer.severities) lines.push(row(p, severity, p.bySeverity[severity]!));
    lines.push(row(p, 'all', p.all));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The list's query string for the web app (what `parseOverviewQuery` reads), defaults left out. */
export function overviewSearch(query: Partial<OverviewQuery>): string {
  const params = new URLSearchParams();
  if (query.status?.length) params.set('status', query.status.join(','));
  if (query.severity?.length) params.set('severity', query.severity.join(','));
  if (query.from) params.set('from', query.from);
  if (query.to) params.set('to', query.to);
  if (query.q) params.set('q', query.q);
  if (query.sort && (query.sort !== 'createdAt' || !query.descending)) params.set('sort', `${query.descending ? '-' : ''}${query.sort}`);
  const s = params.toString();
  return s ? `?${s}` : '';
}
