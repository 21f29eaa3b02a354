/**
 * Where things go on the timeline: time ↔ x on one UTC axis, zooming and panning within the
 * incident, ticks at round UTC times, and lanes so that labels never overlap. Pure functions, so
 * they run again on every wheel step and are tested without a browser. Times are ms since the epoch.
 */

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** The stretch of time across the plot's width. */
export interface View {
  start: number;
  end: number;
}

/** Zooming in stops at a couple of seconds across the whole width: enough to tell tests apart. */
export const MIN_SPAN_MS = 2 * SECOND;

export const spanOf = (view: View): number => view.end - view.start;
export const toX = (view: View, width: number, t: number): number => ((t - view.start) / spanOf(view)) * width;
export const toTime = (view: View, width: number, x: number): number => view.start + (x / width) * spanOf(view);

/** From the first thing to the last, with a margin so neither sits on the edge; a minute at least. */
export function wholeView(first: number, last: number): View {
  const span = Math.max(last - first, MINUTE);
  const middle = (first + last) / 2;
  const half = (span * 1.06) / 2;
  return { start: middle - half, end: middle + half };
}

/** Keeps a view inside `bounds` and no narrower than MIN_SPAN_MS, moving rather than shrinking it. */
export function clampView(view: View, bounds: View): View {
  const span = Math.min(Math.max(spanOf(view), MIN_SPAN_MS), spanOf(bounds));
  const start = Math.min(Math.max(view.start, bounds.start), bounds.end - span);
  return { start, end: start + span };
}

/** Zooms by `factor` (below 1 zooms in), keeping the moment `anchor` where it is on screen. */
export function zoomView(view: View, factor: number, anchor: number, bounds: View): View {
  const span = Math.max(spanOf(view) * factor, MIN_SPAN_MS);
  const before = ((anchor - view.start) / spanOf(view)) * span;
  return clampView({ start: anchor - before, end: anchor - before + span }, bounds);
}

export const panView = (view: View, byMs: number, bounds: View): View => clampView({ start: view.start + byMs, end: view.end + byMs }, bounds);

/** A view `span` wide with `t` in the middle (as near as the bounds allow). */
export const centreOn = (t: number, span: number, bounds: View): View => clampView({ start: t - span / 2, end: t + span / 2 }, bounds);

const TICK_STEPS = [
  100, 200, 500,
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY,
];

export interface Ticks {
  step: number;
  times: number[];
}

/**
 * The roundest UTC step that leaves at least `minGapPx` between ticks, and the ticks in view.
 * Epoch milliseconds are UTC, so multiples of a step are round UTC times (midnight for a day).
 */
export function chooseTicks(view: View, width: number, minGapPx = 90): Ticks {
  const msPerPx = spanOf(view) / width;
  const step = TICK_STEPS.find((s) => s / msPerPx >= minGapPx) ?? TICK_STEPS[TICK_STEPS.length - 1]!;
  const times: number[] = [];
  for (let t = Math.ceil(view.start / step) * step; t <= view.end; t += step) times.push(t);
  return { step, times };
}

/** A tick's label, UTC, only as precise as it needs: `06:15`, `06:15:30`, `06:15:30.500`; the date at midnight. */
export function tickLabel(t: number, step: number): string {
  const iso = new Date(t).toISOString();
  if (step >= DAY || t % DAY === 0) return iso.slice(0, 10);
  if (t % SECOND !== 0) return iso.slice(11, 23);
  if (step < MINUTE) return iso.slice(11, 19);
  return iso.slice(11, 16);
}

/** What an item covers on screen, px: its mark and its label, or its bar when that is longer. */
export interface Footprint {
  x0: number;
  x1: number;
}

/** The crowded: items that fit in no lane, drawn as a count rather than a label. */
export const CROWDED = -1;

/**
 * Puts each item (sorted by x0) in the first lane where it clears the last item by `gap` px, up to
 * `maxLanes`; the rest are CROWDED. Depends only on the scale, not the scroll, so panning keeps
 * every item in its lane.
 */
export function packLanes(footprints: readonly Footprint[], maxLanes: number, gap = 6): number[] {
  const laneEnds: number[] = [];
  return footprints.map(({ x0, x1 }) => {
    let lane = laneEnds.findIndex((end) => end + gap <= x0);
    if (lane < 0 && laneEnds.length < maxLanes) lane = laneEnds.length;
    if (lane < 0) return CROWDED;
    laneEnds[lane] = x1;
    return lane;
  });
}

export const lanesUsed = (lanes: readonly number[]): number => lanes.reduce((most, lane) => Math.max(most, lane + 1), 0);

export interface Cluster {
  /** Left edge of its bin, px. */
  x: number;
  count: number;
  /** First and last moment in it, to zoom into. */
  first: number;
  last: number;
}

/** Crowded items (sorted by x) gathered per `binPx` of screen: one mark with a count per bin. */
export function clusterByPixels(points: ReadonlyArray<{ x: number; t: number }>, binPx: number): Cluster[] {
  const clusters: Cluster[] = [];
  for (const { x, t } of points) {
    const binX = Math.floor(x / binPx) * binPx;
    const last = clusters[clusters.length - 1];
    if (last && last.x === binX) {
      last.count++;
      last.first = Math.min(last.first, t);
      last.last = Math.max(last.last, t);
    } else {
      clusters.push({ x: binX, count: 1, first: t, last: t });
    }
  }
  return clusters;
}
