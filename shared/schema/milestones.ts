/**
 * Milestones (issue #18): when impact started, when it was detected, acknowledged, mitigated and
 * resolved — plus custom ones a team adds ("customers notified"). They live in the incident's
 * document, `doc.getMap('milestones')`: name → ISO-8601 UTC time. Who set each, and when, is never a
 * field: the server reads it from the attributed history (`MilestoneView.setBy`, `setAt`).
 *
 * Durations are derived here, once, for the server (exports, the overview, trends), the web app
 * (the header, ticking while open) and the CLI alike.
 */
import * as Y from 'yjs';
import type { UserRef } from '../model.js';

export const StandardMilestones = ['impactStarted', 'detected', 'acknowledged', 'mitigated', 'resolved'] as const;
export type StandardMilestone = (typeof StandardMilestones)[number];

export const MilestoneLabels: Record<StandardMilestone, string> = {
  impactStarted: 'Impact started',
  detected: 'Detected',
  acknowledged: 'Acknowledged',
  mitigated: 'Mitigated',
  resolved: 'Resolved',
};

export const MilestoneLimits = {
  /** A custom milestone's name: what the team calls it, e.g. "customers notified". */
  maxNameChars: 64,
  maxCustom: 20,
  /** A time later than the server's clock by more than this is refused (clocks differ a little). */
  futureSlackMs: 60_000,
  /** A time earlier than the incident's creation by more than this is refused (impact can predate it). */
  maxBeforeCreationMs: 30 * 24 * 3600_000,
  /** Set later than the time it names by more than this: shown as backfilled. */
  backfilledAfterMs: 5 * 60_000,
} as const;

export const isStandardMilestone = (name: string): name is StandardMilestone => (StandardMilestones as readonly string[]).includes(name);

export const milestonesOf = (doc: Y.Doc): Y.Map<string> => doc.getMap('milestones');

/** name → ISO time, as the document holds it now (entries that are not strings are ignored). */
export function readMilestones(doc: Y.Doc): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of milestonesOf(doc)) if (typeof value === 'string') out[name] = value;
  return out;
}

export function milestoneLabel(name: string): string {
  return isStandardMilestone(name) ? MilestoneLabels[name] : name;
}

/** One milestone as the API and exports present it. */
export interface MilestoneView {
  name: string;
  label: string;
  /** The time it names, ISO-8601 UTC. */
  at: string;
  /** Who set it (its current value), from the attributed history. */
  setBy: UserRef;
  /** When the server received that change, ISO-8601 UTC. */
  setAt: string;
  /** Set more than `backfilledAfterMs` after the time it names. */
  backfilled: boolean;
}

export const DurationNames = ['timeToDetect', 'timeToAcknowledge', 'timeToMitigate', 'timeToResolve'] as const;
export type DurationName = (typeof DurationNames)[number];

/** Each duration: from one milestone to another. */
export const DurationSpans: Record<DurationName, { from: StandardMilestone; to: StandardMilestone; label: string }> = {
  timeToDetect: { from: 'impactStarted', to: 'detected', label: 'Time to detect' },
  timeToAcknowledge: { from: 'detected', to: 'acknowledged', label: 'Time to acknowledge' },
  timeToMitigate: { from: 'impactStarted', to: 'mitigated', label: 'Time to mitigate' },
  timeToResolve: { from: 'impactStarted', to: 'resolved', label: 'Time to resolve' },
};

export interface DurationView {
  name: DurationName;
  label: string;
  /** ms; absent when it cannot be told (see `problem`). */
  ms?: number;
  /** True while the end milestone is not set and the incident is open: `ms` runs to `now`. */
  running: boolean;
  /** Why there is no figure, or why it is suspect: "impact started is not set", "mitigated is before impact started". */
  problem?: string;
}

/**
 * The durations from the milestones. Missing start: no figure, said so. End before start: no figure,
 * said so (never a negative one). End missing while `open`: running up to `now`.
 */
export function durationsOf(milestones: Record<string, string>, opts: { open: boolean; now: number }): DurationView[] {
  return DurationNames.map((name) => {
    const { from, to, label } = DurationSpans[name];
    const start = milestones[from] ? Date.parse(milestones[from]!) : NaN;
    const end = milestones[to] ? Date.parse(milestones[to]!) : NaN;
    if (Number.isNaN(start)) return { name, label, running: false, problem: `${MilestoneLabels[from].toLowerCase()} is not set` };
    if (Number.isNaN(end)) {
      if (!opts.open) return { name, label, running: false, problem: `${MilestoneLabels[to].toLowerCase()} is not set` };
      return { name, label, ms: Math.max(0, opts.now - start), running: true };
    }
    if (end < start) return { name, label, running: false, problem: `${MilestoneLabels[to].toLowerCase()} is before ${MilestoneLabels[from].toLowerCase()}` };
    return { name, label, ms: end - start, running: false };
  });
}

/** "2h 05m", "4m 12s", "38s": how responders say a duration. */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${pad(h)}h`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(sec)}s`;
  return `${sec}s`;
}

/** Why `name` cannot name a milestone (a custom one: 1–64 characters, no control characters), or undefined. */
export function milestoneNameProblem(name: string): string | undefined {
  if (isStandardMilestone(name)) return undefined;
  if (name.trim() !== name || name.length === 0) return 'a milestone name must not be empty or start or end with spaces';
  if ([...name].length > MilestoneLimits.maxNameChars) return `a custom milestone name has at most ${MilestoneLimits.maxNameChars} characters`;
  if (/[\p{Cc}\p{Cf}\u2028\u2029]/u.test(name)) return 'a milestone name must not hold control or formatting characters';
  return undefined;
}

const RELATIVE = /^-(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A milestone time as people give it: absent or `now` (= `now`), relative to now (`-5m`, `-2h`,
 * `-1h30m`, `-90s`, `-1d`), or ISO-8601 with a zone. Returns ms since the epoch, or a message saying
 * what is wrong. Bounds (future, before creation) are the server's to check.
 */
export function parseMilestoneTime(input: string | undefined, now: number): number | { problem: string } {
  if (input === undefined || input === 'now') return now;
  const relative = RELATIVE.exec(input);
  if (relative && input !== '-') {
    const [d = '0', h = '0', m = '0', s = '0'] = relative.slice(1).map((x) => x ?? '0');
    return now - ((Number(d) * 24 + Number(h)) * 3600 + Number(m) * 60 + Number(s)) * 1000;
  }
  if (!ISO_WITH_ZONE.test(input)) return { problem: `expected an ISO-8601 time with a zone (2026-03-04T06:12:30Z), a time relative to now (-5m, -2h, -1h30m) or "now"; got ${JSON.stringify(input.slice(0, 80))}` };
  const ms = Date.parse(input);
  // Date.parse rolls 30 February over into March: the calendar date and clock must be real.
  const [y, mo, d, h, mi, sec = 0] = input.split(/[-T:Z+.]/).slice(0, 6).map(Number) as number[];
  const real = mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= new Date(Date.UTC(y!, mo!, 0)).getUTCDate() && h! < 24 && mi! < 60 && sec < 60;
  if (Number.isNaN(ms) || !real) return { problem: `not a valid time: ${input}` };
  return ms;
}

/** Sets (an ISO time) or removes (`null`) a milestone in the document. */
export function setMilestone(doc: Y.Doc, name: string, at: string | null): void {
  const map = milestonesOf(doc);
  if (at === null) map.delete(name);
  else if (map.get(name) !== at) map.set(name, at);
}

/** A time the evidence suggests for a milestone not set yet (GET …/milestones). */
export interface MilestoneSuggestion {
  name: string;
  at: string;
  /** Where it comes from: "first alert 'X' fired", "declared from the alert inbox", … */
  why: string;
}

/** `GET /api/incidents/:id/milestones`. */
export interface IncidentMilestones {
  /** Ordered by time. */
  milestones: MilestoneView[];
  durations: DurationView[];
  suggestions: MilestoneSuggestion[];
}
