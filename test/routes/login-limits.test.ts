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
  // What gives a missing account away is how much work the server does for it. Wall-clock time on a
  // CI machine running other test files beside this one varies 2x either way, so this measures the
  // CPU time the server process spends (scrypt runs on libuv's pool, which counts in cpuUsage): the
  // server runs in this test's own worker process, so nothing else is counted.
  async function cpuMs(s: TestServer, name: string, times: number): Promise<number> {
    const before = process.cpuUsage();
    for (let i = 0; i < times; i++) {
      const res = await login(s, name);
      expect(res.status).toBe(401);
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000;
  }

  it('does as much work for a name that does not exist, or has no password, as for a wrong password', async () => {
    server = await startTestServer();
    await server.createUser('responder', 'liam', 'correct horse battery');
    await server.createUser('viewer', 'tokenonly'); // API token only, no password
    await cpuMs(server, 'liam', 1); // warm up
    // Three each: under every limit (ten failures a minute per account and per address).
    const known = await cpuMs(server, 'liam', 3);
    const unknown = await cpuMs(server, 'nosuchuser', 3);
    const noPassword = await cpuMs(server, 'tokenonly', 3);
    // Before the fix an unknown name cost ~1 ms against ~30 ms of scrypt for a known one.
    expect(known).toBeGreaterThan(30);
    expect(unknown).toBeGreaterThan(known * 0.6);
    expect(noPassword).toBeGreaterThan(known * 0.6);
  });
});
