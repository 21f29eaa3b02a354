/**
 * TRUST_PROXY, as express's 'trust proxy': which X-Forwarded-For to believe for the client's address
 * (the login limiter keys on it). Off by default; never "everyone", which would let any client pick
 * its own address.
 */
import net from 'node:net';

export type TrustProxy = false | number | string[];

const NAMED = ['loopback', 'linklocal', 'uniquelocal'];

/** An address, a CIDR (or IPv4 address/netmask), or one of express's named ranges. */
function validEntry(entry: string): boolean {
  if (NAMED.includes(entry)) return true;
  const [address = '', range, ...rest] = entry.split('/');
  const family = net.isIP(address);
  if (!family || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d+$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && net.isIPv4(range);
}

export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = (value ?? '').trim();
  if (text === '' || text === 'false' || text === '0') return false;
  if (/^\d+$/.test(text)) return Number(text);
  if (text === 'true') {
    throw new Error('TRUST_PROXY=true would believe any client\'s X-Forwarded-For; name the proxy instead: its address or CIDR, "loopback", or a hop count');
  }
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = entries.find((e) => !validEntry(e));
  if (bad !== undefined) {
    throw new Error(`TRUST_PROXY: "${bad}" is not an address, a CIDR, loopback, linklocal or uniquelocal (or give a hop count)`);
  }
  return entries;
}
