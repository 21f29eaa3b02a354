/**
 * Everything a postmortem report holds, gathered once as plain data, as of any moment: the document
 * replayed to that moment, authorship from the update log, the alerts as they stood, the evidence.
 * Every format (Markdown, HTML, JSON, zip) is rendered from this one model, whose shape is the JSON
 * export's schema (shared/schema/export.ts).
 */
import * as Y from 'yjs';
import type { Logger } from 'pino';
import { alertAsOf } from '../../shared/alerts.js';
import type { Incident } from '../../shared/model.js';
import { listEntries, listHypotheses, readMeta } from '../../shared/schema/doc.js';
import { REPORT_SCHEMA, type Person, type Report, type ReportAttachment, type ReportEntry, type ReportHypothesis, type TimelineRow } from '../../shared/schema/export.js';
import type { AlertRecord, AlertStore } from '../alerts/alert-store.js';
import { alertsEverOn } from '../alerts/alert-receiver.js';
import type { AttachmentStore } from '../attachments/attachment-store.js';
import type { CaptureAnalyses } from '../capture/capture-analyses.js';
import { IncidentAuthorship, type EntryAuthors, type MilestoneWriter } from '../history/authorship.js';
import { milestoneViews } from '../incidents/milestone-commands.js';
import { durationsOf } from '../../shared/schema/milestones.js';
import { stateAt } from '../history/state-at.js';
import type { HistoryEvent } from '../../shared/history.js';
import { timelineItems, type TimelineItem } from '../../shared/timeline.js';
import type { Blobs } from '../storage/blobs.js';
import type { MetadataStore } from '../store/metadata.js';
import type { IncidentLog } from '../storage/incident-log.js';

export type { Report, ReportAttachment, ReportEntry } from '../../shared/schema/export.js';

export interface ReportSources {
  store: MetadataStore;
  alerts: AlertStore;
  attachments: AttachmentStore;
  blobs: Blobs;
  analyses: CaptureAnalyses;
  log: Logger;
  /** Whether the reader may see the alert (AlertReceiver.visibleTo): the report holds no other. */
  canSeeAlert: (alert: AlertRecord) => boolean;
}

const BACKFILL_MS = 15 * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The document and its authorship at the report's moment. */
export interface Snapshot {
  doc: Y.Doc;
  authors: ReadonlyMap<string, EntryAuthors>;
  /** Who set each milestone's value in `doc`, from the history. */
  milestoneWriter: (name: string) => MilestoneWriter | undefined;
  at: number;
  /** Status and severity changes and verdicts up to `at`, from the authorship pass (IncidentAuthorship.incidentEvents). */
  events?: readonly HistoryEvent[];
}

/** The incident as it was at `at`, replayed from its history up to seq `upTo` (a document of its own). */
export async function snapshotAt(history: IncidentLog, at: number, upTo?: number): Promise<Snapshot> {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, await stateAt(history, at, upTo));
  const authorship = new IncidentAuthorship(history);
  await authorship.catchUp(doc, upTo, at);
  return { doc, authors: authorship.entries, milestoneWriter: (name) => authorship.milestoneWriter(doc, name), at, events: authorship.incidentEvents };
}

/** The report, with whether each of its files is still stored: asked once the report names them. */
export async function buildReport(src: ReportSources, incident: Incident, snapshot: Snapshot): Promise<Report> {
  const report = reportOf(src, incident, snapshot);
  const stored = new Map<string, Promise<boolean>>();
  const has = (sha256: string) => stored.get(sha256) ?? stored.set(sha256, src.blobs.has(sha256)).get(sha256)!;
  // Every entry's attachments: one named twice is two objects, and report.attachments holds one of them.
  await Promise.all(report.entries.flatMap((e) => e.attachments).map(async (a) => void (a.missing = !(await has(a.sha256)))));
  return report;
}

/** The report read from the snapshot at once (the live document may change at the next await). */
function reportOf(src: ReportSources, incident: Incident, snapshot: Snapshot): Report {
  const { doc, authors, milestoneWriter, at, events = [] } = snapshot;
  const names = new Map(src.store.listUsers().map((u) => [u.id, u.name]));
  const person = (id: string): Person => ({ id, name: names.get(id) ?? id });
  const meta = readMeta(doc);
  const atIso = iso(at);

  const attachmentOf = (id: string): ReportAttachment | undefined => {
    const a = src.attachments.byId(id);
    if (!a || a.incidentId !== incident.id) return undefined;
    const out: ReportAttachment = { id: a.id, name: a.name, size: a.size, sha256: a.sha256, kind: a.kind, mime: a.mime, missing: false }; // settled by buildReport
    const analysis = a.kind === 'capture' ? src.analyses.state(a.sha256) : undefined;
    if (analysis?.status === 'done') {
      out.capture = {
        packets: analysis.packets,
        bytes: analysis.bytes,
        firstPacketAt: analysis.firstPacketAt,
        lastPacketAt: analysis.lastPacketAt,
        durationMs: analysis.durationMs,
        peakMbitPerMs: (analysis.ioGraph.peakBytes * 8) / 1e3,
        capacityMbit: (analysis.bursts.capacityBytesPerMs * 8) / 1e3,
        msOverCapacity: analysis.bursts.msOverCapacity,
        ioGraph1ms: src.analyses.firstMillis(a.sha256, 60_000),
      };
    }
    return out;
  };

  // Alerts as they stood at the moment: those attached to the incident then, with only the
  // transitions heard of by then.
  const alerts = alertsEverOn(src.alerts.alerts().filter(src.canSeeAlert), incident.id)
    .flatMap((now) => {
      const then = alertAsOf(now, atIso);
      return then?.incidents.includes(incident.id) ? [{ ...now, incidents: then.incidents, links: then.links, transitions: then.transitions, statusAsOf: then.status }] : [];
    })
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  const alertById = new Map(alerts.map((a) => [a.id, a]));

  // Deleted entries and hypotheses (#16) are out of a report of the moment they were deleted in;
  // one as of an earlier moment has them, as they were then.
  const current = new Set(listHypotheses(doc).map((h) => h.id));
  const entries: ReportEntry[] = listEntries(doc).map((e) => {
    const who = authors.get(e.id);
    const attachments = e.attachments.map(attachmentOf);
    return {
      ...e,
      hypotheses: Object.fromEntries(Object.entries(e.hypotheses).filter(([id]) => current.has(id))),
      createdBy: who ? person(who.createdBy) : null,
      loggedAt: who ? iso(who.loggedAt) : null,
      editors: (who?.editors ?? []).map(person),
      editedAt: who?.editedAt !== undefined ? iso(who.editedAt) : null,
      backfilled: who !== undefined && Date.parse(e.ranAt) > 0 && who.loggedAt - Date.parse(e.ranAt) > BACKFILL_MS,
      attachments: attachments.filter((a): a is ReportAttachment => a !== undefined),
      unknownAttachments: e.attachments.filter((_, i) => attachments[i] === undefined),
      alerts: e.alerts.flatMap((id) => {
        // Linked from the entry but not on the incident then: named as stored, if the reader may
        // see it. One they may not is left out, like an unknown id: its title is not theirs to read.
        const stored = src.alerts.alertById(id);
        const a = alertById.get(id) ?? (stored && src.canSeeAlert(stored) ? stored : undefined);
        return a ? [{ id: a.id, title: a.title, status: a.status, startsAt: a.startsAt, endsAt: a.endsAt }] : [];
      }),
    };
  });

  const hypotheses: ReportHypothesis[] = listHypotheses(doc).map((h) => ({
    ...h,
    supportedBy: entries.filter((e) => e.hypotheses[h.id] === 'supports').map((e) => e.id),
    refutedBy: entries.filter((e) => e.hypotheses[h.id] === 'refutes').map((e) => e.id),
  }));

  const responders = new Map<string, Person & { entries: number; edits: number }>();
  const count = (p: Person | null, field: 'entries' | 'edits') => {
    if (!p) return;
    const r = responders.get(p.id) ?? { ...p, entries: 0, edits: 0 };
    r[field]++;
    responders.set(p.id, r);
  };
  for (const e of entries) {
    count(e.createdBy, 'entries');
    for (const ed of e.editors) count(ed, 'edits');
  }

  // Every file attached to an entry, at its upload (from the attachment records, not the document).
  const files = entries.flatMap((e) =>
    e.attachments.flatMap((a) => {
      const stored = src.attachments.byId(a.id);
      return stored ? [{ attachmentId: a.id, name: a.name, entryId: e.id, uploadedAt: stored.uploadedAt, uploadedBy: stored.uploadedBy }] : [];
    }),
  );
  const milestones = milestoneViews(doc, milestoneWriter, person);
  const milestoneTimes = Object.fromEntries(milestones.map((m) => [m.name, m.at]));
  const durations = durationsOf(milestoneTimes, { open: meta.status !== 'resolved', now: at });
  const resolvedRow = !!meta.resolvedAt && Date.parse(meta.resolvedAt) <= at;

  const timeline: TimelineRow[] = [
    ...(meta.startedAt ? [{ at: meta.startedAt, who: person(incident.createdBy).name, what: `Incident declared: ${meta.title ?? incident.title}`, kind: 'incident' as const }] : []),
    ...entries.map((e) => ({ at: e.ranAt, who: e.createdBy?.name ?? 'unknown', what: `${e.kind}: ${e.title}`, kind: 'entry' as const })),
    ...alerts.flatMap((a) =>
      a.transitions.map((t) => ({ at: t.at, who: a.source, what: `Alert ${t.status}: ${a.title}`, kind: t.status === 'firing' ? ('alert-firing' as const) : ('alert-resolved' as const) })),
    ),
    ...(resolvedRow ? [{ at: meta.resolvedAt!, who: '', what: 'Incident resolved', kind: 'incident' as const }] : []),
    // The resolved milestone is the row above already.
    ...milestones.filter((m) => !(resolvedRow && m.name === 'resolved')).map((m) => ({ at: m.at, who: m.setBy.name, what: `Milestone: ${m.label}${m.backfilled ? ' (back-filled)' : ''}`, kind: 'incident' as const, event: 'milestone' as const })),
    ...historyRows(entries, files, events, listHypotheses(doc), at, person, doc),
  ].sort((a, b) => a.at.localeCompare(b.at));

  const firstAlert = alerts[0]?.startsAt;
  // Impact starts when the responders say it did; without that milestone, at the first alert or the declaration.
  const start = milestoneTimes.impactStarted ?? [firstAlert, meta.startedAt].filter((x): x is string => !!x).sort()[0] ?? null;
  const referenced = new Map(entries.flatMap((e) => e.attachments).map((a) => [a.id, a]));
  return {
    $schema: REPORT_SCHEMA,
    generatedAt: new Date().toISOString(),
    asOf: atIso,
    incident: {
      id: incident.id,
      title: meta.title ?? incident.title,
      severity: (meta.severity ?? incident.severity),
      status: (meta.status ?? incident.status),
      createdAt: incident.createdAt,
      startedAt: meta.startedAt ?? null,
      resolvedAt: meta.resolvedAt ?? null,
      createdBy: person(incident.createdBy),
    },
    impact: { start, end: meta.status === 'resolved' ? (meta.resolvedAt ?? null) : null },
    responders: [...responders.values()].sort((a, b) => b.entries - a.entries || a.name.localeCompare(b.name)),
    summary: {
      conclusions: entries.filter((e) => e.conclusion.trim()).map((e) => ({ entryId: e.id, title: e.title, conclusion: e.conclusion })),
      hypotheses,
    },
    milestones,
    durations,
    timeline,
    entries,
    alerts,
    attachments: [...referenced.values()],
  };
}

/**
 * The timeline rows read from the history and the files, derived as the web app's timeline derives
 * them (shared/timeline.ts): status and severity changes, hypotheses added and their verdicts, and
 * the files attached to entries — each at the server's time, on the report's one UTC axis.
 */
function historyRows(
  entries: ReportEntry[],
  files: NonNullable<Parameters<typeof timelineItems>[0]['attachments']>,
  events: readonly HistoryEvent[],
  hypotheses: ReturnType<typeof listHypotheses>,
  at: number,
  person: (id: string) => Person,
  doc: Y.Doc,
): TimelineRow[] {
  const items = timelineItems({
    entries: entries.map((e) => ({ ...e, alerts: e.alerts.map((a) => a.id), attachments: e.attachments.map((a) => a.id) })),
    authors: new Map(),
    alerts: [], // rows of their own above, with each transition
    captures: [],
    events: events.filter((e) => Date.parse(e.at) <= at),
    hypotheses,
    now: at,
    attachments: files,
    deletedHypotheses: new Set(listHypotheses(doc, { includeDeleted: true }).filter((h) => h.deleted).map((h) => h.id)),
  });
  const titles = new Map(entries.map((e) => [e.id, e.title]));
  const row = (item: TimelineItem): TimelineRow | undefined => {
    const when = new Date(item.start).toISOString();
    const who = item.author ? person(item.author).name : '';
    if (item.kind === 'status') {
      const severity = item.label.startsWith('severity ');
      return { at: when, who, what: severity ? `Severity: ${item.state}` : `Status: ${item.state}`, kind: 'incident', event: severity ? 'severity' : 'status' };
    }
    if (item.kind === 'verdict') return { at: when, who, what: `Hypothesis “${item.label.slice(0, item.label.lastIndexOf(': '))}”: ${item.state}`, kind: 'incident', event: 'verdict' };
    if (item.kind === 'attachment') return { at: when, who, what: `File attached: ${item.label} (to “${titles.get(item.entryId!) ?? ''}”)`, kind: 'entry', event: 'attachment' };
    return undefined;
  };
  return items.flatMap((item) => row(item) ?? []);
}
