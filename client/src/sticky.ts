/** Heights of what sticks to the top of the page, as CSS variables, for what sticks below it (style.css). */
import { useEffect, useRef } from 'react';

/** Keeps `variable` (e.g. `--header-height`) on <html> equal to the element's height while it is on screen. */
export function useHeightAsCssVariable<T extends HTMLElement>(variable: string) {
  const element = useRef<T>(null);
  useEffect(() => {
    const root = document.documentElement.style;
    const observer = new ResizeObserver(([entry]) => root.setProperty(variable, `${entry!.borderBoxSize[0]!.blockSize}px`));
    observer.observe(element.current!);
    return () => {
      observer.disconnect();
      root.removeProperty(variable);
    };
  }, [variable]);
  return element;
}
