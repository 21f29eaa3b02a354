/**
 * `bridgelog login --server URL` the way `gh auth login` works, against a real OpenID provider: the
 * CLI prints a URL and a code; Chromium opens it, is sent to Bridgelog's login page, signs in through
 * the IdP's login form, comes back to the approval page showing that code, approves; the CLI receives
 * a new personal token, saves it, and the token acts as the person who approved. A login nobody
 * approved gives nothing; an approved one is handed out once.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientDir, launchChromium } from '../helpers/browser.js';
import { startTestIdp, type TestIdp } from '../helpers/oidc-provider.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { cliHome, spawnBridgelog } from './bridgelog-cli.js';

const SHOTS = '/tmp/shots-oidc';
let idp: TestIdp;
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  idp = await startTestIdp();
  server = await startTestServer({
    config: { clientDir },
    env: { OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_NAME: 'Example SSO', OIDC_RESPONDER_GROUPS: 'netops' },
  });
  idp.serve(server.url);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await idp?.close();
});

// Several trips through the IdP's pages each: room for a loaded machine (no speed is asserted).
describe('bridgelog login through the browser', { timeout: 180_000 }, () => {
  it('signs in through the IdP in the browser, approves, and the CLI saves a working personal token', async () => {
    idp.people.set('kim', { name: 'Kim Park', groups: ['netops'] });
    const home = cliHome();
    const cli = spawnBridgelog(['login', '--server', server.url], { BRIDGELOG_HOME: home, BRIDGELOG_NO_BROWSER: '1' });
    cli.stdin!.end();
    let stderr = '';
    let stdout = '';
    cli.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    cli.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => cli.on('close', resolve));
    await expect.poll(() => /open (http\S+)/.exec(stderr)?.[1], { timeout: 60_000 }).toBeDefined();
    const url = /open (http\S+)/.exec(stderr)![1]!;
    const code = /the code ([A-Z]{4}-[A-Z]{4})/.exec(stderr)![1]!;
    expect(url).toBe(`${server.url}/device?code=${code}`);

    const page = await (await browser.newContext()).newPage();
    await page.goto(url);
    await page.getByRole('link', { name: 'Sign in with Example SSO' }).click();
    await page.locator('input[name=login]').fill('kim');
    await page.locator('input[name=password]').fill('whatever');
    await page.locator('button[type=submit]').click();
    await page.waitForURL(`${server.url}/device?code=${code}`);
    await expect.poll(() => page.getByTestId('device-code').textContent()).toBe(code);
    await page.screenshot({ path: `${SHOTS}/device-approve-light.png` });
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Approved');

    expect(await exited).toBe(0);
    expect(stdout).toContain('logged in to');
    expect(stdout).toContain('as kim (responder)');
    const saved = JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8')) as { url: string; token: string };
    expect(saved.url).toBe(server.url);
    expect((fs.statSync(path.join(home, 'config.json')).mode & 0o777).toString(8)).toBe('600');
    const me = await server.api('GET', '/api/auth/me', { token: saved.token });
    expect(await me.json()).toMatchObject({ name: 'kim', role: 'responder' });

    // The new token is on kim's Tokens page, named for the CLI login; revoking it there stops it.
    await page.goto(`${server.url}/tokens`);
    const row = page.getByRole('table', { name: 'Your tokens' }).getByRole('row').filter({ hasText: 'bridgelog login' });
    await expect.poll(() => row.count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/tokens-light.png` });
    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: /Revoke/ }).click();
    await expect.poll(() => row.count()).toBe(0);
    expect((await server.api('GET', '/api/auth/me', { token: saved.token })).status).toBe(401);
  });

  it('hands out nothing before approval, and an approved login only once', async () => {
    const start = await (await server.api('POST', '/api/auth/device')).json() as { deviceCode: string; userCode: string };
    const poll = () => server.api('POST', '/api/auth/device/token', { body: { deviceCode: start.deviceCode } });
    expect((await poll()).status).toBe(202);
    expect((await server.api('POST', '/api/auth/device/token', { body: { deviceCode: 'bld_not-a-code' } })).status).toBe(410);
    // Approving needs someone signed in.
    expect((await server.api('POST', `/api/auth/device/${start.userCode}/approve`)).status).toBe(401);
    const lee = await server.createUser('viewer', 'lee');
    expect((await server.api('POST', `/api/auth/device/${start.userCode}/approve`, { token: lee.token })).status).toBe(204);
    expect((await server.api('POST', `/api/auth/device/${start.userCode}/approve`, { token: lee.token })).status).toBe(404);
    const first = await poll();
    expect(first.status).toBe(200);
    expect(((await first.json()) as { user: { name: string } }).user.name).toBe('lee');
    expect((await poll()).status).toBe(410);
  });
});
