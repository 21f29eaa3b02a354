/**
 * A capture's 1 ms IO graph: bytes (original lengths) and packets per millisecond from the first
 * packet. An hour of it is 3.6 million buckets, so it is never a JS array on the server:
 *
 * - while counting, `IoSeries` keeps it in fixed-size typed-array chunks, allocated as the capture's
 *   time goes on (growing never copies, and a long capture costs 12 bytes a millisecond: 43 MB an hour);
 * - once counted, `writeSeriesFile` stores it next to the analysis summary, and `SeriesFile` reads it
 *   back a chunk at a time: for the analysis answer (streamed), bursts at another link capacity and
 *   the first minute in exports.
 *
 * File layout (little-endian): "BLIO", version (u32 = 1), buckets n (u32), 0 (u32); then n f64
 * byte counts; then n u32 packet counts.
 */
import fs from 'node:fs';
import os from 'node:os';

/** Buckets per chunk, in memory and when reading the file. */
export const SERIES_CHUNK = 65_536;
const MAGIC = 0x4f494c42; // "BLIO" read as a little-endian u32
const VERSION = 1;
const HEADER = 16;

export interface IoView {
  bucketMs: number;
  /** Bytes (original lengths) and packets per bucket, from the first packet on. */
  bytes: number[];
  packets: number[];
  peakBytes: number;
}

export interface Bursts {
  capacityBytesPerMs: number;
  msOverCapacity: number;
  /** The worst 1 ms buckets over capacity, worst first. */
  worst: Array<{ offsetMs: number; bytes: number }>;
}

const WORST = 20;

/** The views the analysis answer carries besides the 1 ms one. */
export const COARSE_VIEWS_MS = [10, 100, 1000] as const;

/** Adds bucket sums of 1 ms chunks into a view of `bucketMs`, as the chunks come. */
export class ViewBuilder {
  readonly bytes: number[];
  readonly packets: number[];

  /** @param buckets how many 1 ms buckets there are in all */
  constructor(
    readonly bucketMs: number,
    buckets: number,
  ) {
    const n = Math.ceil(buckets / bucketMs);
    this.bytes = new Array<number>(n).fill(0);
    this.packets = new Array<number>(n).fill(0);
  }

  addBytes(offset: number, chunk: ArrayLike<number>): void {
    sumInto(this.bytes, this.bucketMs, offset, chunk);
  }

  addPackets(offset: number, chunk: ArrayLike<number>): void {
    sumInto(this.packets, this.bucketMs, offset, chunk);
  }

  view(): IoView {
    return { bucketMs: this.bucketMs, bytes: this.bytes, packets: this.packets, peakBytes: this.bytes.reduce((a, b) => Math.max(a, b), 0) };
  }
}

function sumInto(into: number[], bucketMs: number, offset: number, chunk: ArrayLike<number>): void {
  let j = Math.floor(offset / bucketMs);
  let left = bucketMs - (offset - j * bucketMs); // 1 ms buckets left in view bucket j
  let sum = 0;
  for (let i = 0; i < chunk.length; i++) {
    sum += chunk[i]!;
    if (--left === 0) {
      into[j++]! += sum;
      sum = 0;
      left = bucketMs;
    }
  }
  if (sum !== 0) into[j]! += sum;
}

/** Keeps the worst buckets over a capacity, and counts them, as chunks of byte counts come. */
export class BurstFinder {
  private count = 0;
  private worst: Array<{ offsetMs: number; bytes: number }> = [];

  constructor(readonly capacityBytesPerMs: number) {}

  add(offset: number, bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b <= this.capacityBytesPerMs) continue;
      this.count++;
      if (this.worst.length < WORST || b > this.worst[this.worst.length - 1]!.bytes) {
        this.worst.push({ offsetMs: offset + i, bytes: b });
        // Worst first; on a tie, the earlier bucket first.
        this.worst.sort((x, y) => y.bytes - x.bytes || x.offsetMs - y.offsetMs);
        if (this.worst.length > WORST) this.worst.pop();
      }
    }
  }

  result(): Bursts {
    return { capacityBytesPerMs: this.capacityBytesPerMs, msOverCapacity: this.count, worst: this.worst };
  }
}

export class IoSeries {
  private readonly byteChunks: Float64Array[] = [];
  private readonly packetChunks: Uint32Array[] = [];
  /** Buckets from the first packet to the last one counted. */
  length = 0;

  add(bucket: number, bytes: number): void {
    const c = Math.floor(bucket / SERIES_CHUNK);
    while (this.byteChunks.length <= c) {
      this.byteChunks.push(new Float64Array(SERIES_CHUNK));
      this.packetChunks.push(new Uint32Array(SERIES_CHUNK));
    }
    const i = bucket - c * SERIES_CHUNK;
    this.byteChunks[c]![i]! += bytes;
    this.packetChunks[c]![i]!++;
    if (bucket >= this.length) this.length = bucket + 1;
  }

  /** The chunks, the last one cut to the length. */
  *chunks(): Generator<{ offset: number; bytes: Float64Array; packets: Uint32Array }> {
    for (let c = 0; c * SERIES_CHUNK < this.length; c++) {
      const end = Math.min(SERIES_CHUNK, this.length - c * SERIES_CHUNK);
      yield { offset: c * SERIES_CHUNK, bytes: this.byteChunks[c]!.subarray(0, end), packets: this.packetChunks[c]!.subarray(0, end) };
    }
  }

  peakBytes(): number {
    let peak = 0;
    for (const { bytes } of this.chunks()) for (let i = 0; i < bytes.length; i++) if (bytes[i]! > peak) peak = bytes[i]!;
    return peak;
  }

  bursts(capacityBytesPerMs: number): Bursts {
    const finder = new BurstFinder(capacityBytesPerMs);
    for (const { offset, bytes } of this.chunks()) finder.add(offset, bytes);
    return finder.result();
  }

  view(bucketMs: number): IoView {
    const builder = new ViewBuilder(bucketMs, this.length);
    for (const { offset, bytes, packets } of this.chunks()) {
      builder.addBytes(offset, bytes);
      builder.addPackets(offset, packets);
    }
    return builder.view();
  }
}

function assertLittleEndian(): void {
  // Typed arrays are in the machine's byte order, written as they are: every platform Node runs
  // Bridgelog on (x86-64, arm64) is little-endian.
  if (os.endianness() !== 'LE') throw new Error('the IO graph file format needs a little-endian machine');
}

const bufferOf = (a: Float64Array | Uint32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Writes the series to `file` (through a temporary file, fsync'd and renamed). */
export async function writeSeriesFile(series: IoSeries, file: string): Promise<void> {
  assertLittleEndian();
  const tmp = `${file}.tmp-${process.pid}`;
  const handle = await fs.promises.open(tmp, 'w', 0o600);
  try {
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(VERSION, 4);
    header.writeUInt32LE(series.length, 8);
    await handle.write(header);
    for (const { bytes } of series.chunks()) await handle.write(bufferOf(bytes));
    for (const { packets } of series.chunks()) await handle.write(bufferOf(packets));
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await fs.promises.rename(tmp, file);
}

/** The bucket count a series file's header gives; throws if it is not one. */
function bucketsIn(header: Buffer, bytesRead: number, file: string): number {
  if (bytesRead < HEADER || header.readUInt32LE(0) !== MAGIC || header.readUInt32LE(4) !== VERSION) throw new Error(`${file} is not an IO graph file`);
  return header.readUInt32LE(8);
}

/** The byte counts of the first `n` buckets of a stored series (for reports: a minute is 480 KB). */
export function readSeriesHeadSync(file: string, n: number): number[] {
  assertLittleEndian();
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(HEADER);
    const count = Math.min(n, bucketsIn(header, fs.readSync(fd, header, 0, HEADER, 0), file));
    const buffer = Buffer.allocUnsafeSlow(count * 8);
    if (fs.readSync(fd, buffer, 0, buffer.length, HEADER) !== buffer.length) throw new Error(`${file} is cut short`);
    return Array.from(new Float64Array(buffer.buffer, 0, count));
  } finally {
    fs.closeSync(fd);
  }
}

/** A stored series, read a chunk at a time. */
export class SeriesFile {
  private constructor(
    private readonly handle: fs.promises.FileHandle,
    readonly buckets: number,
  ) {}

  /** Opens a series file; throws if it is not one or is cut short. */
  static async open(file: string): Promise<SeriesFile> {
    assertLittleEndian();
    const handle = await fs.promises.open(file, 'r');
    try {
      const header = Buffer.alloc(HEADER);
      const buckets = bucketsIn(header, (await handle.read(header, 0, HEADER, 0)).bytesRead, file);
      if ((await handle.stat()).size !== HEADER + buckets * 12) throw new Error(`${file} is cut short`);
      return new SeriesFile(handle, buckets);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Byte counts of buckets [from, to), a chunk at a time. */
  bytes(from = 0, to = this.buckets): AsyncGenerator<{ offset: number; values: Float64Array }> {
    return this.section(HEADER, 8, from, to, (b) => new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8));
  }

  /** Packet counts of buckets [from, to), a chunk at a time. */
  packets(from = 0, to = this.buckets): AsyncGenerator<{ offset: number; values: Uint32Array }> {
    return this.section(HEADER + this.buckets * 8, 4, from, to, (b) => new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4));
  }

  async bursts(capacityBytesPerMs: number): Promise<Bursts> {
    const finder = new BurstFinder(capacityBytesPerMs);
    for await (const { offset, values } of this.bytes()) finder.add(offset, values);
    return finder.result();
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private async *section<T>(start: number, width: number, from: number, to: number, view: (b: Buffer) => T): AsyncGenerator<{ offset: number; values: T }> {
    const end = Math.min(to, this.buckets);
    // One buffer, reused: each chunk is handed out and done with before the next read.
    const buffer = Buffer.allocUnsafeSlow(SERIES_CHUNK * width);
    for (let offset = Math.max(0, from); offset < end; offset += SERIES_CHUNK) {
      const n = Math.min(SERIES_CHUNK, end - offset) * width;
      const { bytesRead } = await this.handle.read(buffer, 0, n, start + offset * width);
      if (bytesRead !== n) throw new Error('IO graph file cut short while reading');
      yield { offset, values: view(buffer.subarray(0, n)) };
    }
  }
}
