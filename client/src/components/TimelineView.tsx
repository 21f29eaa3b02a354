/**
 * The incident on one UTC time axis, in place of the log: tests and other entries by when they
 * were run, conclusions, alerts firing and resolving, captures' time spans, verdicts and status
 * changes. Filters narrow it down, zoom goes from the whole incident to seconds, and every item
 * opens its entry in the log. Reads only, so viewers get all of it.
 */
import { useEffect, useMemo, useState } from 'react';
import type { EntryAuthorship } from '../../../shared/model';
import type { Entry, Hypothesis } from '../../../shared/schema/doc';
import type { IncidentSession } from '../collab/incident-session';
import { useEvidence } from '../evidence/incident-evidence';
import { useStore } from '../store';
import { useCaptureSpans } from '../timeline/capture-spans';
import { useHistoryEvents } from '../timeline/history-events';
import { centreOn, clampView, MINUTE, spanOf, wholeView, zoomView, type View } from '../timeline/timeline-layout';
import { passes, timelineItems, TimelineKinds, type TimelineFilter, type TimelineKind } from '../timeline/timeline-items';
import { formatElapsed, formatUtc, serverNowSync } from '../time';
import { TimelinePlot } from './TimelinePlot';
import { UtcTimeForm } from './UtcTimeForm';
import './TimelineView.css';
import './Milestones.css';

interface Props {
  session: IncidentSession;
  entries: readonly Entry[];
  authors: ReadonlyMap<string, EntryAuthorship>;
  hypotheses: readonly Hypothesis[];
  /** Shows the entry in the log. */
  onOpen: (entryId: string) => void;
}

const KindNames: Record<TimelineKind, string> = {
  milestone: 'Milestones',
  test: 'Tests',
  note: 'Notes',
  action: 'Actions',
  conclusion: 'Conclusions',
  alert: 'Alerts',
  capture: 'Captures',
  verdict: 'Verdicts',
  status: 'Status',
  attachment: 'Files',
};

/** Jumping to a moment shows at most this much around it: close enough to tell what happened then. */
const JUMP_SPAN_MS = 10 * MINUTE;

/** Ongoing alerts grow on screen at this pace. */
const NOW_EVERY_MS = 30_000;

const iso = (t: number) => new Date(t).toISOString();

export function TimelineView({ session, entries, authors, hypotheses, onOpen }: Props) {
  const { alerts: book, attachments: shelf, incidentId } = useEvidence();
  const alertsById = useStore(book.byId);
  const files = useStore(shelf.byId);
  const deletedHypotheses = useStore(session.deletedHypotheses);
  const leftOut = useMemo(() => new Set(deletedHypotheses.map((h) => h.id)), [deletedHypotheses]);
  const meta = useStore(session.meta);
  const milestones = useStore(session.milestones);
  const history = useHistoryEvents(session);
  const captures = useCaptureSpans(entries);
  const [now, setNow] = useState(() => serverNowSync().getTime());
  useEffect(() => {
    const timer = setInterval(() => setNow(serverNowSync().getTime()), NOW_EVERY_MS);
    return () => clearInterval(timer);
  }, []);

  const linkedAlerts = useMemo(() => new Set(entries.flatMap((e) => e.alerts)), [entries]);
  useEffect(() => linkedAlerts.forEach((id) => book.want(id)), [book, linkedAlerts]);
  const alerts = useMemo(() => [...alertsById.values()].filter((a) => a.incidents.includes(incidentId) || linkedAlerts.has(a.id)), [alertsById, incidentId, linkedAlerts]);

  // Files other than captures (those are spans of their own), at their upload: as the exports list them.
  const attachments = useMemo(
    () =>
      entries.flatMap((e) =>
        e.attachments.flatMap((id) => {
          const f = files.get(id);
          return f?.uploadedAt && f.kind !== 'capture' ? [{ attachmentId: id, name: f.name, entryId: e.id, uploadedAt: f.uploadedAt, uploadedBy: f.uploadedBy }] : [];
        }),
      ),
    [entries, files],
  );
  const items = useMemo(
    () => timelineItems({ entries, authors, alerts, captures, events: history.events, hypotheses, now, milestones, attachments, deletedHypotheses: leftOut }),
    [entries, authors, alerts, captures, history.events, hypotheses, now, milestones, attachments, leftOut],
  );
  const names = useMemo(() => {
    const out = new Map(history.users);
    for (const a of authors.values()) out.set(a.createdBy.id, a.createdBy.name);
    return out;
  }, [history.users, authors]);

  const [filter, setFilter] = useState<TimelineFilter>({ kinds: new Set(TimelineKinds) });
  const shown = useMemo(() => items.filter((item) => passes(item, filter)), [items, filter]);

  // The whole incident, whatever the filters: zooming stays put while they change.
  const bounds = useMemo(() => {
    const starts = items.map((i) => i.start);
    const ends = items.map((i) => Math.max(i.end ?? i.start, i.recordedAt ?? i.start));
    const startedAt = meta.startedAt ? Date.parse(meta.startedAt) : NaN;
    if (!Number.isNaN(startedAt)) starts.push(startedAt);
    if (starts.length === 0) return undefined;
    return wholeView(Math.min(...starts), Math.max(...starts, ...ends));
  }, [items, meta.startedAt]);
  const [zoomed, setZoomed] = useState<View>();
  const [marker, setMarker] = useState<number>();

  if (!bounds) return <p className="hint">Nothing on the timeline yet.</p>;
  const view = zoomed ? clampView(zoomed, bounds) : bounds;
  const zoomBy = (factor: number) => setZoomed(zoomView(view, factor, (view.start + view.end) / 2, bounds));

  return (
    <section className="timeline" aria-label="Timeline">
      <div className="timeline-toolbar">
        <button type="button" className="quiet small" onClick={() => setZoomed(undefined)} disabled={!zoomed}>
          Whole incident
        </button>
        <button type="button" className="quiet small" aria-label="Zoom out" onClick={() => zoomBy(2)}>
          −
        </button>
        <button type="button" className="quiet small" aria-label="Zoom in" onClick={() => zoomBy(0.5)}>
          +
        </button>
        {/* Times of day are on the incident's last day; the incident may end after this moment. */}
        <UtcTimeForm
          className="timeline-jump"
          name="Jump to a time"
          label="Jump to (UTC)"
          placeholder="Jump to 06:12 (UTC)"
          button="Go"
          reference={() => new Date(Math.max(bounds.end, serverNowSync().getTime()))}
          onTime={(at) => {
            setMarker(at.getTime());
            setZoomed(centreOn(at.getTime(), Math.min(spanOf(view), JUMP_SPAN_MS), bounds));
          }}
        />
      </div>
      <TimelineFilters filter={filter} onChange={setFilter} names={names} hypotheses={hypotheses} alerts={alerts} />
      <p className="timeline-range" data-testid="timeline-range">
        <span className="badge">UTC</span> <time dateTime={iso(view.start)}>{formatUtc(iso(view.start))}</time> –{' '}
        <time dateTime={iso(view.end)}>{formatUtc(iso(view.end))}</time> <span className="hint">({formatElapsed(spanOf(view))} across)</span>
      </p>
      <TimelinePlot items={shown} view={view} bounds={bounds} marker={marker} names={names} onView={setZoomed} onOpen={onOpen} />
    </section>
  );
}

interface FilterProps {
  filter: TimelineFilter;
  onChange: (filter: TimelineFilter) => void;
  names: ReadonlyMap<string, string>;
  hypotheses: readonly Hypothesis[];
  alerts: ReadonlyArray<{ id: string; title: string }>;
}

/** A filter that keeps items of one author, hypothesis or alert, or (`any`) all of them. */
function OneOf(props: { label: string; any: string; value: string | undefined; options: ReadonlyArray<readonly [string, string]>; onChange: (value: string) => void }) {
  return (
    <select aria-label={props.label} value={props.value ?? ''} onChange={(e) => props.onChange(e.target.value)}>
      <option value="">{props.any}</option>
      {props.options.map(([id, name]) => (
        <option key={id} value={id}>
          {name}
        </option>
      ))}
    </select>
  );
}

function TimelineFilters({ filter, onChange, names, hypotheses, alerts }: FilterProps) {
  const toggle = (kind: TimelineKind) => {
    const kinds = new Set(filter.kinds);
    if (!kinds.delete(kind)) kinds.add(kind);
    onChange({ ...filter, kinds });
  };
  const pick = (key: 'author' | 'hypothesis' | 'alert', value: string) => onChange({ ...filter, [key]: value || undefined });
  return (
    <div className="timeline-filters" role="group" aria-label="Timeline filters">
      <div className="timeline-kinds">
        {TimelineKinds.map((kind) => (
          <button key={kind} type="button" className={`quiet small tl-kind tl-${kind}`} aria-pressed={filter.kinds.has(kind)} onClick={() => toggle(kind)}>
            {KindNames[kind]}
          </button>
        ))}
      </div>
      <OneOf label="Author" any="Everyone" value={filter.author} onChange={(v) => pick('author', v)} options={[...names].sort((a, b) => a[1].localeCompare(b[1]))} />
      <OneOf label="Hypothesis" any="Any hypothesis" value={filter.hypothesis} onChange={(v) => pick('hypothesis', v)} options={hypotheses.map((h) => [h.id, h.statement])} />
      <OneOf label="Alert" any="Any alert" value={filter.alert} onChange={(v) => pick('alert', v)} options={alerts.map((a) => [a.id, a.title])} />
    </div>
  );
}

/** Log | Timeline, at the head of the log. */
export function LogViewSwitch({ view, onChange }: { view: 'log' | 'timeline'; onChange: (view: 'log' | 'timeline') => void }) {
  return (
    <div className="view-switch" role="group" aria-label="View">
      {(['log', 'timeline'] as const).map((v) => (
        <button key={v} type="button" className="quiet small" aria-pressed={view === v} onClick={() => onChange(v)}>
          {v === 'log' ? 'Log' : 'Timeline'}
        </button>
      ))}
    </div>
  );
}
