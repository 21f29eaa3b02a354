/**
 * Every way a sign-in through an identity provider can go wrong, each refused with a page that says
 * what was wrong and with nothing created: an ID token from the wrong issuer or for another audience,
 * expired or not yet valid, signed with a key the IdP does not publish, carrying another nonce; a
 * callback whose state does not match or that comes to another browser; a code used twice; an IdP
 * that is down or too slow (a bounded wait, then a page); a `returnTo` pointing elsewhere; an ID
 * token without the groups claim. The IdP here is a real HTTP server signing real tokens
 * (test/helpers/hostile-idp.ts); a correct sign-in through it succeeds first, so each refusal is the
 * check it names and not a broken harness.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { idpSession, startHostileIdp, type HostileIdp } from '../helpers/hostile-idp.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { safeReturnTo } from '../../shared/return-to.js';

let idp: HostileIdp;
let server: TestServer;

beforeAll(async () => {
  idp = await startHostileIdp();
  server = await startTestServer({
    env: {
      OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret,
      OIDC_VIEWER_GROUPS: 'staff', OIDC_TIMEOUT_SECONDS: '1',
    },
  });
}, 30_000);

afterAll(async () => {
  await server?.close();
  await idp?.close();
});

beforeEach(() => {
  idp.hostility = {};
  idp.groups = ['staff'];
});

interface Landing {
  status: number;
  location: string | null;
  text: string;
  setCookie: string[];
}

const cookiePair = (setCookie: string[], name: string) => setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${name}=`));

/** The browser's part of a sign-in, by hand: start it, follow the IdP, land on the callback (changed by `tamper`). */
async function signIn(opts: { returnTo?: string; tamper?: (callback: URL) => void; dropCookie?: boolean } = {}): Promise<Landing & { callback: URL; pending: string }> {
  const start = await fetch(`${server.url}/api/auth/oidc/login?returnTo=${encodeURIComponent(opts.returnTo ?? '/incidents')}`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const pending = cookiePair(start.headers.getSetCookie(), 'bridgelog_oidc')!;
  expect(pending).toBeDefined();
  const atIdp = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  const callback = new URL(atIdp.headers.get('location')!);
  opts.tamper?.(callback);
  return { ...(await land(callback, opts.dropCookie ? undefined : pending)), callback, pending };
}

async function land(callback: URL, pending: string | undefined): Promise<Landing> {
  const res = await fetch(callback, { redirect: 'manual', headers: pending ? { cookie: pending } : {} });
  return { status: res.status, location: res.headers.get('location'), text: await res.text(), setCookie: res.headers.getSetCookie() };
}

const userCount = async () => ((await (await server.api('GET', '/api/users', { token: ADMIN_TOKEN })).json()) as unknown[]).length;

/** Refused with a page containing `words`, no session started, no account created. */
async function expectRefused(landing: Landing, status: number, words: string, usersBefore: number): Promise<void> {
  expect(landing.status).toBe(status);
  expect(landing.text).toContain(words);
  expect(landing.text).toContain('Back to sign-in');
  expect(cookiePair(landing.setCookie, 'bridgelog_session')).toBeUndefined();
  expect(await userCount()).toBe(usersBefore);
}

describe('sign-in through an identity provider: bad input', () => {
  it('signs in when nothing is wrong (the harness works): a session, back to returnTo', async () => {
    const landing = await signIn({ returnTo: '/incidents?status=open' });
    expect(landing.status).toBe(302);
    expect(landing.location).toBe('/incidents?status=open');
    const session = cookiePair(landing.setCookie, 'bridgelog_session')!;
    const me = await fetch(`${server.url}/api/auth/me`, { headers: { cookie: session } });
    expect(await me.json()).toMatchObject({ name: 'mallory', role: 'viewer' });
  });

  it.each([
    ['the wrong issuer', (c: Record<string, unknown>) => ({ ...c, iss: 'https://evil.example' }), 'meant for someone else'],
    ['the wrong audience', (c: Record<string, unknown>) => ({ ...c, aud: 'another-app' }), 'meant for someone else'],
    ['another nonce', (c: Record<string, unknown>) => ({ ...c, nonce: 'not-the-one-we-sent' }), 'meant for someone else'],
    ['an expired ID token', (c: Record<string, unknown>) => ({ ...c, iat: Number(c.iat) - 900, exp: Number(c.iat) - 600 }), 'expired or is not valid yet'],
    ['an ID token not valid yet', (c: Record<string, unknown>) => ({ ...c, nbf: Number(c.iat) + 600 }), 'expired or is not valid yet'],
  ])('refuses %s, creating nothing', async (_what, claims, words) => {
    const before = await userCount();
    idp.hostility = { claims: claims as never };
    await expectRefused(await signIn(), 400, words, before);
  });

  it('refuses an ID token signed with a key the IdP does not publish', async () => {
    const before = await userCount();
    idp.hostility = { foreignKey: true };
    await expectRefused(await signIn(), 400, 'signature', before);
  });

  it('refuses a callback whose state is not the one this browser was given', async () => {
    const before = await userCount();
    const landing = await signIn({ tamper: (url) => url.searchParams.set('state', 'forged-state') });
    await expectRefused(landing, 400, 'state mismatch', before);
  });

  it('refuses a callback in a browser that did not start the sign-in (a forged or forwarded link)', async () => {
    const before = await userCount();
    await expectRefused(await signIn({ dropCookie: true }), 400, 'not started in this browser', before);
  });

  it('refuses a code used a second time, even with the first browser\'s cookie', async () => {
    const first = await signIn();
    expect(first.status).toBe(302);
    const before = await userCount();
    await expectRefused(await land(first.callback, first.pending), 400, 'already used', before);
  });

  it('gives up on an IdP that answers too slowly, with a page (OIDC_TIMEOUT_SECONDS), not a hanging sign-in', async () => {
    const before = await userCount();
    idp.hostility = { tokenDelayMs: 5_000 };
    await expectRefused(await signIn(), 502, 'did not answer in time', before);
  });

  it('refuses an ID token without the groups claim, saying which claim is missing', async () => {
    const before = await userCount();
    idp.groups = undefined;
    idp.hostility = { claims: (c) => ({ ...c, sub: 'hostile-user-no-groups' }) };
    await expectRefused(await signIn(), 403, 'sent no "groups" claim', before);
  });

  it.each(['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/%0d%0aLocation:x', 'incidents'])(
    'refuses returnTo=%s before going to the IdP',
    async (returnTo) => {
      const res = await fetch(`${server.url}/api/auth/oidc/login?returnTo=${encodeURIComponent(returnTo)}`, { redirect: 'manual' });
      if (returnTo === '/%0d%0aLocation:x') {
        // Percent-encoded in the path it stays a path on this server: allowed, and it goes nowhere else.
        expect(res.status).toBe(302);
        return;
      }
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('returnTo must be a path on this Bridgelog');
    },
  );

  it('safeReturnTo keeps same-origin paths only', () => {
    expect(safeReturnTo('/incidents/abc?x=1#e')).toBe('/incidents/abc?x=1#e');
    expect(safeReturnTo('/device?code=BCDF-GHJK')).toBe('/device?code=BCDF-GHJK');
    for (const bad of ['//evil.example', '/\\evil.example', '\\\\evil', 'https://evil.example', 'http:/evil', '/a\nb', '', 'evil']) expect(safeReturnTo(bad)).toBeUndefined();
  });
});

describe('sign-in when the identity provider is down', () => {
  let down: TestServer;
  beforeAll(async () => {
    // A port that was just free: nothing answers there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    down = await startTestServer({ env: { OIDC_ISSUER: `http://127.0.0.1:${port}`, OIDC_CLIENT_ID: 'bridgelog', OIDC_VIEWER_GROUPS: 'staff', OIDC_TIMEOUT_SECONDS: '2' } });
  }, 30_000);
  afterAll(() => down?.close());

  it('shows a page saying the IdP did not answer, and password sign-in still works (LOCAL_LOGIN defaults to true)', async () => {
    const res = await fetch(`${down.url}/api/auth/oidc/login`, { redirect: 'manual' });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('did not answer in time or could not be used');
    await down.createUser('responder', 'local-lee', 'local-lee-password');
    const login = await down.api('POST', '/api/auth/login', { body: { name: 'local-lee', password: 'local-lee-password' } });
    expect(login.status).toBe(200);
    expect(await (await down.api('GET', '/api/auth/methods')).json()).toMatchObject({ local: true, oidc: { loginUrl: '/api/auth/oidc/login' } });
  });
});

describe('sessions from the identity provider', () => {
  it('starts a fresh session at every sign-in, ending the one the browser came with (no fixation)', async () => {
    const first = await signIn();
    const planted = cookiePair(first.setCookie, 'bridgelog_session')!;
    // The browser arrives at the callback still holding `planted` (e.g. one an attacker set).
    const start = await fetch(`${server.url}/api/auth/oidc/login`, { redirect: 'manual', headers: { cookie: planted } });
    const pending = cookiePair(start.headers.getSetCookie(), 'bridgelog_oidc')!;
    const atIdp = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const landing = await land(new URL(atIdp.headers.get('location')!), `${pending}; ${planted}`);
    const fresh = cookiePair(landing.setCookie, 'bridgelog_session')!;
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(planted);
    expect((await fetch(`${server.url}/api/auth/me`, { headers: { cookie: planted } })).status).toBe(401);
    expect((await fetch(`${server.url}/api/auth/me`, { headers: { cookie: fresh } })).status).toBe(200);
  });

  it('ends an IdP session after OIDC_SESSION_HOURS: the next sign-in reads the groups again', async () => {
    const short = await startTestServer({
      env: { OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_VIEWER_GROUPS: 'staff', OIDC_RESPONDER_GROUPS: 'netops', OIDC_SESSION_HOURS: '0.0005' },
    });
    try {
      const session = await idpSession(short.url, idp, 'sub-short', ['staff']);
      const me = () => fetch(`${short.url}/api/auth/me`, { headers: { cookie: session } });
      expect((await me()).status).toBe(200);
      // 0.0005 h = 1.8 s.
      await expect.poll(async () => (await me()).status, { timeout: 15_000, interval: 250 }).toBe(401);
      const again = await idpSession(short.url, idp, 'sub-short', ['netops']);
      expect(await (await fetch(`${short.url}/api/auth/me`, { headers: { cookie: again } })).json()).toMatchObject({ role: 'responder' });
    } finally {
      await short.close();
    }
  });
});
