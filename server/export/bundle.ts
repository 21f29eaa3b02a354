/**
 * The zip bundle: report.md, report.html, incident.json and every attachment under its cleaned
 * original name, streamed from disk into the response (gigabytes of captures never sit in memory).
 */
import { PassThrough, type Writable } from 'node:stream';
import path from 'node:path';
import yazl from 'yazl';
import type { Blobs } from '../storage/blobs.js';
import { writeHtml } from './html.js';
import { toMarkdown } from './markdown.js';
import type { Report, ReportAttachment } from './report.js';

/** Unique names within the bundle: "capture.pcap", "capture (2).pcap", … */
export function bundleNames(attachments: ReportAttachment[]): Map<string, string> {
  const used = new Set<string>();
  const names = new Map<string, string>();
  for (const a of attachments) {
    const ext = path.extname(a.name);
    const stem = a.name.slice(0, a.name.length - ext.length);
    let name = a.name;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${stem} (${n})${ext}`;
    used.add(name.toLowerCase());
    names.set(a.id, name);
  }
  return names;
}

export function writeBundle(r: Report, out: Writable, blobs: Blobs): Promise<void> {
  const zip = new yazl.ZipFile();
  const names = bundleNames(r.attachments);
  const mtime = new Date(r.asOf);
  zip.addBuffer(Buffer.from(toMarkdown(r, { attachmentHref: (a) => `attachments/${encodeURIComponent(names.get(a.id)!)}` })), 'report.md', { mtime });
  const html = new PassThrough();
  zip.addReadStream(html, 'report.html', { mtime });
  zip.addBuffer(Buffer.from(JSON.stringify(r, null, 2)), 'incident.json', { mtime });
  for (const a of r.attachments) {
    if (a.missing) continue;
    // Opened when the zip gets to it, not all at once; owner-only when unzipped, like the stored file.
    zip.addReadStreamLazy(`attachments/${names.get(a.id)}`, { mtime, mode: 0o100600, size: a.size, compress: a.kind !== 'image' }, (opened) => {
      const bytes = blobs.read(a.sha256);
      bytes.on('error', (err) => (zip.outputStream as PassThrough).destroy(err));
      opened(null, bytes);
    });
  }
  zip.end();
  const htmlDone = writeHtml(r, html, blobs).then(() => void html.end());
  return new Promise<void>((resolve, reject) => {
    zip.outputStream.on('error', reject);
    zip.outputStream.pipe(out).on('finish', () => htmlDone.then(resolve, reject));
  });
}
