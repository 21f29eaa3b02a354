/**
 * What the timeline shows, gathered from what the page already has: the entries (placed by when
 * they were run), who logged them and when the server got them, the alerts' firing and resolving,
 * the captures' first and last packet, the incident's milestones, and from the history's event
 * index the verdicts, the incident's status and severity changes and when each conclusion was written;
 * given them, the files attached to entries. Pure: tested without a browser. The web app's timeline
 * and the exports (server/export/report.ts) both derive from here (#16).
 */
import type { Alert } from './alerts.js';
import type { HistoryEvent } from './history.js';
import type { EntryAuthorship } from './model.js';
import type { Entry, Hypothesis } from './schema/doc.js';
import { isStandardMilestone, milestoneLabel } from './schema/milestones.js';

export const TimelineKinds = ['milestone', 'test', 'note', 'action', 'conclusion', 'alert', 'capture', 'verdict', 'status', 'attachment'] as const;
export type TimelineKind = (typeof TimelineKinds)[number];

/** Rows of the timeline, top to bottom, and the kinds each holds. */
export const TimelineGroups = [
  { id: 'milestones', label: 'Milestones', kinds: ['milestone'] },
  { id: 'status', label: 'Status', kinds: ['status'] },
  { id: 'alerts', label: 'Alerts', kinds: ['alert'] },
  { id: 'log', label: 'Log', kinds: ['test', 'note', 'action'] },
  { id: 'conclusions', label: 'Conclusions', kinds: ['conclusion'] },
  { id: 'captures', label: 'Captures', kinds: ['capture', 'attachment'] },
  { id: 'hypotheses', label: 'Hypotheses', kinds: ['verdict'] },
] as const satisfies ReadonlyArray<{ id: string; label: string; kinds: readonly TimelineKind[] }>;

/** An entry the server got this much later than it was run was written up afterwards: back-filled. */
export const BACKFILLED_MS = 10 * 60_000;

export interface TimelineItem {
  id: string;
  kind: TimelineKind;
  /** When it happened, ms UTC. */
  start: number;
  /** The end of a span (an alert firing, a capture); absent for a moment. */
  end?: number;
  /** A span still going on (an alert still firing): its end is "now". */
  ongoing?: boolean;
  /** When the server got it, when that was much later than `start` (back-filled). */
  recordedAt?: number;
  label: string;
  /** How it stands: an alert's `firing` or `resolved`, a verdict's status, the incident's status. */
  state?: string;
  /** The entry it opens. */
  entryId?: string;
  /** Who did it, as the server's history says. */
  author?: string;
  hypotheses: readonly string[];
  alerts: readonly string[];
}

export interface TimelineSources {
  entries: readonly Entry[];
  authors: ReadonlyMap<string, EntryAuthorship>;
  /** The incident's alerts and any others its entries link to. */
  alerts: readonly Alert[];
  captures: ReadonlyArray<{ attachmentId: string; name: string; entryId: string; firstPacketAt: string; lastPacketAt: string }>;
  events: readonly HistoryEvent[];
  hypotheses: readonly Hypothesis[];
  /** Ms UTC, for the end of what is still going on. */
  now: number;
  /** The incident's milestones (#18), name → ISO time, as the document holds them. */
  milestones?: Readonly<Record<string, string>>;
  /** Hypotheses deleted (#16): their verdicts are left out, as the hypotheses are. */
  deletedHypotheses?: ReadonlySet<string>;
  /** Files attached to entries, placed at when they were uploaded (the exports pass them). */
  attachments?: ReadonlyArray<{ attachmentId: string; name: string; entryId: string; uploadedAt: string; uploadedBy?: string }>;
}

const time = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : NaN);
const firstLine = (text: string) => text.trim().split('\n')[0]!;

/** Later than `start` by more than BACKFILLED_MS, or undefined. */
const lateBy = (start: number, recorded: number): number | undefined => (recorded - start > BACKFILLED_MS ? recorded : undefined);

export function timelineItems(sources: TimelineSources): TimelineItem[] {
  const { entries, authors, alerts, captures, events, hypotheses, now, milestones = {}, attachments = [] } = sources;
  const items: TimelineItem[] = [];
  for (const [name, at] of Object.entries(milestones)) {
    const start = time(at);
    if (!Number.isNaN(start)) items.push({ id: `milestone:${name}`, kind: 'milestone', start, label: milestoneLabel(name), state: isStandardMilestone(name) ? name : 'custom', hypotheses: [], alerts: [] });
  }

  const byId = new Map(entries.map((e) => [e.id, e]));
  const conclusionWrittenAt = new Map<string, number>();
  for (const event of events) {
    for (const change of event.changes) {
      if (change.kind === 'entry-changed' && change.fields.includes('conclusion')) conclusionWrittenAt.set(change.entry, time(event.toAt));
    }
  }

  for (const entry of entries) {
    const start = time(entry.ranAt);
    if (Number.isNaN(start)) continue;
    const authorship = authors.get(entry.id);
    const about = { entryId: entry.id, author: authorship?.createdBy.id, hypotheses: Object.keys(entry.hypotheses), alerts: entry.alerts };
    const loggedAt = time(authorship?.loggedAt);
    items.push({ id: entry.id, kind: entry.kind, start, recordedAt: lateBy(start, loggedAt), label: entry.title || '(untitled)', ...about });
    // A test's conclusion has a row of its own, so "what did we conclude, and when" reads at a glance.
    if (entry.kind !== 'conclusion' && entry.conclusion.trim()) {
      const written = conclusionWrittenAt.get(entry.id) ?? loggedAt;
      items.push({ id: `conclusion:${entry.id}`, kind: 'conclusion', start, recordedAt: lateBy(start, written), label: firstLine(entry.conclusion), ...about });
    }
  }

  const linkedFrom = (alertId: string) => entries.find((e) => e.alerts.includes(alertId));
  for (const alert of alerts) {
    const about = { label: alert.title, alerts: [alert.id], hypotheses: [], entryId: linkedFrom(alert.id)?.id };
    firingSpans(alert).forEach(({ start, end }, i) =>
      items.push({ id: `alert:${alert.id}:${i}`, kind: 'alert', start, end: end ?? now, ongoing: end === undefined, state: end === undefined ? 'firing' : 'resolved', ...about }),
    );
  }

  for (const capture of captures) {
    const entry = byId.get(capture.entryId);
    const start = time(capture.firstPacketAt);
    const end = time(capture.lastPacketAt);
    if (!entry || Number.isNaN(start) || Number.isNaN(end)) continue;
    items.push({
      id: `capture:${capture.entryId}:${capture.attachmentId}`,
      kind: 'capture',
      start,
      end,
      label: capture.name,
      entryId: entry.id,
      author: authors.get(entry.id)?.createdBy.id,
      hypotheses: Object.keys(entry.hypotheses),
      alerts: entry.alerts,
    });
  }

  const statements = new Map(hypotheses.map((h) => [h.id, h.statement]));
  // The first severity is the one declared (the status row shows the declaration already): only changes count.
  let severityDeclared = false;
  for (const event of events) {
    const at = time(event.at);
    event.changes.forEach((change, i) => {
      const id = `event:${event.seq}:${i}`;
      if ((change.kind === 'verdict' || change.kind === 'hypothesis-added') && sources.deletedHypotheses?.has(change.hypothesis)) return;
      if (change.kind === 'verdict' || change.kind === 'hypothesis-added') {
        const statement = statements.get(change.hypothesis) ?? change.statement;
        const evidence = latestEvidence(entries, change.hypothesis, at);
        items.push({ id, kind: 'verdict', start: at, label: `${statement}: ${change.status}`, state: change.status, entryId: evidence?.id, author: event.userId, hypotheses: [change.hypothesis], alerts: [] });
      } else if (change.kind === 'incident' && change.field === 'status' && change.value) {
        items.push({ id, kind: 'status', start: at, label: change.value, state: change.value, author: event.userId, hypotheses: [], alerts: [] });
      } else if (change.kind === 'incident' && change.field === 'severity' && change.value) {
        if (!severityDeclared) severityDeclared = true;
        else items.push({ id, kind: 'status', start: at, label: `severity ${change.value}`, state: change.value, author: event.userId, hypotheses: [], alerts: [] });
      }
    });
  }

  for (const file of attachments) {
    const entry = byId.get(file.entryId);
    const start = time(file.uploadedAt);
    if (!entry || Number.isNaN(start)) continue;
    items.push({ id: `attachment:${file.entryId}:${file.attachmentId}`, kind: 'attachment', start, label: file.name, entryId: entry.id, author: file.uploadedBy, hypotheses: [], alerts: entry.alerts });
  }

  return items.sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
}

/** An alert's firing periods from its transitions: a resolve ends the firing before it. */
export function firingSpans(alert: Alert): Array<{ start: number; end?: number }> {
  const transitions = alert.transitions.length > 0 ? alert.transitions : [{ status: 'firing' as const, at: alert.startsAt }, ...(alert.endsAt ? [{ status: 'resolved' as const, at: alert.endsAt }] : [])];
  const spans: Array<{ start: number; end?: number }> = [];
  for (const { status, at } of [...transitions].sort((a, b) => a.at.localeCompare(b.at))) {
    const open = spans[spans.length - 1];
    if (status === 'firing' && (!open || open.end !== undefined)) spans.push({ start: time(at) });
    else if (status === 'resolved' && open && open.end === undefined) open.end = time(at);
  }
  return spans.filter((s) => !Number.isNaN(s.start));
}

/** The entry a verdict most likely rests on: the last one run by then with a verdict on the hypothesis. */
function latestEvidence(entries: readonly Entry[], hypothesis: string, at: number): Entry | undefined {
  const marked = entries.filter((e) => hypothesis in e.hypotheses);
  return marked.filter((e) => time(e.ranAt) <= at).pop() ?? marked[0];
}

export interface TimelineFilter {
  kinds: ReadonlySet<TimelineKind>;
  /** A user id: only what they did. */
  author?: string;
  /** Only what bears on this hypothesis. */
  hypothesis?: string;
  /** Only this alert and what is linked to it. */
  alert?: string;
}

export function passes(item: TimelineItem, filter: TimelineFilter): boolean {
  return (
    filter.kinds.has(item.kind) &&
    (!filter.author || item.author === filter.author) &&
    (!filter.hypothesis || item.hypotheses.includes(filter.hypothesis)) &&
    (!filter.alert || item.alerts.includes(filter.alert))
  );
}

/**
 * The event index grown by an `?after=` answer: its first event may extend the last one already
 * known (same `seq`), so the answer replaces everything from there on.
 */
export function mergeEvents(known: readonly HistoryEvent[], answer: readonly HistoryEvent[]): HistoryEvent[] {
  if (answer.length === 0) return [...known];
  const from = answer[0]!.seq;
  return [...known.filter((e) => e.seq < from), ...answer];
}
