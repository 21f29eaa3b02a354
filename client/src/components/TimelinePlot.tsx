/**
 * The timeline's plot: a UTC axis, then one row per group of items, each packed into lanes so
 * labels never overlap. Only what is in view is in the page, and what fits in no lane is drawn as
 * a count that zooms in when clicked, so thousands of entries stay quick. The wheel zooms around
 * the pointer, dragging pans.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type PointerEvent } from 'react';
import { formatUtc } from '../time';
import {
  chooseTicks,
  clampView,
  clusterByPixels,
  CROWDED,
  lanesUsed,
  packLanes,
  panView,
  SECOND,
  spanOf,
  tickLabel,
  toTime,
  toX,
  zoomView,
  type View,
} from '../timeline/timeline-layout';
import { TimelineGroups, type TimelineItem } from '../timeline/timeline-items';

interface Props {
  items: readonly TimelineItem[];
  view: View;
  bounds: View;
  /** A moment jumped to, marked with a line. */
  marker: number | undefined;
  names: ReadonlyMap<string, string>;
  onView: (view: View) => void;
  onOpen: (entryId: string) => void;
}

const LANE_PX = 24;
const MAX_LANES: Record<string, number> = { log: 6, conclusions: 4, milestones: 6 };
const OTHER_MAX_LANES = 3;
const LABEL_MAX_PX = 190;
/** One count per this much of the screen: as wide as a count of four digits. */
const CLUSTER_BIN_PX = 32;
/** A pointer that moved this far was dragging, not clicking. */
const DRAG_PX = 4;

/** Before the label: the dot and the gap after it (style.css). */
const DOT_PX = 15;
/**
 * What an item takes with its label, estimated rather than measured (measuring thousands of labels
 * per zoom step would be slow); a label longer than the estimate is cut with an ellipsis.
 */
const textPx = (item: TimelineItem) => Math.min(LABEL_MAX_PX - DOT_PX, 10 + item.label.length * 7.2);
/** The back-filled mark is never cut: it comes after the label, in smaller type. */
const BACKFILLED_PX = 70;
const labelPx = (item: TimelineItem) => DOT_PX + textPx(item) + (item.recordedAt ? BACKFILLED_PX : 0);
/** Tick labels are monospace: about this wide per character. */
const TICK_CHAR_PX = 7.5;

const iso = (t: number) => new Date(t).toISOString();

const KindName: Record<TimelineItem['kind'], string> = {
  milestone: 'Milestone',
  test: 'Test',
  note: 'Note',
  action: 'Action',
  conclusion: 'Conclusion',
  alert: 'Alert',
  capture: 'Capture',
  verdict: 'Hypothesis',
  status: 'Status',
  attachment: 'File',
};

/** Everything about an item in one line, UTC: what the pointer or focus is on, and its accessible name. */
function describe(item: TimelineItem, names: ReadonlyMap<string, string>): string {
  const parts = [`${KindName[item.kind]}: ${item.label}`];
  if (item.end !== undefined) parts.push(`${formatUtc(iso(item.start))} – ${item.ongoing ? 'still firing' : formatUtc(iso(item.end))}`);
  else parts.push(`${item.entryId && item.kind !== 'verdict' ? (item.kind === 'attachment' ? 'attached ' : 'ran ') : ''}${formatUtc(iso(item.start))}`);
  if (item.recordedAt !== undefined) parts.push(`${item.kind === 'conclusion' ? 'written' : 'logged'} ${formatUtc(iso(item.recordedAt))}, back-filled`);
  if (item.author) parts.push(`by ${names.get(item.author) ?? 'someone'}`);
  return parts.join(' · ');
}

interface GroupLayout {
  id: string;
  label: string;
  items: readonly TimelineItem[];
  lanes: number[];
  /** Labelled on their left: by the incident's end, a label on the right would run off the plot. */
  flipped: boolean[];
  rows: number;
  crowded: boolean;
}

/**
 * Lanes depend on the scale only (ms per px from the incident's start), so panning keeps them. A
 * back-filled entry's line to when it was logged shows only on hover: it takes no room in its lane.
 */
function layoutGroups(items: readonly TimelineItem[], bounds: View, msPerPx: number): GroupLayout[] {
  return TimelineGroups.map((group) => {
    const mine = items.filter((i) => (group.kinds as readonly string[]).includes(i.kind));
    const endPx = spanOf(bounds) / msPerPx;
    const flipped = mine.map((i) => i.end === undefined && (i.start - bounds.start) / msPerPx + labelPx(i) > endPx);
    const lanes = packLanes(
      mine.map((i, n) => {
        const x0 = (i.start - bounds.start) / msPerPx;
        if (flipped[n]) return { x0: x0 - labelPx(i), x1: x0 + DOT_PX };
        return { x0, x1: Math.max(x0 + labelPx(i), ((i.end ?? i.start) - bounds.start) / msPerPx) };
      }),
      MAX_LANES[group.id] ?? OTHER_MAX_LANES,
    );
    return { id: group.id, label: group.label, items: mine, lanes, flipped, rows: Math.max(1, lanesUsed(lanes)), crowded: lanes.includes(CROWDED) };
  });
}

export function TimelinePlot({ items, view, bounds, marker, names, onView, onOpen }: Props) {
  const axis = useRef<HTMLDivElement>(null);
  const plot = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  const [hovered, setHovered] = useState<TimelineItem>();

  useLayoutEffect(() => {
    const element = axis.current!;
    const observer = new ResizeObserver(() => setWidth(element.clientWidth));
    observer.observe(element);
    setWidth(element.clientWidth);
    return () => observer.disconnect();
  }, []);

  // The wheel zooms around the pointer (a non-passive listener, so the page does not scroll too).
  const latest = useRef({ view, bounds, width, onView });
  latest.current = { view, bounds, width, onView };
  useEffect(() => {
    const element = plot.current!;
    const onWheel = (event: WheelEvent) => {
      const { view, bounds, width, onView } = latest.current;
      if (width === 0) return;
      event.preventDefault();
      const x = event.clientX - axis.current!.getBoundingClientRect().left;
      if (Math.abs(event.deltaX) > Math.abs(event.deltaY)) return onView(panView(view, (event.deltaX / width) * spanOf(view), bounds));
      onView(zoomView(view, Math.exp(event.deltaY * 0.002), toTime(view, width, x), bounds));
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, []);

  const drag = useRef<{ x: number; view: View; moved: boolean }>(undefined);
  const onPointerDown = (event: PointerEvent) => {
    if (event.button === 0) drag.current = { x: event.clientX, view, moved: false };
  };
  const onPointerMove = (event: PointerEvent) => {
    const d = drag.current;
    if (!d || width === 0) return;
    const dx = event.clientX - d.x;
    if (!d.moved && Math.abs(dx) < DRAG_PX) return;
    // Captured only once it is a drag: capturing on press would send an item's click to the plot.
    if (!d.moved) plot.current!.setPointerCapture(event.pointerId);
    d.moved = true;
    onView(panView(d.view, (-dx / width) * spanOf(d.view), bounds));
  };
  const onPointerUp = () => {
    // The click that ends a drag must not open an item: it is cleared after that click.
    setTimeout(() => (drag.current = undefined));
  };

  const msPerPx = width > 0 ? spanOf(view) / width : 1;
  const groups = useMemo(() => layoutGroups(items, bounds, msPerPx), [items, bounds, msPerPx]);
  const ticks = width > 0 ? chooseTicks(view, width) : { step: SECOND, times: [] };
  const x = (t: number) => toX(view, width, t);
  const open = (item: TimelineItem) => {
    if (!drag.current?.moved && item.entryId) onOpen(item.entryId);
  };

  return (
    <>
      <div className="tl-plot" ref={plot} onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={onPointerUp} onPointerCancel={onPointerUp}>
        <div className="tl-row tl-axis-row">
          <div className="tl-group-label">UTC</div>
          <div className="tl-axis" ref={axis}>
            {ticks.times.map((t) => {
              const label = tickLabel(t, ticks.step);
              // A label cut by either edge reads as another time: left out, its gridline stays.
              const half = (label.length * TICK_CHAR_PX) / 2;
              return x(t) - half < 0 || x(t) + half > width ? null : (
                <span key={t} className="tl-tick" style={{ left: x(t) }}>
                  {label}
                </span>
              );
            })}
          </div>
        </div>
        <div className="tl-grid" aria-hidden="true">
          {ticks.times.map((t) => (
            <span key={t} className="tl-gridline" style={{ left: x(t) }} />
          ))}
          {items
            .filter((i) => i.kind === 'milestone' && i.start >= view.start && i.start <= view.end)
            .map((i) => (
              <span key={i.id} className={`tl-ms-line tl-is-${i.state}`} style={{ left: x(i.start) }} data-milestone-line={i.id.slice('milestone:'.length)} />
            ))}
          {marker !== undefined && marker >= view.start && marker <= view.end && <span className="tl-marker" style={{ left: x(marker) }} title={formatUtc(iso(marker))} />}
        </div>
        {width > 0 &&
          groups.map((group) => (
            <Group key={group.id} group={group} view={view} width={width} names={names} onHover={setHovered} onOpen={open} onZoom={onView} bounds={bounds} />
          ))}
      </div>
      <p className="tl-detail" aria-live="polite">
        {hovered ? describe(hovered, names) : 'Point at an item for its details, click it to open its entry. Wheel to zoom, drag to move along.'}
      </p>
    </>
  );
}

interface GroupProps {
  group: GroupLayout;
  view: View;
  bounds: View;
  width: number;
  names: ReadonlyMap<string, string>;
  onHover: (item: TimelineItem | undefined) => void;
  onOpen: (item: TimelineItem) => void;
  onZoom: (view: View) => void;
}

function Group({ group, view, bounds, width, names, onHover, onOpen, onZoom }: GroupProps) {
  const x = (t: number) => toX(view, width, t);
  const visible: Array<{ item: TimelineItem; lane: number; flip: boolean }> = [];
  const crowded: Array<{ x: number; t: number }> = [];
  group.items.forEach((item, i) => {
    const flip = group.flipped[i]!;
    const x0 = x(item.start) - (flip ? labelPx(item) : 0);
    const x1 = flip ? x(item.start) + DOT_PX : Math.max(x0 + labelPx(item), x(item.end ?? item.start));
    if (x1 < 0 || x0 > width) return;
    const lane = group.lanes[i]!;
    if (lane === CROWDED) {
      const at = x(item.start);
      if (at >= 0 && at <= width) crowded.push({ x: at, t: item.start });
    } else {
      visible.push({ item, lane, flip });
    }
  });
  const clusters = clusterByPixels(crowded, CLUSTER_BIN_PX);
  const height = (group.rows + (group.crowded ? 1 : 0)) * LANE_PX;

  return (
    <div className="tl-row" role="group" aria-label={group.label}>
      <div className="tl-group-label">{group.label}</div>
      <div className="tl-lanes" style={{ height }}>
        {visible.map(({ item, lane, flip }) => (
          <Item key={item.id} item={item} lane={lane} flip={flip} x={x} width={width} names={names} onHover={onHover} onOpen={onOpen} />
        ))}
        {clusters.map((c) => (
          <button
            key={c.x}
            type="button"
            className="tl-cluster"
            style={{ left: c.x, top: group.rows * LANE_PX }}
            aria-label={`${c.count} more from ${formatUtc(iso(c.first))}: zoom in`}
            onClick={() => {
              const pad = Math.max((c.last - c.first) * 0.25, 5 * SECOND);
              onZoom(clampView({ start: c.first - pad, end: c.last + pad }, bounds));
            }}
          >
            {c.count}
          </button>
        ))}
      </div>
    </div>
  );
}

interface ItemProps {
  item: TimelineItem;
  lane: number;
  flip: boolean;
  x: (t: number) => number;
  width: number;
  names: ReadonlyMap<string, string>;
  onHover: (item: TimelineItem | undefined) => void;
  onOpen: (item: TimelineItem) => void;
}

function Item({ item, lane, flip, x, width, names, onHover, onOpen }: ItemProps) {
  const x0 = x(item.start);
  const span = item.end !== undefined;
  // A span that began before the view starts at its left edge, so its label stays readable.
  const left = span ? Math.max(x0, -2) : x0;
  const bar = span ? Math.max(3, Math.min(x(item.end!), width + 2) - left) : 0;
  const tail = item.recordedAt !== undefined ? x(item.recordedAt) - x0 : 0;
  const className = `tl-item tl-${item.kind}${span ? ' tl-span' : ''}${flip ? ' tl-flip' : ''}${item.ongoing ? ' tl-ongoing' : ''}${tail ? ' tl-backfilled' : ''}${item.state ? ` tl-is-${item.state}` : ''}`;
  const label = describe(item, names);
  const content = (
    <>
      {span ? <span className="tl-bar" style={{ width: bar }} /> : <span className="tl-dot" />}
      {tail > 0 && <span className="tl-tail" style={{ width: tail }} />}
      <span className="tl-label" style={{ maxWidth: Math.max(textPx(item), bar - 8) }}>
        {item.label}
      </span>
      {tail > 0 && <span className="tl-late">back-filled</span>}
    </>
  );
  const common = {
    className,
    style: { left, top: lane * LANE_PX },
    'data-item-id': item.id,
    'data-start': iso(item.start),
    onMouseEnter: () => onHover(item),
    onMouseLeave: () => onHover(undefined),
    onFocus: () => onHover(item),
    onBlur: () => onHover(undefined),
  };
  if (!item.entryId) {
    return (
      <span {...common} role="img" aria-label={label} tabIndex={0}>
        {content}
      </span>
    );
  }
  return (
    <button type="button" {...common} aria-label={`${label}. Open the entry`} onClick={() => onOpen(item)}>
      {content}
    </button>
  );
}
