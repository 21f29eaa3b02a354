/**
 * Signing in through a real OpenID provider (oidc-provider, test/helpers/oidc-provider.ts) with
 * Chromium through its real login form: the account is created at the first sign-in from the IdP's
 * `sub`, roles follow groups (and a change of groups at the next sign-in), someone in no allowed
 * group gets a page saying so and loses access, a restricted incident can name a group, logout ends
 * the session here and at the IdP, LOCAL_LOGIN=false refuses passwords except the break-glass admin.
 */
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientDir, launchChromium } from '../helpers/browser.js';
import { startTestIdp, type TestIdp } from '../helpers/oidc-provider.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

const SHOTS = '/tmp/shots-oidc';
let idp: TestIdp;
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  idp = await startTestIdp();
  server = await startTestServer({
    config: { clientDir },
    env: {
      OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_NAME: 'Example SSO',
      OIDC_ADMIN_GROUPS: 'bridgelog-admins', OIDC_RESPONDER_GROUPS: 'netops,security-team', OIDC_VIEWER_GROUPS: 'staff',
      LOCAL_LOGIN: 'false', BREAK_GLASS_ADMIN: 'root',
    },
  });
  idp.serve(server.url);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await idp?.close();
});

/** Signs in from Bridgelog's login page through the IdP's own login form; returns the page after the redirect back. */
async function signIn(page: Page, login: string, from = '/'): Promise<void> {
  await page.goto(server.url + from);
  await page.getByRole('link', { name: 'Sign in with Example SSO' }).click();
  await page.waitForURL((url) => url.href.startsWith(idp.issuer));
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password: the development login pages accept any');
  await page.locator('button[type=submit]').click();
}

const me = async (page: Page) => (await page.context().request.get(`${server.url}/api/auth/me`)).json() as Promise<{ name: string; role: string }>;

// Several trips through the IdP's pages each: room for a loaded machine (no speed is asserted).
describe('sign-in through the identity provider', { timeout: 180_000 }, () => {
  it('creates the account at the first sign-in, with the role its groups give, and returns where the user was going', async () => {
    idp.people.set('dana', { name: 'Dana Scully', email: 'dana@example.com', groups: ['netops', 'staff'] });
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'Packet loss in NY' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/incidents/${incident.id}`);
    await page.waitForURL(/\/login\?returnTo=/);
    await page.screenshot({ path: `${SHOTS}/login-idp-light.png` });
    await signIn(page, 'dana', `/login?returnTo=${encodeURIComponent(`/incidents/${incident.id}`)}`);
    await page.waitForURL(`${server.url}/incidents/${incident.id}`);
    await expect.poll(() => page.getByTestId('current-user').textContent()).toContain('dana');
    expect(await me(page)).toMatchObject({ name: 'dana', role: 'responder' });
    const users = await (await server.api('GET', '/api/users', { token: ADMIN_TOKEN })).json() as Array<{ name: string }>;
    expect(users.filter((u) => u.name.startsWith('dana'))).toHaveLength(1);
    await context.close();
  });

  it('follows a change of groups at the next sign-in: a new role, then refusal with a page saying why, and the old session ends', async () => {
    idp.people.set('fox', { name: 'Fox Mulder', groups: ['staff'] });
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'fox');
    await expect.poll(() => page.getByTestId('current-user').textContent()).toContain('fox');
    expect((await me(page)).role).toBe('viewer');

    idp.people.set('fox', { name: 'Fox Mulder', groups: ['bridgelog-admins'] });
    const second = await (await browser.newContext()).newPage();
    await signIn(second, 'fox');
    await expect.poll(() => second.getByTestId('current-user').textContent()).toContain('admin');
    expect((await me(page)).role).toBe('admin'); // the first browser's session sees the new role too

    idp.people.set('fox', { name: 'Fox Mulder', groups: ['marketing'] });
    const third = await (await browser.newContext()).newPage();
    await signIn(third, 'fox');
    await expect.poll(() => third.locator('main[role=alert]').textContent()).toContain('not in any group allowed to use Bridgelog');
    await third.screenshot({ path: `${SHOTS}/refused-light.png` });
    // Removed from every allowed group: the sessions they still had end too.
    expect((await page.context().request.get(`${server.url}/api/auth/me`)).status()).toBe(401);
    expect((await second.context().request.get(`${server.url}/api/auth/me`)).status()).toBe(401);

    idp.people.set('fox', { name: 'Fox Mulder', groups: ['staff'] });
    const fourth = await (await browser.newContext()).newPage();
    await signIn(fourth, 'fox');
    await expect.poll(() => fourth.getByTestId('current-user').textContent()).toContain('viewer');
  });

  it('refuses someone whose ID token has no groups claim, saying so, and creates nothing', async () => {
    idp.people.set('walter', { name: 'Walter Skinner' });
    const page = await (await browser.newContext()).newPage();
    await signIn(page, 'walter');
    await expect.poll(() => page.locator('main[role=alert]').textContent()).toContain('sent no "groups" claim');
    const users = await (await server.api('GET', '/api/users', { token: ADMIN_TOKEN })).json() as Array<{ name: string }>;
    expect(users.some((u) => u.name.startsWith('walter'))).toBe(false);
  });

  it('never merges with a local account of the same name: the IdP user gets a name of their own', async () => {
    await server.createUser('admin', 'root', 'break-glass-password-1');
    idp.people.set('root', { name: 'Not the admin', groups: ['staff'] });
    const page = await (await browser.newContext()).newPage();
    await signIn(page, 'root');
    await expect.poll(() => page.getByTestId('current-user').textContent()).toContain('root-2');
    expect(await me(page)).toMatchObject({ name: 'root-2', role: 'viewer' });
  });

  it('lets a group named as a member see a restricted incident; others in no such group get 404', async () => {
    idp.people.set('scully', { groups: ['security-team'] });
    idp.people.set('doggett', { groups: ['netops'] });
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'Credential stuffing', members: ['group:security-team'] });
    const member = await (await browser.newContext()).newPage();
    await signIn(member, 'scully');
    await expect.poll(() => member.getByTestId('current-user').textContent()).toContain('scully');
    expect((await member.context().request.get(`${server.url}/api/incidents/${incident.id}`)).status()).toBe(200);
    const other = await (await browser.newContext()).newPage();
    await signIn(other, 'doggett');
    await expect.poll(() => other.getByTestId('current-user').textContent()).toContain('doggett');
    expect((await other.context().request.get(`${server.url}/api/incidents/${incident.id}`)).status()).toBe(404);
    const list = await (await other.context().request.get(`${server.url}/api/incidents`)).json() as Array<{ id: string }>;
    expect(list.some((i) => i.id === incident.id)).toBe(false);
  });

  it('restricts an incident to an IdP group from the incident page; its members see it, others do not', async () => {
    idp.people.set('frohike', { groups: ['netops'] });
    idp.people.set('byers', { groups: ['security-team'] });
    idp.people.set('langly', { groups: ['netops'] });
    const lead = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    await signIn(lead, 'frohike');
    await expect.poll(() => lead.getByTestId('current-user').textContent()).toContain('frohike');
    const created = await lead.context().request.post(`${server.url}/api/incidents`, { data: { title: 'Leaked VPN credentials' } });
    const incident = (await created.json()) as { id: string };
    await lead.goto(`${server.url}/incidents/${incident.id}`);
    await lead.getByRole('button', { name: 'Restrict…' }).click();
    const dialog = lead.getByRole('dialog', { name: 'Who can see this incident' });
    await dialog.getByText('Only these people').click();
    await dialog.getByLabel(/Groups from your identity provider/).fill('security-team');
    await lead.screenshot({ path: `${SHOTS}/members-groups-light.png` });
    await dialog.getByRole('button', { name: 'Save members' }).click();
    await expect.poll(async () => ((await (await lead.context().request.get(`${server.url}/api/incidents/${incident.id}`)).json()) as { members?: string[] }).members).toEqual(
      expect.arrayContaining(['group:security-team']),
    );
    const member = await (await browser.newContext()).newPage();
    await signIn(member, 'byers', `/login?returnTo=${encodeURIComponent(`/incidents/${incident.id}`)}`);
    await member.waitForURL(`${server.url}/incidents/${incident.id}`);
    await expect.poll(() => member.getByRole('heading', { name: 'Leaked VPN credentials' }).count()).toBe(1);
    const other = await (await browser.newContext()).newPage();
    await signIn(other, 'langly');
    await expect.poll(() => other.getByTestId('current-user').textContent()).toContain('langly');
    expect((await other.context().request.get(`${server.url}/api/incidents/${incident.id}`)).status()).toBe(404);
  });

  it('refuses the same callback a second time: the IdP redeems a code once, and nothing is created', async () => {
    idp.people.set('monica', { groups: ['staff'] });
    const context = await browser.newContext();
    let captured: { url: string; cookie: string } | undefined;
    // The callback is the target of the IdP's redirect: seen as a request (routes do not see redirects).
    const seen: Array<Promise<void>> = [];
    context.on('request', (request) => {
      if (!request.url().includes('/api/auth/oidc/callback')) return;
      seen.push(request.allHeaders().then((headers) => void (captured ??= { url: request.url(), cookie: headers.cookie ?? '' })));
    });
    const page = await context.newPage();
    await signIn(page, 'monica');
    await expect.poll(() => page.getByTestId('current-user').textContent()).toContain('monica');
    await Promise.all(seen);
    expect(captured?.cookie).toContain('bridgelog_oidc=');
    const replay = await fetch(captured!.url, { headers: { cookie: captured!.cookie }, redirect: 'manual' });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('already used');
    expect(replay.headers.getSetCookie().some((c) => c.startsWith('bridgelog_session='))).toBe(false);
  });

  it('lets an IdP user make a personal token on the Tokens page, shown once (light, dark, phone)', async () => {
    idp.people.set('john', { groups: ['netops'] });
    const first = await (await browser.newContext()).newPage();
    await signIn(first, 'john');
    await expect.poll(() => first.getByTestId('current-user').textContent()).toContain('john');
    // The same session in each layout (cookies carried over), rather than three trips to the IdP.
    const signedIn = await first.context().storageState();
    await first.context().close();
    for (const [label, options] of [['light', {}], ['dark', { colorScheme: 'dark' as const }], ['phone', { viewport: { width: 390, height: 800 } }]] as const) {
      const page = await (await browser.newContext({ ...options, storageState: signedIn })).newPage();
      try {
        if (label === 'light') {
          // From the header's user area, as a user finds it.
          await page.goto(server.url);
          await page.getByRole('link', { name: 'Tokens' }).click();
        } else await page.goto(`${server.url}/tokens`);
        await expect.poll(() => page.getByRole('heading', { name: 'Your API tokens' }).count()).toBe(1);
        await page.getByLabel('Name').fill(`laptop ${label}`);
        await page.getByRole('button', { name: 'Create token' }).click();
        await expect.poll(() => page.getByTestId('new-token').count()).toBe(1);
        const secret = await page.getByTestId('new-token').textContent();
        expect(secret).toMatch(/^bl_/);
        expect((await server.api('GET', '/api/auth/me', { token: secret! })).status).toBe(200);
        await expect.poll(() => page.getByRole('table', { name: 'Your tokens' }).getByText(`laptop ${label}`).count()).toBe(1);
        await page.screenshot({ path: `${SHOTS}/tokens-created-${label}.png` });
      } catch (err) {
        await page.screenshot({ path: `${SHOTS}/tokens-failed-${label}.png` });
        throw err;
      } finally {
        await page.context().close();
      }
    }
  });

  it('logs out here and at the identity provider (RP-initiated logout), back on the login page', async () => {
    idp.people.set('reyes', { groups: ['staff'] });
    const page = await (await browser.newContext()).newPage();
    await signIn(page, 'reyes');
    await expect.poll(() => page.getByTestId('current-user').textContent()).toContain('reyes');
    await page.getByRole('button', { name: 'Log out' }).click();
    // oidc-provider asks whether to sign out of the IdP as well: yes.
    await page.waitForURL((url) => url.href.startsWith(idp.issuer));
    await page.locator('button[autofocus], button[type=submit]').first().click();
    await page.waitForURL(`${server.url}/login`);
    expect((await page.context().request.get(`${server.url}/api/auth/me`)).status()).toBe(401);
    // Signed out at the IdP too: signing in again shows its login form, not an instant redirect back.
    await page.getByRole('link', { name: 'Sign in with Example SSO' }).click();
    await expect.poll(() => page.locator('input[name=login]').count()).toBe(1);
  });

  it('with LOCAL_LOGIN=false refuses password sign-in, except the break-glass admin', async () => {
    await server.createUser('responder', 'carol', 'carol-password-123');
    // The break-glass admin (made by the test on names above when the file runs whole).
    const names = ((await (await server.api('GET', '/api/users', { token: ADMIN_TOKEN })).json()) as Array<{ name: string }>).map((u) => u.name);
    if (!names.includes('root')) await server.createUser('admin', 'root', 'break-glass-password-1');
    const refused = await server.api('POST', '/api/auth/login', { body: { name: 'carol', password: 'carol-password-123' } });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toContain('password sign-in is turned off');
    const root = await server.api('POST', '/api/auth/login', { body: { name: 'root', password: 'break-glass-password-1' } });
    expect(root.status).toBe(200);
    // Nor can anyone join with a password through an invite.
    const invite = await server.api('POST', '/api/invites/accept', { body: { token: 'whatever', name: 'newbie', password: 'newbie-password-1' } });
    expect(invite.status).toBe(403);
    expect((await invite.json()).error).toContain('password accounts are turned off here');
    const page = await (await browser.newContext({ colorScheme: 'dark' })).newPage();
    await page.goto(`${server.url}/login`);
    await page.getByText('Administrator sign-in (break-glass)').click();
    await page.screenshot({ path: `${SHOTS}/login-idp-dark.png` });
    const phone = await (await browser.newContext({ viewport: { width: 390, height: 800 } })).newPage();
    await phone.goto(`${server.url}/login`);
    await phone.screenshot({ path: `${SHOTS}/login-idp-phone.png` });
  });
});
