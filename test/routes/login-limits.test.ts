/**
 * Password guessing: the login limiter counts per account (whatever the spelling of its name, from any
 * address) and per real peer address (X-Forwarded-For only from a configured proxy), and a login's
 * time does not tell whether the account exists.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../server/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const login = (s: TestServer, name: string, headers: Record<string, string> = {}, password = 'wrong guess, again') =>
  s.api('POST', '/api/auth/login', { body: { name, password }, headers });

/** Status of each of `n` attempts, in order. */
async function attempts(n: number, attempt: (i: number) => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await attempt(i)).status);
  return statuses;
}

describe('login rate limit', () => {
  it('counts every spelling of a name that logs into the same account together', async () => {
    server = await startTestServer();
    await server.createUser('responder', 'judy', 'correct horse battery');
    const pad = (i: number) => [' ', '\t', '\n', '\u00a0', '\u3000'][i % 5]!.repeat(1 + Math.floor(i / 5));
    const statuses = await attempts(20, (i) => login(server!, i % 2 ? `${pad(i)}judy` : `judy${pad(i)}`));
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(10).fill(429));
  });

  it('ignores X-Forwarded-For unless a proxy is configured', async () => {
    server = await startTestServer();
    // Spraying many names while claiming a new address each time: still one peer.
    const statuses = await attempts(40, (i) => login(server!, `user${i}`, { 'x-forwarded-for': `203.0.113.${i}` }));
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.indexOf(429)).toBeLessThanOrEqual(30);
  });

  it('limits an account attacked from many addresses, and each address behind a configured proxy', async () => {
    server = await startTestServer({ env: { TRUST_PROXY: 'loopback' } });
    await server.createUser('responder', 'kate', 'correct horse battery');
    const spread = await attempts(12, (i) => login(server!, 'kate', { 'x-forwarded-for': `198.51.100.${i}` }));
    expect(spread.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(spread.slice(10)).toEqual([429, 429]);

    // Behind the proxy, one client spraying names is held back; another client is not.
    const sprayer = await attempts(40, (i) => login(server!, `name${i}`, { 'x-forwarded-for': '203.0.113.7' }));
    expect(sprayer.at(-1)).toBe(429);
    expect((await login(server, 'someone', { 'x-forwarded-for': '203.0.113.8' })).status).toBe(401);
  });

  it('answers 429 with a message that says what to do', async () => {
    server = await startTestServer();
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) last = await login(server, 'nobody');
    expect(last!.status).toBe(429);
    expect(await last!.json()).toMatchObject({ error: expect.stringContaining('wait a minute') });
  });
});

describe('TRUST_PROXY', () => {
  it('takes express\'s values, and refuses "true" (anyone could pick their address) and typos', () => {
    const trust = (value: string) => configFromEnv({ TRUST_PROXY: value }).trustProxy;
    expect(trust('')).toBe(false);
    expect(trust('2')).toBe(2);
    expect(trust('loopback, 10.0.0.0/8,192.168.1.0/255.255.255.0, fd00::1/64')).toEqual(['loopback', '10.0.0.0/8', '192.168.1.0/255.255.255.0', 'fd00::1/64']);
    expect(() => trust('true')).toThrow(/TRUST_PROXY=true .*name the proxy/);
    expect(() => trust('loopbak')).toThrow(/TRUST_PROXY: "loopbak" is not an address/);
    expect(() => trust('10.0.0.0/33')).toThrow(/"10.0.0.0\/33"/);
  });
});

describe('login timing', () => {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  async function timed(s: TestServer, name: string): Promise<number> {
    const t = performance.now();
    const res = await login(s, name);
    expect(res.status).toBe(401);
    return performance.now() - t;
  }

  it('takes as long for a name that does not exist, or has no password, as for a wrong password', async () => {
    server = await startTestServer();
    await server.createUser('responder', 'liam', 'correct horse battery');
    await server.createUser('viewer', 'tokenonly'); // API token only, no password
    await timed(server, 'liam'); // warm up
    const known: number[] = [];
    const unknown: number[] = [];
    const noPassword: number[] = [];
    // Interleaved, so a burst of load elsewhere hits all three alike. Five each: under every limit.
    for (let i = 0; i < 5; i++) {
      known.push(await timed(server, 'liam'));
      unknown.push(await timed(server, 'nosuchuser'));
      noPassword.push(await timed(server, 'tokenonly'));
    }
    const scryptMs = median(known);
    // Before the fix an unknown name answered in ~1 ms against ~30 ms: what gave it away was being
    // fast. On a loaded machine five tries each are noisy both ways, so this asks only that neither is
    // much faster than a wrong password (at least half of its time).
    expect(median(unknown)).toBeGreaterThan(scryptMs / 2);
    expect(median(noPassword)).toBeGreaterThan(scryptMs / 2);
  });
});
