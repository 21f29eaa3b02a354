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
