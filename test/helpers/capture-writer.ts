/**
 * Writes packet captures in every layout the parser must read — pcap with µs or ns timestamps in
 * either byte order, pcapng in either byte order with several interfaces, `if_tsresol`, options and
 * unknown blocks — so tests can compare our analysis with tshark's on the very same file.
 */

export interface TestPacket {
  /** Nanoseconds since the epoch. */
  ns: bigint;
  frame: Buffer;
  /** Original length on the wire (≥ frame.length; bigger means the capture was cut to a snap length). */
  originalLength?: number;
  /** pcapng: which interface it was captured on. */
  iface?: number;
}

/** An Ethernet/IPv4 frame carrying TCP or UDP, `size` bytes long. */
export function ethernetFrame(size: number, opts: { src?: string; dst?: string; sport?: number; dport?: number; udp?: boolean } = {}): Buffer {
  const f = Buffer.alloc(Math.max(size, 54));
  f.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2], 0);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(f.length - 14, 16);
  f[22] = 64;
  f[23] = opts.udp ? 17 : 6;
  (opts.src ?? '10.0.0.1').split('.').forEach((o, i) => (f[26 + i] = Number(o)));
  (opts.dst ?? '10.0.0.2').split('.').forEach((o, i) => (f[30 + i] = Number(o)));
  f.writeUInt16BE(opts.sport ?? 5201, 34);
  f.writeUInt16BE(opts.dport ?? 40000, 36);
  if (!opts.udp) f[46] = 0x50;
  return f.subarray(0, size >= 54 ? size : 54);
}

function u32(v: number, little: boolean): Buffer {
  const b = Buffer.alloc(4);
  little ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0);
  return b;
}
function u16(v: number, little: boolean): Buffer {
  const b = Buffer.alloc(2);
  little ? b.writeUInt16LE(v) : b.writeUInt16BE(v);
  return b;
}

export function writePcap(packets: TestPacket[], opts: { nanos: boolean; little: boolean; linkType?: number; snaplen?: number }): Buffer {
  const { little } = opts;
  const parts = [u32(opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4, little), u16(2, little), u16(4, little), u32(0, little), u32(0, little), u32(opts.snaplen ?? 262144, little), u32(opts.linkType ?? 1, little)];
  for (const p of packets) {
    const sec = Number(p.ns / 1_000_000_000n);
    const frac = Number(p.ns % 1_000_000_000n);
    parts.push(u32(sec, little), u32(opts.nanos ? frac : Math.floor(frac / 1000), little), u32(p.frame.length, little), u32(p.originalLength ?? p.frame.length, little), p.frame);
  }
  return Buffer.concat(parts);
}

function pad4(b: Buffer): Buffer {
  return b.length % 4 ? Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]) : b;
}

function block(type: number, body: Buffer, little: boolean): Buffer {
  const padded = pad4(body);
  const len = 12 + padded.length;
  return Buffer.concat([u32(type, little), u32(len, little), padded, u32(len, little)]);
}

function option(code: number, value: Buffer, little: boolean): Buffer {
  return Buffer.concat([u16(code, little), u16(value.length, little), pad4(value)]);
}

export interface PcapngInterface {
  linkType: number;
  /** if_tsresol byte: 6 = µs (default), 9 = ns, 0x80|n = 2^-n. */
  tsresol?: number;
}

export function writePcapng(packets: TestPacket[], opts: { little: boolean; interfaces: PcapngInterface[]; unknownBlocks?: boolean }): Buffer {
  const { little } = opts;
  const endOpts = Buffer.alloc(4);
  const shb = block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d, little), u16(1, little), u16(0, little), Buffer.alloc(8, 0xff), option(4, Buffer.from('bridgelog tests'), little), endOpts]), little);
  const parts = [shb];
  for (const iface of opts.interfaces) {
    const options = [option(2, Buffer.from('eth-test'), little)];
    if (iface.tsresol !== undefined) options.push(option(9, Buffer.from([iface.tsresol]), little));
    parts.push(block(1, Buffer.concat([u16(iface.linkType, little), u16(0, little), u32(262144, little), ...options, endOpts]), little));
  }
  if (opts.unknownBlocks) parts.push(block(0x0bad, Buffer.from('a block type nobody knows'), little));
  packets.forEach((p, i) => {
    const iface = opts.interfaces[p.iface ?? 0]!;
    const units = iface.tsresol === 9 ? p.ns : iface.tsresol === undefined || iface.tsresol === 6 ? p.ns / 1000n : p.ns;
    const body = Buffer.concat([
      u32(p.iface ?? 0, little),
      u32(Number(units >> 32n), little),
      u32(Number(units & 0xffffffffn), little),
      u32(p.frame.length, little),
      u32(p.originalLength ?? p.frame.length, little),
      pad4(p.frame),
      option(1, Buffer.from(`packet ${i}`), little),
      endOpts,
    ]);
    parts.push(block(6, body, little));
    if (opts.unknownBlocks && i % 50 === 0) parts.push(block(0x80000001, Buffer.from('custom'), little));
  });
  return Buffer.concat(parts);
}

/** A burst pattern: steady traffic with 1 ms microbursts over 1 Gbit/s hidden in a calm average. */
export function burstyTraffic(startNs: bigint, packets: number, seed = 1): TestPacket[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out: TestPacket[] = [];
  let t = startNs;
  for (let i = 0; i < packets; i++) {
    const inBurst = i % 400 < 120;
    t += inBurst ? BigInt(1000 + Math.floor(rand() * 3000)) : BigInt(200_000 + Math.floor(rand() * 900_000));
    const size = inBurst ? 1514 : 64 + Math.floor(rand() * 1400);
    out.push({ ns: t, frame: ethernetFrame(size, { udp: i % 3 === 0, sport: 5000 + (i % 4) }), iface: i % 2 });
  }
  return out;
}
