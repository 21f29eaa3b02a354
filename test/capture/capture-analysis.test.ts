/**
 * Capture analysis agrees exactly with tshark — packet count, byte total, first/last timestamps and
 * every 1 ms bucket — for captures in each format, and says what it could read of broken ones.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../server/capture/capture-analysis.js';
import { SeriesFile, writeSeriesFile } from '../../server/capture/io-series.js';
import { CaptureFormatError, CaptureParser, splitTimestamp } from '../../server/capture/capture-parser.js';
import { burstyTraffic, ethernetFrame, writePcap, writePcapng, type TestPacket } from '../helpers/capture-writer.js';
import { tempDataDir } from '../helpers/server.js';

const TSHARK = '/usr/bin/tshark';
const dir = tempDataDir();
const START = 1_772_604_750_123_456_789n; // 2026-03-04T06:12:30.123456789Z
const traffic = burstyTraffic(START, 3000);

function file(name: string, bytes: Buffer): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
}

/** What tshark says: every frame's epoch time and original length, and the 1 ms buckets from them. */
function tshark(f: string) {
  if (!fs.existsSync(TSHARK)) throw new Error(`${TSHARK} is missing: apt-get install tshark (.ci/run does)`);
  const out = execFileSync(TSHARK, ['-r', f, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  // tshark lists pcapng blocks it does not know as frames without a time: those are not packets.
  const lines = out.split('\n').filter((line) => line !== '' && !line.startsWith('\t'));
  const frames = lines.map((line) => {
    const [time, len] = line.split('\t');
    const [sec, frac = ''] = time!.split('.');
    return { epoch: `${sec}.${frac.padEnd(9, '0')}`, ns: BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0')), len: Number(len) };
  });
  const t0 = frames[0]!.ns;
  const bytes: number[] = [];
  const packets: number[] = [];
  for (const f2 of frames) {
    const b = Number((f2.ns - t0) / 1_000_000n);
    while (bytes.length <= b) (bytes.push(0), packets.push(0));
    bytes[b]! += f2.len;
    packets[b]!++;
  }
  return { count: frames.length, total: frames.reduce((a, f2) => a + f2.len, 0), first: frames[0]!.epoch, last: frames.at(-1)!.epoch, bytes, packets };
}

const formats: Array<[string, () => Buffer]> = [
  ['pcap, µs, little-endian', () => writePcap(traffic, { nanos: false, little: true })],
  ['pcap, µs, big-endian', () => writePcap(traffic, { nanos: false, little: false })],
  ['pcap, ns, little-endian', () => writePcap(traffic, { nanos: true, little: true })],
  ['pcap, ns, big-endian', () => writePcap(traffic, { nanos: true, little: false })],
  ['pcapng, little-endian, two interfaces (µs and ns), options, unknown blocks', () => writePcapng(traffic, { little: true, interfaces: [{ linkType: 1 }, { linkType: 1, tsresol: 9 }], unknownBlocks: true })],
  ['pcapng, big-endian, two interfaces', () => writePcapng(traffic, { little: false, interfaces: [{ linkType: 1, tsresol: 6 }, { linkType: 1, tsresol: 9 }] })],
  ['gzip-compressed pcapng', () => zlib.gzipSync(writePcapng(traffic, { little: true, interfaces: [{ linkType: 1, tsresol: 9 }, { linkType: 1 }] }))],
];

/** The summary of an analysis (the 1 ms series aside). */
const summaryOf = async (...args: Parameters<typeof analyzeCapture>) => (await analyzeCapture(...args)).summary;

describe('capture analysis agrees with tshark', () => {
  it.each(formats)('%s', async (name, make) => {
    const f = file(`${name.replace(/\W+/g, '-')}.cap`, make());
    const { summary: ours, series } = await analyzeCapture(f);
    const theirs = tshark(f);
    expect(ours.packets).toBe(theirs.count);
    expect(ours.bytes).toBe(theirs.total);
    expect(ours.firstPacketEpoch).toBe(theirs.first);
    expect(ours.lastPacketEpoch).toBe(theirs.last);
    expect(ours.ioGraph).toMatchObject({ bucketMs: 1, buckets: theirs.bytes.length });
    // Every 1 ms bucket, as counted and as stored in its file.
    const ms = series.view(1);
    expect(ms.bytes).toEqual(theirs.bytes);
    expect(ms.packets).toEqual(theirs.packets);
    const stored = path.join(dir, `${name.replace(/\W+/g, '-')}.io1ms`);
    await writeSeriesFile(series, stored);
    const read = await SeriesFile.open(stored);
    const readBack = { bytes: [] as number[], packets: [] as number[] };
    for await (const { values } of read.bytes()) readBack.bytes.push(...values);
    for await (const { values } of read.packets()) readBack.packets.push(...values);
    await read.close();
    expect(readBack).toEqual({ bytes: theirs.bytes, packets: theirs.packets });
    expect(ours.firstPacketAt).toBe('2026-03-04T06:12:30.123Z');
    expect(ours.warnings.filter((w) => !w.includes('skipped'))).toEqual([]);
  });

  it('shows the microbursts the per-second average hides', async () => {
    const { summary: ours, series } = await analyzeCapture(file('bursts.pcap', writePcap(traffic, { nanos: true, little: true })));
    const seconds = series.view(1000);
    // Per second, the link looks calm: well under 100 Mbit/s.
    expect(Math.max(...seconds.bytes) * 8).toBeLessThan(100e6);
    // Per millisecond, it is saturated again and again.
    expect(ours.ioGraph.peakBytes).toBeGreaterThan(125_000);
    expect(ours.bursts.msOverCapacity).toBeGreaterThan(5);
    expect(ours.bursts.worst[0]!.bytes).toBe(ours.ioGraph.peakBytes);
    // With a 10 Gbit/s link, the same traffic is fine.
    expect((await summaryOf(file('bursts10g.pcap', writePcap(traffic, { nanos: true, little: true })), { capacityBytesPerMs: 1_250_000 })).bursts.msOverCapacity).toBe(0);
  });

  it('ranks conversations by bytes and reports the protocol mix', async () => {
    const ours = await summaryOf(file('convs.pcap', writePcap(traffic, { nanos: false, little: true })));
    expect(ours.conversations[0]!.conversation).toMatch(/^10\.0\.0\.1:\d+ ↔ 10\.0\.0\.2:40000 (tcp|udp)$/);
    expect(ours.conversations.reduce((a, c) => a + c.bytes, 0)).toBe(ours.bytes);
    expect(ours.protocols.map((p) => p.protocol).sort()).toEqual(['tcp', 'udp']);
    expect(ours.linkTypes).toEqual([{ linkType: 1, name: 'Ethernet' }]);
  });

  it('names a conversation once for both directions, IPv4 and IPv6, with ports or without', async () => {
    const icmp = ethernetFrame(98, { dst: '10.0.0.3' });
    icmp[23] = 1;
    const v6 = Buffer.alloc(48);
    v6[0] = 0x60;
    v6[6] = 17;
    v6.set(Buffer.from('20010db8000000000000000000000001', 'hex'), 8);
    v6.set(Buffer.from('20010db8000000000000000000000002', 'hex'), 24);
    v6.writeUInt16BE(53, 40);
    v6.writeUInt16BE(5353, 42);
    const packets: TestPacket[] = [
      { ns: START, frame: ethernetFrame(100, { sport: 443, dport: 51234 }) },
      { ns: START + 1000n, frame: ethernetFrame(60, { src: '10.0.0.2', dst: '10.0.0.1', sport: 51234, dport: 443 }) },
      { ns: START + 2000n, frame: icmp },
      { ns: START + 3000n, frame: v6, iface: 1 },
    ];
    const ours = await summaryOf(file('directions.pcapng', writePcapng(packets, { little: true, interfaces: [{ linkType: 1 }, { linkType: 101 }] })));
    expect(ours.conversations).toEqual([
      { conversation: '10.0.0.1:443 ↔ 10.0.0.2:51234 tcp', packets: 2, bytes: 160 },
      { conversation: '10.0.0.1 ↔ 10.0.0.3 icmp', packets: 1, bytes: 98 },
      { conversation: '[2001:db8::1]:53 ↔ [2001:db8::2]:5353 udp', packets: 1, bytes: 48 },
    ]);
  });
});

describe('streaming', () => {
  const some = traffic.slice(0, 400);
  it.each([
    ['pcap', writePcap(some, { nanos: true, little: false })],
    ['pcapng', writePcapng(some, { little: false, interfaces: [{ linkType: 1 }, { linkType: 1, tsresol: 9 }], unknownBlocks: true })],
  ])('reads %s the same whatever pieces it arrives in', (_format, bytes) => {
    const read = (pieces: number[]) => {
      const seen: string[] = [];
      const parser = new CaptureParser((p) => seen.push(`${p.sec}.${p.nsec} ${p.originalLength} ${p.data.readUInt32BE(p.offset + 26)}`));
      for (let at = 0, i = 0; at < bytes.length; i++) {
        const size = pieces[i % pieces.length]!;
        parser.push(Buffer.from(bytes.subarray(at, at + size)));
        at += size;
      }
      parser.end();
      expect(parser.warnings.filter((w) => !w.includes('skipped'))).toEqual([]);
      return seen;
    };
    const whole = read([bytes.length]);
    expect(whole).toHaveLength(some.length);
    // Tiny pieces, pieces cutting headers, and pieces larger than the join window with cut records.
    for (const pieces of [[1], [7, 3], [13, 4096, 5], [100_000, 17], [70_001]]) expect(read(pieces)).toEqual(whole);
  });
});

describe('broken captures', () => {
  const good = writePcap(traffic.slice(0, 100), { nanos: true, little: true });

  it('reports what it could read of a truncated capture, with a warning', async () => {
    const ours = await summaryOf(file('truncated.pcap', good.subarray(0, good.length - 500)));
    expect(ours.packets).toBeLessThan(100);
    expect(ours.packets).toBeGreaterThan(90);
    expect(ours.warnings.join(' ')).toMatch(/truncated/);
  });

  it('stops at corruption and says so, keeping what came before', async () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(0x7fffffff, 24 + 16 * 50 + traffic.slice(0, 50).reduce((a, p) => a + p.frame.length, 0) + 8);
    const ours = await summaryOf(file('corrupt.pcap', bad));
    expect(ours.packets).toBe(50);
    expect(ours.warnings.join(' ')).toMatch(/corrupt/);
  });

  it('refuses what is not a capture at all, and an empty file', async () => {
    await expect(analyzeCapture(file('notes.txt', Buffer.from('this is not a capture, just some notes')))).rejects.toThrow(CaptureFormatError);
    await expect(analyzeCapture(file('empty.pcap', Buffer.alloc(0)))).rejects.toThrow(/empty/);
  });

  it('bounds a gzip bomb', async () => {
    const header = writePcap([], { nanos: false, little: true });
    const bomb = zlib.gzipSync(Buffer.concat([header, Buffer.alloc(64 * 1024 * 1024)]), { level: 9 });
    expect(bomb.length).toBeLessThan(200 * 1024);
    const ours = await summaryOf(file('bomb.pcap.gz', bomb), { maxDecompressedBytes: 8 * 1024 * 1024 });
    expect(ours.warnings.join(' ')).toMatch(/gzip bomb/);
  });

  it('reports packets cut to a snap length by their original length', async () => {
    const cut: TestPacket[] = [{ ns: START, frame: ethernetFrame(96), originalLength: 1514 }];
    const ours = await summaryOf(file('snap.pcap', writePcap(cut, { nanos: true, little: true, snaplen: 96 })));
    expect(ours).toMatchObject({ packets: 1, bytes: 1514, capturedBytes: 96 });
    expect(tshark(path.join(dir, 'snap.pcap')).total).toBe(1514);
  });
});

describe('timestamps', () => {
  it('splits 64-bit pcapng timestamps exactly, at any resolution', () => {
    const ns = 1_772_604_750_123_456_789n;
    expect(splitTimestamp(Number(ns >> 32n), Number(ns & 0xffffffffn), 1e9)).toEqual({ sec: 1_772_604_750, nsec: 123_456_789 });
    const us = ns / 1000n;
    expect(splitTimestamp(Number(us >> 32n), Number(us & 0xffffffffn), 1e6)).toEqual({ sec: 1_772_604_750, nsec: 123_456_000 });
  });
});
