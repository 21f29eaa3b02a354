/** Text with the places a search found in it marked (`<mark>`), built as React elements: never HTML. */
import type { ReactNode } from 'react';
import type { Spans } from '../search/incident-search';

export function Highlighted({ text, spans }: { text: string; spans: Spans }) {
  if (spans.length === 0) return <>{text}</>;
  const parts: ReactNode[] = [];
  let at = 0;
  for (const [start, end] of spans) {
    if (start < at || end > text.length || end <= start) continue; // spans from elsewhere that do not fit this text
    if (start > at) parts.push(text.slice(at, start));
    parts.push(<mark key={start}>{text.slice(start, end)}</mark>);
    at = end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return <>{parts}</>;
}
