/**
 * Which alerts a test probably relates to: those firing around the time it ran, on the same things
 * the incident is about. Alerts attached to this incident come first, then those its label matchers
 * match, then the rest by time and shared labels (#16). Each suggestion says why, in words a
 * responder checks at a glance: "attached to this incident", "matches site=ny", "on “DNS outage”".
 */
import { matchesAll, parseMatcher, type LabelMatcher } from '../../shared/alerts.js';
import type { IncidentRecord } from '../store/metadata.js';
import type { AlertRecord } from './alert-store.js';

const MINUTE = 60_000;
/** Alerts further than this from the test are not suggested. */
const HORIZON_MS = 6 * 60 * MINUTE;
/** Labels that say what an alert is, not where: no evidence of relatedness by themselves. */
const NOT_CONTEXT = new Set(['alertname', 'severity', 'grafana_folder', '__name__']);

function minutes(ms: number): string {
  const m = Math.round(ms / MINUTE);
  if (m < 1) return 'less than a minute';
  if (m < 120) return `${m} min`;
  return `${Math.round(m / 60)} h`;
}

/** The labels the incident is about: its equality matchers, and what all its alerts share. */
export function incidentContext(incident: IncidentRecord, attached: AlertRecord[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const m of incident.alertMatchers ?? []) {
    const matcher = parseOrSkip(m);
    if (matcher?.op === '=' && !NOT_CONTEXT.has(matcher.name)) context[matcher.name] = matcher.value;
  }
  const [first, ...rest] = attached;
  for (const [key, value] of Object.entries(first?.labels ?? {})) {
    if (!NOT_CONTEXT.has(key) && rest.every((a) => a.labels[key] === value)) context[key] ??= value;
  }
  return context;
}

/** A stored matcher that no longer parses (older rules) adds no context; the receiver logs it. */
function parseOrSkip(text: string): LabelMatcher | undefined {
  try {
    return parseMatcher(text);
  } catch {
    return undefined;
  }
}

function timing(alert: AlertRecord, ranAt: number, now: number): { distance: number; words: string } {
  const start = Date.parse(alert.startsAt);
  const end = alert.endsAt ? Date.parse(alert.endsAt) : now;
  if (ranAt >= start && ranAt <= end) return { distance: 0, words: `firing when this test ran (since ${minutes(ranAt - start)} before)` };
  if (ranAt < start) return { distance: start - ranAt, words: `fired ${minutes(start - ranAt)} after this test` };
  return { distance: ranAt - end, words: `resolved ${minutes(ranAt - end)} before this test` };
}

export interface RankedAlert {
  alert: AlertRecord;
  score: number;
  reason: string;
}

export function suggestAlerts(
  incident: IncidentRecord,
  candidates: AlertRecord[],
  ranAt: number,
  now = Date.now(),
  limit = 10,
  /** The title of another incident the reader may see; undefined for one they may not (never named). */
  titleOf: (incidentId: string) => string | undefined = () => undefined,
): RankedAlert[] {
  const attached = candidates.filter((a) => a.incidents.includes(incident.id));
  const context = incidentContext(incident, attached);
  const contextKeys = Object.keys(context);
  const matchers = (incident.alertMatchers ?? []).map(parseOrSkip).filter((m): m is LabelMatcher => m !== undefined);
  const out: RankedAlert[] = [];
  for (const alert of candidates) {
    const { distance, words } = timing(alert, ranAt, now);
    if (distance > HORIZON_MS) continue;
    const same = contextKeys.filter((k) => alert.labels[k] === context[k]);
    const isAttached = alert.incidents.includes(incident.id);
    const matched = matchers.length > 0 && matchesAll(matchers, alert.labels);
    if (same.length === 0 && !isAttached && !matched && contextKeys.length > 0) continue;
    const timeScore = 1 / (1 + distance / (5 * MINUTE));
    const labelScore = contextKeys.length ? same.length / contextKeys.length : 0;
    // Tiers first (this incident's, then its matchers'), then time and labels within a tier.
    const score = (isAttached ? 2 : matched ? 1 : 0) + 0.65 * timeScore + 0.35 * labelScore;
    const reasons: string[] = [];
    if (isAttached) reasons.push('attached to this incident');
    else if (matched) reasons.push(`matches ${incident.alertMatchers!.join(', ')}`);
    reasons.push(words);
    if (same.length && (isAttached || !matched)) reasons.push(`same ${same.slice(0, 3).join(', ')}`);
    const elsewhere = alert.incidents.filter((id) => id !== incident.id).flatMap((id) => titleOf(id) ?? []);
    if (elsewhere.length) reasons.push(`on ${elsewhere.map((t) => `“${t}”`).join(', ')}`);
    out.push({ alert, score: Math.round(score * 1000) / 1000, reason: reasons.join(', ') });
  }
  return out.sort((a, b) => b.score - a.score).slice(0, limit);
}
