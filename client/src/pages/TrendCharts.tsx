/**
 * The trends page's charts (uPlot, loaded with this module only when the page is opened): incidents
 * per period stacked by severity, and for time to detect, mitigate and resolve the median and p90 per
 * period. Colors are the theme's, so the charts read like the rest of the page in dark and light.
 */
import { memo, useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Severity } from '../../../shared/model';
import type { TrendsAnswer } from '../../../shared/overview';
import { DurationSpans, type DurationName } from '../../../shared/schema/milestones';
import { useStore } from '../store';
import { theme } from '../theme';

const HEIGHT = 220;

function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

const SEVERITY_COLORS: Record<Severity, string> = { sev1: '--danger', sev2: '--warn', sev3: '--accent', sev4: '--muted' };

/** Minutes or hours, whichever reads better for the largest figure. */
function unitFor(maxMs: number): { div: number; name: string } {
  if (maxMs >= 3 * 3600_000) return { div: 3600_000, name: 'h' };
  if (maxMs >= 3 * 60_000) return { div: 60_000, name: 'min' };
  return { div: 1000, name: 's' };
}

function Chart({ label, build }: { label: string; build: (width: number) => { opts: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData } }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const { opts, data } = build(el.clientWidth);
    const plot = new uPlot({ ...opts, width: el.clientWidth, height: HEIGHT }, data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [build]);
  return <div ref={box} className="trend-chart" role="img" aria-label={label} />;
}

function xAxis(answer: TrendsAnswer) {
  const labels = answer.periods.map((p) => p.period);
  return {
    scale: { time: false, range: (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => [min - 0.6, max + 0.6] },
    axis: {
      incrs: [1, 2, 3, 4, 6, 8, 12, 26, 52],
      space: answer.by === 'week' ? 70 : 50,
      values: (_u: uPlot, splits: number[]) => splits.map((i) => (Number.isInteger(i) ? (labels[i] ?? '') : '')),
    },
  };
}

function TrendChartsView({ answer }: { answer: TrendsAnswer }) {
  const current = useStore(theme);
  const periods = answer.periods;
  const x = periods.map((_, i) => i);
  const axisStyle = () => ({ stroke: themeColor('--muted'), grid: { stroke: themeColor('--border'), width: 1 }, ticks: { stroke: themeColor('--border'), width: 1 } });
  const xa = xAxis(answer);
  const per = answer.by === 'week' ? 'week (from Monday, UTC)' : 'month (UTC)';

  const counts = (width: number) => {
    // Stacked bars: each series is the sum of its severity and those above it, drawn largest first.
    const severities = [...answer.severities].reverse();
    const raw = new Map(answer.severities.map((s) => [s, periods.map((p) => p.bySeverity[s]?.count ?? 0)]));
    const cumulative = severities.map((_, k) => periods.map((_p, i) => severities.slice(k).reduce((sum, s) => sum + raw.get(s)![i]!, 0)));
    const barWidth = Math.max(4, Math.min(40, ((width - 60) / Math.max(1, periods.length)) * 0.7));
    const bars = uPlot.paths.bars!({ size: [0.7, barWidth] });
    return {
      opts: {
        scales: { x: xa.scale, y: { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, Math.max(4, Math.ceil(max * 1.1))] } },
        axes: [{ ...axisStyle(), ...xa.axis }, { ...axisStyle(), label: 'incidents', labelSize: 20, size: 44, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }],
        series: [
          { label: answer.by, value: (_u: uPlot, i: number | null) => (i == null ? '' : (periods[i]?.period ?? '')) },
          ...severities.map((s) => ({
            label: s,
            stroke: themeColor(SEVERITY_COLORS[s]),
            fill: themeColor(SEVERITY_COLORS[s]),
            width: 0,
            paths: bars,
            points: { show: false },
            value: (u: uPlot, _v: number | null, _si: number, idx: number | null) => (idx == null ? '' : String(raw.get(s)![idx] ?? 0)),
          })),
        ],
        legend: { live: true },
      },
      data: [x, ...cumulative] as uPlot.AlignedData,
    };
  };

  const durationChart = (name: DurationName) => (_width: number) => {
    const median = periods.map((p) => p.all.durations[name].median);
    const p90 = periods.map((p) => p.all.durations[name].p90);
    const unit = unitFor(Math.max(0, ...p90.map((v) => v ?? 0)));
    const scaled = (values: Array<number | null>) => values.map((v) => (v === null ? null : v / unit.div));
    const fmt = (v: number | null) => (v == null ? '—' : `${v.toFixed(v < 10 ? 1 : 0)} ${unit.name}`);
    return {
      opts: {
        scales: { x: xa.scale, y: { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, Math.max(1, max * 1.15)] } },
        axes: [{ ...axisStyle(), ...xa.axis }, { ...axisStyle(), label: unit.name, labelSize: 20, size: 48 }],
        series: [
          { label: answer.by, value: (_u: uPlot, i: number | null) => (i == null ? '' : (periods[i]?.period ?? '')) },
          { label: 'median', stroke: themeColor('--accent'), width: 2, spanGaps: true, points: { show: true, size: 6 }, value: (_u: uPlot, v: number | null) => fmt(v) },
          { label: 'p90', stroke: themeColor('--danger'), width: 1.5, dash: [6, 4], spanGaps: true, points: { show: true, size: 5 }, value: (_u: uPlot, v: number | null) => fmt(v) },
        ],
      },
      data: [x, scaled(median), scaled(p90)] as uPlot.AlignedData,
    };
  };

  return (
    <div className="trend-charts" data-theme-drawn={current}>
      <figure className="card trend-figure" key={`count-${current}`}>
        <figcaption>Incidents per {per}, by severity</figcaption>
        <Chart label={`Incidents per ${answer.by}, by severity`} build={counts} />
      </figure>
      {(['timeToDetect', 'timeToMitigate', 'timeToResolve'] as const).map((name) => (
        <figure className="card trend-figure" key={`${name}-${current}`} data-duration={name}>
          <figcaption>
            {DurationSpans[name].label}: median and p90 per {answer.by}
          </figcaption>
          <Chart label={`${DurationSpans[name].label}, median and p90 per ${answer.by}`} build={durationChart(name)} />
        </figure>
      ))}
    </div>
  );
}

/** Drawn again only when the answer or the theme changes. */
export const TrendCharts = memo(TrendChartsView);
