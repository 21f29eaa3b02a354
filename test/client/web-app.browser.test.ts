/**
 * The web app in a real browser against a real server: first-run setup, login, the live incident
 * list, and an entry that is saved and shows up for a second responder without a reload.
 * Uses the built app in dist/client: run `npm run build` first (`npm test` does).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/app.js';
import { configFromEnv } from '../../server/config.js';

const clientDir = path.resolve('dist/client');
const CHROMIUM = '/usr/bin/chromium';
const UTC_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/;
const incidentTitle = 'Checkout p99 latency over 2 s';
const alicePassword = 'correct horse battery staple';
const bobPassword = 'bob-on-call-2026';

describe('web app', () => {
  let dataDir: string;
  let server: RunningServer;
  let browser: Browser;
  let alice: Page; // the first admin, in one browser context
  let bob: Page; // a responder, in another (separate cookies)
  let aliceContext: BrowserContext;

  beforeAll(async () => {
    if (!fs.existsSync(path.join(clientDir, 'index.html'))) throw new Error('dist/client is missing: run `npm run build` first');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-web-'));
    server = await startServer(configFromEnv({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, clientDir));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    aliceContext = await browser.newContext();
    alice = await aliceContext.newPage();
    bob = await (await browser.newContext()).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the first admin through the setup link, showing the server’s message on bad input', async () => {
    expect(server.setupUrl).toBeDefined();
    await alice.goto(server.setupUrl!);
    await alice.getByLabel('Name').fill('alice smith');
    await alice.getByLabel('Password').fill(alicePassword);
    await alice.getByRole('button', { name: 'Create administrator' }).click();
    await expect.poll(() => alice.getByRole('alert').textContent()).toContain('letters, digits and . _ @ - only');

    await alice.getByLabel('Name').fill('alice');
    await alice.getByRole('button', { name: 'Create administrator' }).click();
    await alice.waitForURL(`${server.url}/`);
    await expect.poll(() => alice.getByTestId('current-user').textContent()).toBe('alice admin');
  });

  it('sends a visitor without a session to the login page, and refuses a wrong password', async () => {
    const created = await aliceContext.request.post(`${server.url}/api/users`, { data: { name: 'bob', role: 'responder', password: bobPassword } });
    expect(created.status()).toBe(201);

    await bob.goto(`${server.url}/`);
    await bob.waitForURL(`${server.url}/login`);
    await bob.getByLabel('Name').fill('bob');
    await bob.getByLabel('Password').fill('not-his-password');
    await bob.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => bob.getByRole('alert').textContent()).toBe('wrong name or password');

    await bob.getByLabel('Password').fill(bobPassword);
    await bob.getByRole('button', { name: 'Log in' }).click();
    await bob.waitForURL(`${server.url}/`);
    await expect.poll(() => bob.getByTestId('current-user').textContent()).toBe('bob responder');
  });

  it('shows an incident one responder opens in the other’s list, live', async () => {
    await alice.getByLabel('Title').fill(incidentTitle);
    await alice.getByLabel('Severity').selectOption('sev2');
    await alice.getByRole('button', { name: 'Open incident' }).click();

    const row = bob.getByRole('listitem').filter({ hasText: incidentTitle });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/sev2\s*investigating\s*\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z/);
    await expect.poll(() => alice.getByRole('link', { name: incidentTitle }).count()).toBe(1);
    await alice.screenshot({ path: '/tmp/bridgelog-list.png', fullPage: true });
  });

  it('saves an entry and shows it to the other responder as it is added', async () => {
    await alice.getByRole('link', { name: incidentTitle }).click();
    await bob.getByRole('link', { name: incidentTitle }).click();
    await expect.poll(() => alice.getByRole('heading', { level: 1 }).textContent()).toBe(incidentTitle);
    await expect.poll(() => alice.getByTestId('save-state').textContent()).toBe('Saved');
    await expect.poll(() => bob.getByTestId('save-state').textContent()).toBe('Saved');

    const form = alice.getByRole('form', { name: 'New entry' });
    await form.getByLabel('Kind').selectOption('test');
    await form.getByLabel('Title').fill('p99 of checkout-api from the bastion');
    await form.getByLabel('Command').fill("curl -s -o /dev/null -w '%{time_total}\\n' https://checkout.internal/health");
    await form.getByLabel('Observations').fill('2.41 s, 2.38 s, 2.52 s\nhealth endpoint itself is slow, so not the load balancer');
    await form.getByLabel('Conclusion', { exact: true }).fill('the slowness is inside checkout-api');
    await form.getByRole('button', { name: 'Add entry' }).click();

    const entry = alice.getByRole('article', { name: 'p99 of checkout-api from the bastion' });
    await entry.waitFor();
    await expect.poll(() => alice.getByTestId('save-state').textContent()).toBe('Saved');
    expect(await entry.locator('time').textContent()).toMatch(UTC_TIME);
    expect(await form.getByLabel('Title').inputValue()).toBe('');

    const seenByBob = bob.getByRole('article', { name: 'p99 of checkout-api from the bastion' });
    await seenByBob.waitFor();
    expect(await seenByBob.locator('code').textContent()).toBe("curl -s -o /dev/null -w '%{time_total}\\n' https://checkout.internal/health");
    expect(await seenByBob.textContent()).toContain('the slowness is inside checkout-api');

    await bob.getByRole('form', { name: 'New entry' }).getByLabel('Kind').selectOption('note');
    await bob.getByRole('form', { name: 'New entry' }).getByLabel('Title').fill('deploy 4412 of checkout-api went out at 06:02Z');
    await bob.getByRole('button', { name: 'Add entry' }).click();
    await alice.getByRole('article', { name: 'deploy 4412 of checkout-api went out at 06:02Z' }).waitFor();
    await expect.poll(() => bob.getByTestId('save-state').textContent()).toBe('Saved');
    await alice.screenshot({ path: '/tmp/bridgelog-incident.png', fullPage: true });
  });
});
