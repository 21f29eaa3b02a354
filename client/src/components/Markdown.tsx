import { useMemo } from 'react';
import { renderMarkdown } from '../markdown';

/** Markdown a responder wrote, sanitized (see markdown.ts) before it touches the page. */
export function Markdown({ text }: { text: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
