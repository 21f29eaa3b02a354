/**
 * The report as one self-contained HTML file: Markdown rendered by marked and sanitized (marked does
 * not sanitize), images inlined as data: URIs streamed from storage part by part (memory stays flat
 * however many screenshots), capture IO graphs drawn as SVG, no script at all, and a print stylesheet
 * so the browser's Print to PDF gives a clean report.
 */
import type { Writable } from 'node:stream';
import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';
import type { Blobs } from '../storage/blobs.js';
import { markdownParts } from './markdown.js';
import type { Report, ReportAttachment } from './report.js';

const marked = new Marked({ gfm: true, async: false });
/** Placeholder scheme for an image to inline, replaced while streaming. */
const INLINE = 'bridgelog-inline:';

const sanitize = (html: string) =>
  sanitizeHtml(html, {
    allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img'],
    allowedAttributes: { a: ['href', 'title'], img: ['src', 'alt', 'title'], code: ['class'], th: ['align'], td: ['align'] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['bridgelog-inline'] },
    allowProtocolRelative: false,
    // A self-contained file loads nothing: only images we inline survive.
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src?.startsWith(INLINE),
  });

const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --accent: #0969da; }
body { overflow-wrap: anywhere; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); max-width: 980px; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.8rem; margin-bottom: .5rem; } h2 { border-bottom: 1px solid var(--line); padding-bottom: .3rem; margin-top: 2.2rem; }
h3 { margin-top: 1.8rem; font-size: 1.1rem; }
table { border-collapse: collapse; width: 100%; margin: .75rem 0; font-size: .92rem; }
th, td { border: 1px solid var(--line); padding: .35rem .55rem; text-align: left; vertical-align: top; }
code, pre { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: .88rem; }
pre { background: #f6f8fa; padding: .7rem .9rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
img { max-width: 100%; border: 1px solid var(--line); border-radius: 4px; }
a { color: var(--accent); } em { color: var(--muted); }
svg.io { width: 100%; height: 160px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  thead { display: table-header-group; }
  h2 { break-after: avoid; } h3 { break-after: avoid; } pre, img, svg, tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}`;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The 1 ms IO graph as SVG: max per pixel column so a 1 ms burst is never averaged away. */
export function ioGraphSvg(a: ReportAttachment): string {
  const c = a.capture;
  if (!c || c.ioGraph1ms.length === 0) return '';
  const width = 1000;
  const height = 160;
  const columns = Math.min(width, c.ioGraph1ms.length);
  const per = c.ioGraph1ms.length / columns;
  const mbit = (bytes: number) => (bytes * 8) / 1e3;
  const peaks = Array.from({ length: columns }, (_, i) => {
    let max = 0;
    for (let j = Math.floor(i * per); j < Math.floor((i + 1) * per); j++) max = Math.max(max, c.ioGraph1ms[j]!);
    return mbit(max);
  });
  const top = Math.max(c.capacityMbit * 1.2, ...peaks) || 1;
  const y = (v: number) => (height - (v / top) * (height - 10)).toFixed(1);
  const points = peaks.map((v, i) => `${((i / Math.max(1, columns - 1)) * width).toFixed(1)},${y(v)}`).join(' ');
  return (
    `<figure><svg class="io" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="1 ms IO graph of ${escape(a.name)}">` +
    `<polyline fill="none" stroke="#0969da" stroke-width="1" points="${points}"/>` +
    `<line x1="0" x2="${width}" y1="${y(c.capacityMbit)}" y2="${y(c.capacityMbit)}" stroke="#cf222e" stroke-dasharray="6 4"/>` +
    `</svg><figcaption><em>${escape(a.name)}: 1 ms IO graph (peak per column), red line = ${c.capacityMbit.toFixed(0)} Mbit/s capacity; ` +
    `${c.msOverCapacity} ms over capacity, peak ${c.peakMbitPerMs.toFixed(0)} Mbit/s</em></figcaption></figure>`
  );
}

/**
 * Bytes as base64 however the stream splits them: whole 3-byte groups are encoded as they come and
 * the rest carried to the next chunk, so the pieces join into one valid encoding.
 */
async function* base64Of(bytes: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of bytes) {
    const all = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const whole = all.length - (all.length % 3);
    yield all.subarray(0, whole).toString('base64');
    carry = all.subarray(whole);
  }
  if (carry.length > 0) yield carry.toString('base64');
}

/** Writes the report to `out`, waiting for the stream to drain between parts. */
export async function writeHtml(r: Report, out: Writable, blobs: Blobs): Promise<void> {
  const write = (s: string | Buffer) => (out.write(s) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve)));
  await write(`<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">` +
    `<title>${escape(r.incident.title)} — incident report</title><style>${STYLE}</style></head><body>\n`);
  const byId = new Map(r.attachments.map((a) => [a.id, a]));
  for (const part of markdownParts(r, { attachmentHref: (a) => `${INLINE}${a.id}` })) {
    const html = sanitize(marked.parse(part.markdown) as string);
    // Stream each inlined image's bytes from disk in place of its placeholder.
    const pieces = html.split(new RegExp(`src="${INLINE}([a-z0-9]+)"`));
    for (let i = 0; i < pieces.length; i++) {
      if (i % 2 === 0) {
        await write(pieces[i]!);
        continue;
      }
      const a = byId.get(pieces[i]!);
      if (!a) continue;
      await write(`src="data:${a.mime};base64,`);
      for await (const text of base64Of(blobs.read(a.sha256))) await write(text);
      await write('"');
    }
    for (const a of part.entry?.attachments ?? []) if (a.capture) await write(ioGraphSvg(a));
  }
  await write('</body></html>\n');
}
