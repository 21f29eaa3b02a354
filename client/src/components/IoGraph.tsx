/**
 * A capture's IO graph (uPlot): the rate over time at one bucket size, and the link's capacity.
 * Rates are in Mbit/s whatever the bucket, and the y axis stays put when the bucket changes, so
 * switching from 1 s to 1 ms shows the bursts the average hides reaching over the capacity line.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { IoView } from '../evidence/capture-analysis';
import { mbitPerSecond } from '../numbers';

interface Props {
  view: IoView;
  capacityMbps: number;
  /** Top of the y axis, the same for every view. */
  maxMbps: number;
  /** Called with a stretch dragged across the graph (seconds from the first packet). */
  onSelectRange?: (fromS: number, toS: number) => void;
}

const HEIGHT = 220;

/** The page's theme colors, so the graph reads like the rest of it in dark and light. */
function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function IoGraph({ view, capacityMbps, maxMbps, onSelectRange }: Props) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const offset = view.offsetMs ?? 0;
    const seconds = view.bytes.map((_, i) => (offset + i * view.bucketMs) / 1000);
    const rates = view.bytes.map((b) => mbitPerSecond(b, view.bucketMs));
    const capacity = seconds.map(() => capacityMbps);
    // Away from the cursor the legend still says something: the peak and the capacity, not blanks.
    const peak = rates.reduce((best, r, i) => (r > (rates[best] ?? -1) ? i : best), 0);
    const peakText = rates.length ? `peak ${rates[peak]!.toFixed(1)} Mbit/s at ${seconds[peak]!.toFixed(3)} s` : 'no traffic';
    const axis = { stroke: themeColor('--muted'), grid: { stroke: themeColor('--border'), width: 1 }, ticks: { stroke: themeColor('--border'), width: 1 } };
    const plot = new uPlot(
      {
        width: el.clientWidth,
        height: HEIGHT,
        scales: { x: { time: false }, y: { range: [0, maxMbps] } },
        axes: [
          { ...axis, label: 's from the first packet', labelSize: 20, size: 32 },
          { ...axis, label: 'Mbit/s', labelSize: 20, size: 56 },
        ],
        series: [
          { label: 's', value: (_u, v) => (v == null ? 'hover for values' : v.toFixed(3)) },
          { label: `per ${view.bucketMs >= 1000 ? `${view.bucketMs / 1000} s` : `${view.bucketMs} ms`}`, stroke: themeColor('--accent'), width: 1, fill: themeColor('--accent-soft'), value: (_u, v) => (v == null ? peakText : `${v.toFixed(1)} Mbit/s`) },
          { label: 'capacity', stroke: themeColor('--danger'), width: 1.5, dash: [6, 4], points: { show: false }, value: (_u, v) => `${(v ?? capacityMbps).toLocaleString('en')} Mbit/s` },
        ],
        cursor: { drag: { x: true, y: false } },
        hooks: {
          setSelect: [
            (u) => {
              if (!onSelectRange || u.select.width < 2) return;
              onSelectRange(u.posToVal(u.select.left, 'x'), u.posToVal(u.select.left + u.select.width, 'x'));
            },
          ],
        },
      },
      [seconds, rates, capacity],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [view, capacityMbps, maxMbps, onSelectRange]);

  return <div ref={box} className="io-graph" role="img" aria-label={`IO graph, ${view.bucketMs} ms buckets`} />;
}
