/**
 * Markdown in entries, rendered for reading. marked does not sanitize, so its output always goes
 * through DOMPurify with the HTML profile only (no SVG or MathML, where many payloads hide), and
 * without the tags and attributes a log never needs (forms, frames, inline styles, media that
 * plays or moves: screenshots and captures come as attachments). Links open in a new tab and tell
 * nothing about the page they came from.
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const marked = new Marked({ gfm: true, breaks: true, async: false });

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'option', 'iframe', 'object', 'embed', 'dialog', 'marquee', 'video', 'audio', 'source', 'track'],
  FORBID_ATTR: ['style', 'srcset', 'action', 'formaction'],
};

// Rows of a long log mount and unmount as they scroll by: keep recent renderings.
const CACHE_SIZE = 500;
const cache = new Map<string, string>();

export function renderMarkdown(text: string): string {
  const hit = cache.get(text);
  if (hit !== undefined) {
    cache.delete(text);
    cache.set(text, hit);
    return hit;
  }
  const html = DOMPurify.sanitize(marked.parse(text) as string, PURIFY);
  cache.set(text, html);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return html;
}
