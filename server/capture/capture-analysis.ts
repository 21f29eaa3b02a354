/**
 * Analysis of a capture file, streamed with flat memory: packet and byte counts (original lengths),
 * first/last packet times, link types, the IO graph at 1 ms (buckets from the first packet, as
 * Wireshark's IO graph) and coarser views derived from it, the 1 ms buckets over the link's capacity,
 * top conversations and the protocol mix. gzip-compressed captures are read through, bounded.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { CaptureParser, type Packet } from './capture-parser.js';
import { IoSeries, type Bursts } from './io-series.js';
import { conversationOf, decodePacket, linkTypeName, type Protocol } from './packet-decoder.js';

export interface AnalysisOptions {
  /** Link capacity, bytes per millisecond (default 1 Gbit/s = 125,000). */
  capacityBytesPerMs?: number;
  /** Called now and then with the bytes read so far (of the file as stored). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Longest IO graph kept at 1 ms, in buckets (default 1 hour). */
  maxBuckets?: number;
  /** Most bytes a gzip capture may expand to (default 100× the file + 256 MiB): the bomb bound. */
  maxDecompressedBytes?: number;
}

/**
 * What an analysis found, the 1 ms IO graph aside (it is `IoSeries`, kept in its own file): the
 * analysis answer of the API is this with `ioGraph` filled in (capture-analyses.ts).
 */
export interface CaptureSummary {
  status: 'done';
  format: 'pcap' | 'pcapng';
  compressed: boolean;
  packets: number;
  /** Sum of the frames' original lengths. */
  bytes: number;
  capturedBytes: number;
  firstPacketAt: string | null;
  lastPacketAt: string | null;
  /** The same times exactly, as decimal seconds with 9 digits (as tshark's frame.time_epoch). */
  firstPacketEpoch: string | null;
  lastPacketEpoch: string | null;
  durationMs: number;
  linkTypes: Array<{ linkType: number; name: string }>;
  averageBitsPerSecond: number;
  /** The 1 ms IO graph's size and peak; its buckets are in the series. */
  ioGraph: { bucketMs: 1; buckets: number; peakBytes: number };
  bursts: Bursts;
  conversations: Array<{ conversation: string; packets: number; bytes: number }>;
  protocols: Array<{ protocol: Protocol; packets: number; bytes: number }>;
  warnings: string[];
}

export interface AnalyzedCapture {
  summary: CaptureSummary;
  series: IoSeries;
}

const CHUNK = 4 * 1024 * 1024;
/** A gzip capture may expand this much (plus a floor): beyond it is a bomb, not a capture. */
const MAX_GZIP_RATIO = 100;
const GZIP_FLOOR = 256 * 1024 * 1024;
/** Flows (one direction of a conversation each) counted; a capture with more ranks only the first ones. */
const MAX_FLOWS = 100_000;

const epoch = (sec: number, nsec: number) => `${sec}.${String(nsec).padStart(9, '0')}`;
const isoOf = (sec: number, nsec: number) => new Date(sec * 1000 + Math.floor(nsec / 1e6)).toISOString();

class Accumulator {
  packets = 0;
  bytes = 0;
  capturedBytes = 0;
  first: { sec: number; nsec: number } | undefined;
  min = { sec: Infinity, nsec: 0 };
  max = { sec: -Infinity, nsec: 0 };
  readonly series = new IoSeries();
  beyond = 0;
  early = 0;
  flows = new Map<string, { packets: number; bytes: number }>();
  flowsFull = false;
  protocols = new Map<Protocol, { packets: number; bytes: number }>();

  constructor(readonly maxBuckets: number) {}

  add = (p: Packet): void => {
    this.packets++;
    this.bytes += p.originalLength;
    this.capturedBytes += p.capturedLength;
    if (p.sec >= 0) this.time(p);
    const { protocol, flow } = decodePacket(p);
    const proto = this.protocols.get(protocol);
    if (proto) {
      proto.packets++;
      proto.bytes += p.originalLength;
    } else this.protocols.set(protocol, { packets: 1, bytes: p.originalLength });
    if (flow) {
      const f = this.flows.get(flow);
      if (f) {
        f.packets++;
        f.bytes += p.originalLength;
      } else if (this.flows.size < MAX_FLOWS) this.flows.set(flow, { packets: 1, bytes: p.originalLength });
      else this.flowsFull = true;
    }
  };

  private time(p: Packet): void {
    if (p.sec < this.min.sec || (p.sec === this.min.sec && p.nsec < this.min.nsec)) this.min = { sec: p.sec, nsec: p.nsec };
    if (p.sec > this.max.sec || (p.sec === this.max.sec && p.nsec > this.max.nsec)) this.max = { sec: p.sec, nsec: p.nsec };
    this.first ??= { sec: p.sec, nsec: p.nsec };
    const relNs = (p.sec - this.first.sec) * 1e9 + (p.nsec - this.first.nsec);
    if (relNs < 0) {
      this.early++;
      return;
    }
    const bucket = Math.floor(relNs / 1e6);
    if (bucket >= this.maxBuckets) {
      this.beyond++;
      return;
    }
    this.series.add(bucket, p.originalLength);
  }
}

/** Both directions of each flow added up, under the conversation's name. */
function conversations(flows: Map<string, { packets: number; bytes: number }>): Map<string, { packets: number; bytes: number }> {
  const named = new Map<string, { packets: number; bytes: number }>();
  for (const [flow, f] of flows) {
    const name = conversationOf(flow);
    const c = named.get(name);
    if (c) {
      c.packets += f.packets;
      c.bytes += f.bytes;
    } else named.set(name, { ...f });
  }
  return named;
}

/** Analyzes the capture at `file`. Throws CaptureFormatError when it is not a capture at all. */
export async function analyzeCapture(file: string, opts: AnalysisOptions = {}): Promise<AnalyzedCapture> {
  const capacity = opts.capacityBytesPerMs ?? 125_000;
  const acc = new Accumulator(opts.maxBuckets ?? 3_600_000);
  const parser = new CaptureParser(acc.add);
  const warnings: string[] = [];
  const handle = await fs.promises.open(file, 'r');
  const total = (await handle.stat()).size;
  const chunk = Buffer.allocUnsafe(CHUNK);
  let read = 0;
  let compressed = false;
  try {
    const first = await handle.read(chunk, 0, CHUNK, 0);
    compressed = first.bytesRead >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b;
    if (compressed) {
      await gunzipInto(handle, total, parser, warnings, opts.maxDecompressedBytes ?? total * MAX_GZIP_RATIO + GZIP_FLOOR, opts.onProgress);
    } else {
      let n = first.bytesRead;
      while (n > 0) {
        parser.push(chunk.subarray(0, n));
        read += n;
        opts.onProgress?.(read, total);
        n = (await handle.read(chunk, 0, CHUNK, read)).bytesRead;
      }
    }
  } finally {
    await handle.close();
  }
  parser.end();
  warnings.push(...parser.warnings);
  if (acc.early) warnings.push(`${acc.early} packets are timestamped before the first one; they count, but not in the IO graph`);
  if (acc.beyond) warnings.push(`${acc.beyond} packets fall beyond the ${acc.maxBuckets / 3_600_000} h kept in the 1 ms IO graph`);
  if (acc.flowsFull) warnings.push(`more than ${MAX_FLOWS} flows; later ones are not ranked among the conversations`);

  const has = acc.packets > 0 && acc.min.sec !== Infinity;
  const durationMs = has ? (acc.max.sec - acc.min.sec) * 1000 + (acc.max.nsec - acc.min.nsec) / 1e6 : 0;
  const rank = <K>(m: Map<K, { packets: number; bytes: number }>) => [...m].sort((a, b) => b[1].bytes - a[1].bytes);
  const summary: CaptureSummary = {
    status: 'done',
    format: parser.format!,
    compressed,
    packets: acc.packets,
    bytes: acc.bytes,
    capturedBytes: acc.capturedBytes,
    firstPacketAt: has ? isoOf(acc.min.sec, acc.min.nsec) : null,
    lastPacketAt: has ? isoOf(acc.max.sec, acc.max.nsec) : null,
    firstPacketEpoch: has ? epoch(acc.min.sec, acc.min.nsec) : null,
    lastPacketEpoch: has ? epoch(acc.max.sec, acc.max.nsec) : null,
    durationMs,
    linkTypes: [...new Set(parser.linkTypes)].map((linkType) => ({ linkType, name: linkTypeName(linkType) })),
    averageBitsPerSecond: durationMs > 0 ? (acc.bytes * 8 * 1000) / durationMs : 0,
    ioGraph: { bucketMs: 1, buckets: acc.series.length, peakBytes: acc.series.peakBytes() },
    bursts: acc.series.bursts(capacity),
    conversations: rank(conversations(acc.flows)).slice(0, 20).map(([conversation, c]) => ({ conversation, ...c })),
    protocols: rank(acc.protocols).map(([protocol, c]) => ({ protocol, ...c })),
    warnings,
  };
  return { summary, series: acc.series };
}

/** Streams a gzip capture through the parser, stopping (with a warning) if it expands like a bomb. */
async function gunzipInto(
  handle: fs.promises.FileHandle,
  total: number,
  parser: CaptureParser,
  warnings: string[],
  limit: number,
  onProgress?: (read: number, total: number) => void,
): Promise<void> {
  let out = 0;
  let read = 0;
  const gunzip = zlib.createGunzip({ chunkSize: 1 << 20 });
  const source = handle.createReadStream({ start: 0, highWaterMark: CHUNK, autoClose: false });
  source.on('data', (c) => {
    read += c.length;
    onProgress?.(read, total);
  });
  source.pipe(gunzip);
  try {
    for await (const piece of gunzip as AsyncIterable<Buffer>) {
      out += piece.length;
      if (out > limit) {
        warnings.push(`decompressed data passed ${Math.round(limit / 2 ** 20)} MiB: not a plausible capture (a gzip bomb?), analysis stopped there`);
        break;
      }
      parser.push(piece);
    }
  } catch (err) {
    warnings.push(`the gzip stream is damaged (${(err as Error).message}); analysis covers what came before`);
  } finally {
    source.unpipe(gunzip);
    source.destroy();
    gunzip.destroy();
  }
}
