/**
 * A long list in the page's own scroll that renders only the rows near the screen, so an incident
 * with thousands of entries opens as fast as one with ten. Rows differ in height (an entry may hold
 * a long paste): each is measured once rendered and estimated until then. The rows above and below
 * the rendered ones are stood in for by padding, so the scrollbar tells how long the log is.
 */
import { useEffect, useImperativeHandle, useLayoutEffect, useMemo, useRef, useState, type ReactNode, type Ref } from 'react';

export interface VirtualListHandle {
  /** Scrolls the page so the row is on screen, rendered or not. */
  scrollTo(key: string, block?: ScrollLogicalPosition): void;
}

interface Props<T> {
  items: readonly T[];
  keyOf: (item: T) => string;
  render: (item: T) => ReactNode;
  /** Height of a row not yet measured (px). */
  estimate: number;
  handle?: Ref<VirtualListHandle>;
  /** Rendered beyond the screen on each side (px), so a quick scroll does not show blanks. */
  overscan?: number;
}

/** The first index whose row ends below `y`. */
function firstEndingBelow(offsets: Float64Array, y: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid + 1]! > y) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function VirtualList<T>({ items, keyOf, render, estimate, handle, overscan = 800 }: Props<T>) {
  const container = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [measured, setMeasured] = useState(0);
  const [view, setView] = useState({ top: 0, bottom: window.innerHeight });

  const offsets = useMemo(() => {
    const out = new Float64Array(items.length + 1);
    items.forEach((item, i) => (out[i + 1] = out[i]! + (heights.current.get(keyOf(item)) ?? estimate)));
    return out;
    // `measured` changes when a row's height does (kept in a ref so measuring does not render).
  }, [items, keyOf, estimate, measured]);

  // Where the screen is, in the list's own coordinates: on scroll, on resize, and when the list changes.
  const locate = useRef(() => {});
  locate.current = () => {
    const rect = container.current?.getBoundingClientRect();
    if (!rect) return;
    setView((prev) => (prev.top === -rect.top && prev.bottom === window.innerHeight - rect.top ? prev : { top: -rect.top, bottom: window.innerHeight - rect.top }));
  };
  useLayoutEffect(() => locate.current(), [offsets]);
  useEffect(() => {
    let frame = 0;
    const onScroll = () => {
      frame ||= requestAnimationFrame(() => {
        frame = 0;
        locate.current();
      });
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('resize', onScroll);
    };
  }, []);

  const observer = useMemo(
    () =>
      new ResizeObserver((changes) => {
        let changed = false;
        for (const change of changes) {
          const key = (change.target as HTMLElement).dataset.key!;
          const height = change.borderBoxSize[0]?.blockSize ?? (change.target as HTMLElement).offsetHeight;
          if (height > 0 && heights.current.get(key) !== height) {
            heights.current.set(key, height);
            changed = true;
          }
        }
        if (changed) setMeasured((n) => n + 1);
      }),
    [],
  );
  useEffect(() => () => observer.disconnect(), [observer]);

  useImperativeHandle(handle, () => ({
    scrollTo(key, block = 'center') {
      const index = items.findIndex((item) => keyOf(item) === key);
      const list = container.current;
      if (index < 0 || !list) return;
      const row = list.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
      if (row) return row.scrollIntoView({ block });
      // Not rendered: go to where it is estimated to be; once it renders, put it where asked.
      const top = list.getBoundingClientRect().top + window.scrollY + offsets[index]!;
      window.scrollTo({ top: Math.max(0, top - window.innerHeight / 3) });
      requestAnimationFrame(() => requestAnimationFrame(() => list.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.scrollIntoView({ block })));
    },
  }));

  const start = items.length === 0 ? 0 : firstEndingBelow(offsets, view.top - overscan);
  const end = items.length === 0 ? 0 : Math.min(items.length, firstEndingBelow(offsets, view.bottom + overscan) + 1);
  const total = offsets[items.length]!;
  return (
    <div ref={container} className="virtual-list" style={{ paddingTop: offsets[start], paddingBottom: total - offsets[end]! }}>
      {items.slice(start, end).map((item) => {
        const key = keyOf(item);
        return (
          <div
            key={key}
            data-key={key}
            className="virtual-row"
            ref={(el) => {
              if (!el) return;
              observer.observe(el);
              return () => observer.unobserve(el);
            }}
          >
            {render(item)}
          </div>
        );
      })}
    </div>
  );
}
