/**
 * Alerts from monitoring, as the API presents them, and label matchers (Alertmanager syntax:
 * `name=value`, `name!=value`, `name=~regex`, `name!~regex`; regexes are RE2, fully anchored, as in
 * Alertmanager).
 */
import { RE2JS } from 're2js';

export const AlertSources = ['alertmanager', 'grafana', 'generic'] as const;
export type AlertSource = (typeof AlertSources)[number];
export type AlertStatus = 'firing' | 'resolved';

export interface AlertTransition {
  status: AlertStatus;
  /** When it happened according to the sender (startsAt or endsAt), ISO UTC. */
  at: string;
  /** When Bridgelog heard of it, ISO UTC. */
  receivedAt: string;
}

export interface Alert {
  id: string;
  fingerprint: string;
  status: AlertStatus;
  title: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** `null` while firing. */
  endsAt: string | null;
  source: AlertSource;
  /** Link to the source graph or alert. */
  url: string | null;
  transitions: AlertTransition[];
  /** Incidents it is attached to (only those the caller can see). */
  incidents: string[];
  /**
   * Each time it was attached to or detached from an incident (only those the caller can see), oldest
   * first: what a replay or an export as of a moment needs to know which alerts were on the incident then.
   */
  links: AlertLink[];
}

export interface AlertLink {
  incidentId: string;
  attached: boolean;
  /** When, by the server's clock, ISO UTC. */
  at: string;
  /** The user who attached or detached it by hand; `null` when the incident's label matchers did. */
  by: string | null;
}

export interface Integration {
  id: string;
  name: string;
  kind: AlertSource;
  createdAt: string;
  revokedAt?: string;
  /** When an alert it sent last arrived or changed (GET /api/integrations). */
  lastAlertAt?: string;
}

export interface AlertSuggestion {
  alert: Alert;
  score: number;
  /** Why it is suggested, e.g. "fired 2 min before this test, same site". */
  reason: string;
}

/**
 * Bounds on an incident's label matchers. Every webhook runs every open incident's matchers on the
 * server's main thread: RE2 makes each run linear in the label's length, and these bound the factor.
 */
export const MatcherLimits = {
  perIncident: 20,
  maxChars: 256,
  /**
   * Instructions of a compiled regex. Matching costs up to this much per character of the label, so
   * `.{1000}` (short to write, 1,000 instructions) would cost seconds on a 1 MB webhook; real
   * matchers compile to a few dozen.
   */
  maxRegexInstructions: 500,
} as const;

export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  /** For `=~` and `!~`: the value compiled by RE2 (linear-time matching); matched against the whole label. */
  regex: RE2JS | null;
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$/;
/** Matchers parsed and compiled once: a webhook runs the same few for every alert. */
const parsed = new Map<string, LabelMatcher>();
const PARSED_KEPT = 2000;

/**
 * Parses `site=ny` and friends, compiling a regex with RE2 (so no lookarounds or backreferences);
 * throws with a message naming the matcher when it is not one, or is too large.
 */
export function parseMatcher(text: string): LabelMatcher {
  const known = parsed.get(text);
  if (known) return known;
  if (text.length > MatcherLimits.maxChars) throw new Error(`label matcher too long: "${text.slice(0, 40)}…" has ${text.length} characters, at most ${MatcherLimits.maxChars}`);
  const m = MATCHER.exec(text);
  if (!m) throw new Error(`not a label matcher: "${text}" (expected name=value, name!=value, name=~regex or name!~regex)`);
  const op = m[2] as LabelMatcher['op'];
  const value = m[3]!;
  const matcher: LabelMatcher = { name: m[1]!, op, value, regex: op === '=~' || op === '!~' ? compile(text, value) : null };
  if (parsed.size >= PARSED_KEPT) parsed.delete(parsed.keys().next().value!);
  parsed.set(text, matcher);
  return matcher;
}

function compile(text: string, value: string): RE2JS {
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(value);
  } catch (err) {
    throw new Error(`not a valid regex in "${text}": ${(err as Error).message} (RE2 syntax, as Alertmanager: no lookarounds or backreferences)`);
  }
  const instructions = (regex.re2().prog as { numInst(): number }).numInst();
  if (instructions > MatcherLimits.maxRegexInstructions) {
    throw new Error(`regex too complex in "${text}": it compiles to ${instructions} instructions, at most ${MatcherLimits.maxRegexInstructions} (use smaller repetition counts)`);
  }
  return regex;
}

export function matches(matcher: LabelMatcher, labels: Record<string, string>): boolean {
  // A missing label matches as the empty string, as in Alertmanager.
  const value = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return matcher.regex!.testExact(value);
    case '!~':
      return !matcher.regex!.testExact(value);
  }
}

/** All matchers must match; an empty list matches nothing (an incident without matchers takes no alerts). */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Record<string, string>): boolean {
  return matchers.length > 0 && matchers.every((m) => matches(m, labels));
}

/**
 * The alert as Bridgelog knew it at `at` (ISO UTC): the transitions heard of by then, and the status
 * and times they give; undefined when it had not been heard of yet.
 */
export function alertAsOf(alert: Alert, at: string): Alert | undefined {
  const heard = alert.transitions.filter((t) => t.receivedAt <= at);
  const last = heard.at(-1);
  if (!last) return undefined;
  const lastFiring = heard.findLast((t) => t.status === 'firing');
  const links = alert.links.filter((l) => l.at <= at);
  return {
    ...alert,
    status: last.status,
    startsAt: lastFiring?.at ?? alert.startsAt,
    endsAt: last.status === 'resolved' ? last.at : null,
    transitions: heard,
    incidents: incidentsAsOf(alert, at),
    links,
  };
}

/**
 * The incidents the alert was attached to at `at`, by its link history. An incident it has no history
 * for (attached before links were kept) counts as attached then if it is now.
 */
export function incidentsAsOf(alert: Pick<Alert, 'incidents' | 'links'>, at: string): string[] {
  const ids = new Set([...alert.incidents, ...alert.links.map((l) => l.incidentId)]);
  return [...ids].filter((id) => {
    const history = alert.links.filter((l) => l.incidentId === id);
    if (history.length === 0) return alert.incidents.includes(id);
    return history.findLast((l) => l.at <= at)?.attached ?? false;
  });
}
