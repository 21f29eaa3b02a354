/**
 * A streaming reader of packet captures: pcap (µs and ns magic, both byte orders) and pcapng
 * (sections in either byte order, several interfaces, `if_tsresol`, `if_tsoffset`, enhanced, simple
 * and obsolete packet blocks; unknown blocks skipped). Feed it chunks as they are read; it calls back
 * once per packet and keeps only the bytes of a record cut by a chunk boundary, so memory stays flat.
 *
 * No maintained npm parser exists (the pcap parsers on npm are abandoned); this one is checked
 * packet by packet against tshark in the tests.
 */

export interface Packet {
  /** Interface link type (LINKTYPE_*: 1 Ethernet, 101 raw IP, 113 Linux cooked, …). */
  linkType: number;
  /** Timestamp, seconds since the epoch (UTC) and nanoseconds within that second. */
  sec: number;
  nsec: number;
  /** Bytes captured (may be cut to the snap length) and the frame's original length on the wire. */
  capturedLength: number;
  originalLength: number;
  /** The captured bytes are data[offset, offset + capturedLength). Valid only during the callback. */
  data: Buffer;
  offset: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export class CaptureFormatError extends Error {}

interface Interface {
  linkType: number;
  /** Timestamp units per second: 10^n or 2^n. */
  unitsPerSecond: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  offsetSec: number;
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const BLOCK_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Larger than any sane record: a length beyond it means the file is corrupt, not a huge packet. */
const MAX_RECORD = 256 * 1024 * 1024;
/** Bytes of a new chunk joined with the record the previous one cut (more if that record is longer). */
const JOIN_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Splits a 64-bit count of `unitsPerSecond` units into whole seconds and nanoseconds exactly, by
 * long division in 16-bit digits (a float64 cannot hold nanoseconds since 1970 exactly).
 */
export function splitTimestamp(high: number, low: number, unitsPerSecond: number): { sec: number; nsec: number } {
  const digits = [high >>> 16, high & 0xffff, low >>> 16, low & 0xffff];
  let sec = 0;
  let rem = 0;
  for (const d of digits) {
    const cur = rem * 65536 + d;
    const q = Math.floor(cur / unitsPerSecond);
    rem = cur - q * unitsPerSecond;
    sec = sec * 65536 + q;
  }
  const nsec = unitsPerSecond === 1e9 ? rem : Math.floor((rem * 1e9) / unitsPerSecond);
  return { sec, nsec };
}

export class CaptureParser {
  format: CaptureFormat | undefined;
  /** Things a reader of the result should know (a truncated file, skipped blocks, …). */
  readonly warnings: string[] = [];
  /** Link types of the file's interfaces, in order of appearance. */
  readonly linkTypes: number[] = [];
  private pending: Buffer = EMPTY;
  private little = true;
  private pcapNanos = false;
  private pcapLinkType = 0;
  private interfaces: Interface[] = [];
  private skippedBlocks = 0;
  private packet: Packet = { linkType: 0, sec: 0, nsec: 0, capturedLength: 0, originalLength: 0, data: Buffer.alloc(0), offset: 0 };
  private started = false;
  private done = false;

  constructor(private readonly onPacket: (p: Packet) => void) {}

  /**
   * Parses what it can of `chunk` (plus what was left over); keeps the rest for the next call. A record
   * cut by the previous chunk's end is joined with only the start of this chunk, never the whole of it:
   * copying every 4 MiB chunk left a trail of garbage buffers the collector reclaims too late, and it
   * was most of the analysis' resident memory.
   */
  push(chunk: Buffer): void {
    if (this.done) return;
    let from = 0;
    if (this.pending.length) {
      const joined = Buffer.concat([this.pending, chunk.subarray(0, Math.max(JOIN_BYTES, this.pendingRecordLength() - this.pending.length))]);
      const used = this.parse(joined);
      if (used < this.pending.length) {
        this.pending = Buffer.concat([this.pending, chunk]);
        return;
      }
      from = used - this.pending.length;
    }
    const rest = chunk.subarray(from);
    const used = this.done ? rest.length : this.parse(rest);
    // Keep the incomplete tail (copied: the caller may reuse its chunk buffer).
    this.pending = used < rest.length ? Buffer.from(rest.subarray(used)) : EMPTY;
  }

  /** The file header if not read yet, then records; returns the bytes consumed (all of them at corruption). */
  private parse(buf: Buffer): number {
    let pos = 0;
    if (!this.started) {
      if (buf.length < 24) return 0;
      pos = this.readFileHeader(buf);
      this.started = true;
    }
    return this.format === 'pcap' ? this.readPcapRecords(buf, pos) : this.readBlocks(buf, pos);
  }

  /** How long the record the pending bytes start is, as far as they tell (at least its header). */
  private pendingRecordLength(): number {
    const p = this.pending;
    if (!this.started) return 24;
    if (this.format === 'pcap') return p.length >= 12 ? 16 + this.u32(p, 8) : 16;
    // A section header block sets the byte order its own length is written in: parse() reads it.
    return p.length >= 8 && p.readUInt32LE(0) !== BLOCK_SHB ? this.u32(p, 4) : 12;
  }

  /** The input ended: anything left over is a truncated record. */
  end(): void {
    if (!this.started) throw new CaptureFormatError(this.pending.length === 0 ? 'the file is empty' : 'the file is too short to be a capture');
    if (this.pending.length > 0) {
      this.warnings.push(`the capture is truncated: its last ${this.pending.length} bytes are an incomplete record, ignored`);
    }
    if (this.skippedBlocks > 0) this.warnings.push(`${this.skippedBlocks} pcapng blocks of unknown or unused types were skipped`);
    this.done = true;
  }

  private readFileHeader(buf: Buffer): number {
    const le = buf.readUInt32LE(0);
    const be = buf.readUInt32BE(0);
    if (le === PCAP_US || le === PCAP_NS || be === PCAP_US || be === PCAP_NS) {
      this.format = 'pcap';
      this.little = le === PCAP_US || le === PCAP_NS;
      const magic = this.little ? le : be;
      this.pcapNanos = magic === PCAP_NS;
      this.pcapLinkType = (this.little ? buf.readUInt32LE(20) : buf.readUInt32BE(20)) & 0x0fffffff;
      this.linkTypes.push(this.pcapLinkType);
      return 24;
    }
    if (le === BLOCK_SHB) {
      this.format = 'pcapng';
      return 0;
    }
    throw new CaptureFormatError('not a pcap or pcapng capture (unknown magic number)');
  }

  private u32(buf: Buffer, at: number): number {
    return this.little ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
  }

  private u16(buf: Buffer, at: number): number {
    return this.little ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  }

  private readPcapRecords(buf: Buffer, pos: number): number {
    const p = this.packet;
    p.linkType = this.pcapLinkType;
    p.data = buf;
    while (buf.length - pos >= 16) {
      const captured = this.u32(buf, pos + 8);
      if (captured > MAX_RECORD) return this.corrupt(buf, `a record claims ${captured} captured bytes`);
      if (buf.length - pos - 16 < captured) break;
      p.sec = this.u32(buf, pos);
      const frac = this.u32(buf, pos + 4);
      p.nsec = this.pcapNanos ? frac : frac * 1000;
      p.capturedLength = captured;
      p.originalLength = this.u32(buf, pos + 12);
      p.offset = pos + 16;
      this.onPacket(p);
      pos += 16 + captured;
    }
    return pos;
  }

  private readBlocks(buf: Buffer, pos: number): number {
    while (buf.length - pos >= 12) {
      const type = buf.readUInt32LE(pos); // the SHB type reads the same in both orders
      if (type === BLOCK_SHB) {
        const magic = buf.readUInt32LE(pos + 8);
        if (magic === BYTE_ORDER_MAGIC) this.little = true;
        else if (magic === 0x4d3c2b1a) this.little = false;
        else return this.corrupt(buf, 'a section header with an unknown byte-order magic');
        this.interfaces = [];
      }
      const length = this.u32(buf, pos + 4);
      if (length < 12 || length % 4 !== 0 || length > MAX_RECORD) return this.corrupt(buf, `a block with an impossible length ${length}`);
      if (buf.length - pos < length) break;
      if (this.u32(buf, pos + length - 4) !== length) return this.corrupt(buf, 'a block whose trailing length does not match');
      this.readBlock(buf, pos, this.u32(buf, pos), length);
      pos += length;
    }
    return pos;
  }

  private readBlock(buf: Buffer, pos: number, type: number, length: number): void {
    switch (type) {
      case BLOCK_SHB:
        return;
      case 1: // interface description
        return this.readInterface(buf, pos, length);
      case 6: { // enhanced packet
        const iface = this.interfaces[this.u32(buf, pos + 8)];
        if (!iface) return void this.warnings.push('a packet names an interface that was never described; skipped');
        return this.emit(buf, iface, this.u32(buf, pos + 12), this.u32(buf, pos + 16), this.u32(buf, pos + 20), this.u32(buf, pos + 24), pos + 28, length - 32);
      }
      case 2: { // obsolete packet block
        const iface = this.interfaces[this.u16(buf, pos + 8)];
        if (!iface) return;
        return this.emit(buf, iface, this.u32(buf, pos + 12), this.u32(buf, pos + 16), this.u32(buf, pos + 20), this.u32(buf, pos + 24), pos + 28, length - 32);
      }
      case 3: { // simple packet: no timestamp
        const iface = this.interfaces[0];
        if (!iface) return;
        const original = this.u32(buf, pos + 8);
        const captured = Math.min(original, length - 16);
        if (!this.warnings.includes('simple packet blocks carry no timestamp; they count, but not in the IO graph')) {
          this.warnings.push('simple packet blocks carry no timestamp; they count, but not in the IO graph');
        }
        const p = this.packet;
        Object.assign(p, { linkType: iface.linkType, sec: -1, nsec: 0, capturedLength: captured, originalLength: original, data: buf, offset: pos + 12 });
        return this.onPacket(p);
      }
      default:
        this.skippedBlocks++;
    }
  }

  private emit(buf: Buffer, iface: Interface, high: number, low: number, captured: number, original: number, dataAt: number, room: number): void {
    if (captured > room) return void this.warnings.push(`a packet claims ${captured} captured bytes in a ${room}-byte block; skipped`);
    const { sec, nsec } = splitTimestamp(high, low, iface.unitsPerSecond);
    const p = this.packet;
    p.linkType = iface.linkType;
    p.sec = sec + iface.offsetSec;
    p.nsec = nsec;
    p.capturedLength = captured;
    p.originalLength = original;
    p.data = buf;
    p.offset = dataAt;
    this.onPacket(p);
  }

  private readInterface(buf: Buffer, pos: number, length: number): void {
    const iface: Interface = { linkType: this.u16(buf, pos + 8), unitsPerSecond: 1e6, offsetSec: 0 };
    let at = pos + 16;
    const end = pos + length - 4;
    while (at + 4 <= end) {
      const code = this.u16(buf, at);
      const len = this.u16(buf, at + 2);
      if (code === 0 || at + 4 + len > end) break;
      if (code === 9 && len >= 1) {
        const v = buf[at + 4]!;
        iface.unitsPerSecond = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
      } else if (code === 14 && len >= 8) {
        const high = this.u32(buf, at + (this.little ? 8 : 4));
        const low = this.u32(buf, at + (this.little ? 4 : 8));
        iface.offsetSec = high * 2 ** 32 + low;
      }
      at += 4 + Math.ceil(len / 4) * 4;
    }
    this.interfaces.push(iface);
    this.linkTypes.push(iface.linkType);
  }

  /** Stops at corruption: what was read stands, the rest is reported and ignored. */
  private corrupt(buf: Buffer, what: string): number {
    this.warnings.push(`the capture is corrupt (${what}); analysis stops there`);
    this.done = true;
    return buf.length;
  }
}
