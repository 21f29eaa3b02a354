/**
 * Where Bridgelog may send: a destination names a URL, and Bridgelog connects from inside the
 * network, so a URL pointing at loopback, a private or link-local network, a unique-local, multicast
 * or unspecified address would let an admin's typo (or a stolen admin session) reach internal
 * services. Only globally routable unicast addresses are allowed, unless `NOTIFY_ALLOW_PRIVATE=1`.
 *
 * Checked when a destination is saved (a clear 400) and again at every connection, on the addresses
 * the name resolves to at that moment (`safeLookup`, used as the socket's DNS lookup), so a name
 * that later resolves somewhere private is refused too. Redirects are never followed.
 */
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

export class TargetRefused extends Error {}

/** Why `address` may not be connected to, or undefined if it may. */
export function addressProblem(address: string, allowPrivate: boolean): string | undefined {
  if (allowPrivate) return undefined;
  let range: string;
  try {
    range = ipaddr.process(address).range();
  } catch {
    return `${address} is not an IP address`;
  }
  if (range === 'unicast') return undefined;
  return `${address} is a ${range} address; destinations must be public (set NOTIFY_ALLOW_PRIVATE=1 to allow private networks)`;
}

const lookupAll = (host: string) =>
  new Promise<dns.LookupAddress[]>((resolve, reject) => dns.lookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/** The host's addresses, every one of them allowed; throws TargetRefused naming the first that is not. */
export async function checkedAddresses(host: string, allowPrivate: boolean): Promise<dns.LookupAddress[]> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(bare)) {
    const problem = addressProblem(bare, allowPrivate);
    if (problem) throw new TargetRefused(problem);
    return [{ address: bare, family: net.isIP(bare) }];
  }
  let addresses: dns.LookupAddress[];
  try {
    addresses = await lookupAll(bare);
  } catch (err) {
    throw new TargetRefused(`${bare} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  for (const a of addresses) {
    const problem = addressProblem(a.address, allowPrivate);
    if (problem) throw new TargetRefused(`${bare} resolves to ${problem}`);
  }
  if (addresses.length === 0) throw new TargetRefused(`${bare} has no addresses`);
  return addresses;
}

/** A `lookup` for sockets that resolves and refuses what `checkedAddresses` refuses. */
export function safeLookup(allowPrivate: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    checkedAddresses(hostname, allowPrivate).then(
      (addresses) => {
        const family = typeof options === 'object' ? options.family : undefined;
        const usable = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
        if (usable.length === 0) return callback(new TargetRefused(`${hostname} has no IPv${family} address`), '', 0);
        if (typeof options === 'object' && options.all) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
}

/** Checks a destination URL's form and where it points; a problem as a sentence for the admin. */
export async function urlProblem(text: string, allowPrivate: boolean, protocols: string[] = ['https:', 'http:']): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `not a URL: expected e.g. https://hooks.example.com/…`;
  }
  if (!protocols.includes(url.protocol)) return `must be ${protocols.map((p) => `${p}//`).join(' or ')}, not ${url.protocol}//`;
  if (url.username || url.password) {
    if (url.protocol.startsWith('http')) return 'must not carry a user name or password (put credentials in the fields meant for them)';
  }
  try {
    await checkedAddresses(url.hostname, allowPrivate);
  } catch (err) {
    if (err instanceof TargetRefused) return err.message;
    throw err;
  }
  return undefined;
}
