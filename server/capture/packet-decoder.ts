/**
 * Just enough of the packet to say who talked to whom over what: the link layer (Ethernet with
 * VLAN tags, raw IP, Linux cooked v1/v2, BSD loopback), IPv4/IPv6, and TCP/UDP ports.
 */
import type { Packet } from './capture-parser.js';

export type Protocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'other-ipv4' | 'other-ipv6' | 'arp' | 'other';

export interface Decoded {
  protocol: Protocol;
  /**
   * The packet's flow, one direction of a conversation, as a key made of its raw bytes (see `flowKey`):
   * cheap to build and hash for every packet; `conversationOf` names it, once per flow. Absent when not IP.
   */
  flow?: string;
}

/**
 * A flow key is Latin-1 text of the packet's own bytes: the IP protocol number, both addresses, then
 * both ports for TCP and UDP. Its length tells the family and whether it has ports (9/13 for IPv4, 33/37 for IPv6).
 */
function flowKey(b: Buffer, protoAt: number, addrAt: number, addrLength: number, portsAt: number | undefined): string {
  const head = b.toString('latin1', protoAt, protoAt + 1) + b.toString('latin1', addrAt, addrAt + 2 * addrLength);
  return portsAt === undefined ? head : head + b.toString('latin1', portsAt, portsAt + 4);
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Buffer, at: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(at + i).toString(16));
  // Compress the longest run of zero groups, as addresses are usually written.
  const text = parts.join(':');
  const runs = text.match(/(^|:)0(:0)+(:|$)/g);
  if (!runs) return text;
  const longest = runs.reduce((a, r) => (r.length > a.length ? r : a));
  return text.replace(longest, '::');
}

const protocolOf = (proto: number, v6: boolean, ports: boolean): Protocol =>
  ports ? (proto === 6 ? 'tcp' : 'udp') : proto === 1 ? 'icmp' : proto === 58 ? 'icmpv6' : v6 ? 'other-ipv6' : 'other-ipv4';

/** "10.0.0.1:443 ↔ 10.0.0.2:51234 tcp", endpoints in a stable order: both directions of a flow name the same conversation. */
export function conversationOf(flow: string): string {
  const b = Buffer.from(flow, 'latin1');
  const v6 = b.length >= 33;
  const addrLength = v6 ? 16 : 4;
  const ports = b.length === 1 + 2 * addrLength + 4;
  const protocol = protocolOf(b[0]!, v6, ports);
  const address = (at: number) => (v6 ? ipv6(b, at) : ipv4(b, at));
  let src = address(1);
  let dst = address(1 + addrLength);
  if (ports) {
    const portsAt = 1 + 2 * addrLength;
    src = `${v6 ? `[${src}]` : src}:${b.readUInt16BE(portsAt)}`;
    dst = `${v6 ? `[${dst}]` : dst}:${b.readUInt16BE(portsAt + 2)}`;
  }
  const [a, z] = src < dst ? [src, dst] : [dst, src];
  return `${a} ↔ ${z} ${protocol}`;
}

function transport(b: Buffer, end: number, protoAt: number, addrAt: number, addrLength: number, at: number): Decoded {
  const proto = b[protoAt]!;
  const ports = (proto === 6 || proto === 17) && at + 4 <= end;
  return { protocol: protocolOf(proto, addrLength === 16, ports), flow: flowKey(b, protoAt, addrAt, addrLength, ports ? at : undefined) };
}

function ip(b: Buffer, at: number, end: number): Decoded {
  if (at >= end) return { protocol: 'other' };
  const version = b[at]! >> 4;
  if (version === 4 && at + 20 <= end) return transport(b, end, at + 9, at + 12, 4, at + (b[at]! & 0x0f) * 4);
  if (version === 6 && at + 40 <= end) return transport(b, end, at + 6, at + 8, 16, at + 40);
  return { protocol: 'other' };
}

function byEtherType(b: Buffer, type: number, at: number, end: number): Decoded {
  if (type === 0x0800 || type === 0x86dd) return ip(b, at, end);
  if (type === 0x0806) return { protocol: 'arp' };
  return { protocol: 'other' };
}

export function decodePacket(p: Packet): Decoded {
  const b = p.data;
  const start = p.offset;
  const end = p.offset + p.capturedLength;
  switch (p.linkType) {
    case 1: { // Ethernet, possibly VLAN-tagged
      let at = start + 12;
      if (at + 2 > end) return { protocol: 'other' };
      let type = b.readUInt16BE(at);
      while ((type === 0x8100 || type === 0x88a8) && at + 6 <= end) {
        at += 4;
        type = b.readUInt16BE(at);
      }
      return byEtherType(b, type, at + 2, end);
    }
    case 12:
    case 14:
    case 101:
    case 228:
    case 229:
      return ip(b, start, end);
    case 113: // Linux cooked v1
      return start + 16 <= end ? byEtherType(b, b.readUInt16BE(start + 14), start + 16, end) : { protocol: 'other' };
    case 276: // Linux cooked v2
      return start + 20 <= end ? byEtherType(b, b.readUInt16BE(start), start + 20, end) : { protocol: 'other' };
    case 0: // BSD loopback: address family in host order
      return start + 4 <= end ? ip(b, start + 4, end) : { protocol: 'other' };
    default:
      return { protocol: 'other' };
  }
}

const LINK_TYPE_NAMES: Record<number, string> = {
  0: 'BSD loopback', 1: 'Ethernet', 12: 'Raw IP', 14: 'Raw IP', 101: 'Raw IP', 105: 'IEEE 802.11',
  113: 'Linux cooked', 127: 'IEEE 802.11 radiotap', 228: 'Raw IPv4', 229: 'Raw IPv6', 276: 'Linux cooked v2',
};

export const linkTypeName = (linkType: number): string => LINK_TYPE_NAMES[linkType] ?? `link type ${linkType}`;
