/**
 * What a file is, from its first bytes — never from its name or the MIME type the client claims
 * (OWASP File Upload cheat sheet). Raster images, packet captures (also gzip-compressed), text, other.
 */
import zlib from 'node:zlib';
import type { AttachmentKind } from '../../shared/attachments.js';

export interface Sniffed {
  kind: AttachmentKind;
  /** The type it is served with. */
  mime: string;
}

const CAPTURE_MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a];

function isCapture(head: Buffer): boolean {
  return head.length >= 4 && (CAPTURE_MAGICS.includes(head.readUInt32BE(0)));
}

function gunzipHead(head: Buffer): Buffer {
  try {
    return zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, 64);
  } catch {
    return Buffer.alloc(0);
  }
}

function isText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  // Valid UTF-8, allowing a character cut at the end of the sniffed window.
  const decoded = new TextDecoder('utf-8', { fatal: false }).decode(head);
  return !decoded.slice(0, -1).includes('\ufffd');
}

export function sniff(head: Buffer): Sniffed {
  const b = (i: number) => head[i] ?? -1;
  if (b(0) === 0x89 && head.subarray(1, 4).toString('latin1') === 'PNG') return { kind: 'image', mime: 'image/png' };
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return { kind: 'image', mime: 'image/jpeg' };
  if (head.subarray(0, 4).toString('latin1') === 'GIF8') return { kind: 'image', mime: 'image/gif' };
  if (head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP') return { kind: 'image', mime: 'image/webp' };
  if (isCapture(head)) return { kind: 'capture', mime: 'application/vnd.tcpdump.pcap' };
  if (b(0) === 0x1f && b(1) === 0x8b) {
    return isCapture(gunzipHead(head)) ? { kind: 'capture', mime: 'application/gzip' } : { kind: 'other', mime: 'application/gzip' };
  }
  // SVG and HTML are text here: served as downloads, never rendered.
  if (isText(head)) return { kind: 'text', mime: 'text/plain; charset=utf-8' };
  return { kind: 'other', mime: 'application/octet-stream' };
}

/**
 * Control characters, line and paragraph separators, and bidi controls: with U+202E (right-to-left
 * override) "evil\u202Egnp.exe" shows as "evilexe.png". Right-to-left letters and joiners stay.
 */
const UNSAFE_CHARS = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** A file name safe to store and to offer back: no directories, control or bidi characters, or odd length. */
export function safeFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(UNSAFE_CHARS, '').replace(/^\.+/, '').trim();
  const limited = [...clean].slice(0, 200).join('');
  return limited || 'file';
}
