/**
 * The web app in a real browser against a real server, as responders use it: first-run setup,
 * login, the live incident list, then two responders (separate browser contexts) logging tests from
 * the keyboard and seeing each other's within a second, editing one entry together, tracking
 * hypotheses, a viewer who can only read, and oversized text refused with a message.
 * Screenshots of each view go to /tmp/bridgelog-*.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Limits } from '../../shared/protocol.js';
import { startServer, type RunningServer } from '../../server/app.js';
import { configFromEnv } from '../../server/config.js';
import { clientDir, entry, launchChromium, logFromKeyboard } from '../helpers/browser.js';

const UTC_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/;
const incidentTitle = 'Checkout p99 latency over 2 s';
const alicePassword = 'correct horse battery staple';
const bobPassword = 'bob-on-call-2026';
const veraPassword = 'vera-reads-only-2026';
const aliceTest = 'p99 of checkout-api from the bastion';
const bobTest = 'connection pool of checkout-api';
const backfilled = 'deploy 4412 of checkout-api went out';
const hypothesis = 'connection pool exhausted since deploy 4412';

describe('web app', () => {
  let dataDir: string;
  let server: RunningServer;
  let browser: Browser;
  let alice: Page; // the first admin, in one browser context
  let bob: Page; // a responder, in another (separate cookies and IndexedDB)
  let aliceContext: BrowserContext;
  let incidentUrl: string;

  beforeAll(async () => {
    if (!fs.existsSync(path.join(clientDir, 'index.html'))) throw new Error('dist/client is missing: run `npm run build` first');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-web-'));
    server = await startServer(configFromEnv({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, clientDir));
    browser = await launchChromium();
    aliceContext = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'dark' });
    alice = await aliceContext.newPage();
    bob = await (await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' })).newPage();
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

  it('shows an incident one responder opens, and its status changes, in the other’s list, live', async () => {
    await alice.getByLabel('Title').fill(incidentTitle);
    await alice.getByLabel('Severity').selectOption('sev2');
    await alice.getByRole('button', { name: 'Open incident' }).click();
    // Creating an incident opens it (#16); back to the list for what follows.
    await alice.waitForURL(/\/incidents\/[^/]+$/);
    await expect.poll(() => alice.getByRole('heading', { level: 1 }).textContent()).toBe(incidentTitle);
    await alice.getByRole('link', { name: 'Incidents' }).click();

    const row = bob.getByRole('row').filter({ hasText: incidentTitle });
    await row.waitFor();
    const text = (await row.textContent())!;
    for (const shown of ['sev2', 'investigating']) expect(text).toContain(shown);
    expect(text).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?Z/);
    const link = alice.getByRole('link', { name: incidentTitle });
    incidentUrl = `${server.url}${await link.getAttribute('href')}`;
    const id = incidentUrl.split('/').pop();
    await aliceContext.request.patch(`${server.url}/api/incidents/${id}`, { data: { status: 'identified' } });
    await expect.poll(() => row.textContent()).toContain('identified');
    await alice.screenshot({ path: '/tmp/bridgelog-list.png', fullPage: true });
  });

  it('lets two responders log tests from the keyboard, each seeing the other’s within a second', async () => {
    await alice.getByRole('link', { name: incidentTitle }).click();
    await bob.getByRole('link', { name: incidentTitle }).click();
    await expect.poll(() => alice.getByRole('heading', { level: 1 }).textContent()).toBe(incidentTitle);
    await expect.poll(() => alice.getByTestId('save-state').textContent()).toBe('Saved');
    await expect.poll(() => bob.getByTestId('save-state').textContent()).toBe('Saved');
    await expect.poll(() => alice.getByRole('list', { name: 'On this incident' }).textContent()).toBe('alice (you)bob');

    // "Within a second" counts from the moment Alice submits, not from when she starts typing.
    let sent = await logFromKeyboard(alice, {
      title: aliceTest,
      command: "curl -s -o /dev/null -w '%{time_total}\\n' https://checkout.internal/health",
      observations: '**2.41 s**, 2.38 s, 2.52 s\n- the health endpoint itself is slow',
      conclusion: 'the slowness is inside checkout-api',
    });
    await entry(bob, aliceTest).waitFor({ timeout: 5000 });
    expect(Date.now() - sent).toBeLessThan(1000);
    await expect.poll(() => alice.getByTestId('save-state').textContent()).toBe('Saved');
    expect(await alice.getByRole('form', { name: 'New entry' }).getByLabel('Title').inputValue()).toBe('');

    // Bob sees it as written: UTC time (local on hover), the author the server attributed, rendered Markdown.
    const seenByBob = entry(bob, aliceTest);
    expect(await seenByBob.locator('.ran-at').textContent()).toMatch(UTC_TIME);
    expect(await seenByBob.locator('.ran-at').getAttribute('title')).toContain('local time');
    await expect.poll(() => seenByBob.locator('.byline').textContent()).toBe('by alice');
    expect(await seenByBob.locator('.command code').textContent()).toBe("curl -s -o /dev/null -w '%{time_total}\\n' https://checkout.internal/health");
    expect(await seenByBob.locator('strong').textContent()).toBe('2.41 s');
    expect(await seenByBob.getByRole('listitem').textContent()).toBe('the health endpoint itself is slow');

    sent = await logFromKeyboard(bob, { title: bobTest, observations: 'pool at 50/50, 212 waiters' });
    await entry(alice, bobTest).waitFor({ timeout: 5000 });
    expect(Date.now() - sent).toBeLessThan(1000);
    await expect.poll(() => entry(alice, bobTest).locator('.byline').textContent()).toBe('by bob');

    // A test run earlier goes where it happened in the log, not where it was typed.
    await bob.keyboard.press('Escape');
    await bob.keyboard.press('n');
    await bob.keyboard.type(backfilled);
    await bob.getByLabel('Ran at (UTC)').fill('-30m');
    await bob.keyboard.press('Control+Enter');
    await entry(alice, backfilled).waitFor();
    expect(await alice.locator('article.entry').evaluateAll((all) => all.map((a) => a.getAttribute('aria-label')))).toEqual([backfilled, aliceTest, bobTest]);
    await expect.poll(() => entry(alice, backfilled).locator('.byline').textContent()).toMatch(/^by bob · logged \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  });

  it('edits one entry together: live text, remote cursors with names, who is editing, who edited', async () => {
    await entry(bob, aliceTest).click();
    await bob.locator('body').press('e');
    const observations = bob.locator('.cm-content[aria-label="Observations"]');
    await expect.poll(() => observations.evaluate((el) => el === document.activeElement)).toBe(true);
    await expect.poll(() => entry(alice, aliceTest).locator('.editing-now').textContent()).toContain('bob is editing');

    await bob.keyboard.press('Control+End');
    await bob.keyboard.type('\nretested from app03: same');
    await expect.poll(() => entry(alice, aliceTest).locator('.markdown').first().textContent()).toContain('retested from app03: same');

    await entry(alice, aliceTest).getByRole('button', { name: 'Edit' }).click();
    await expect.poll(() => alice.locator('.cm-ySelectionInfo').textContent()).toBe('bob');
    await alice.screenshot({ path: '/tmp/bridgelog-editing-together.png' });

    await bob.keyboard.press('Control+Enter');
    await alice.keyboard.press('Escape');
    await expect.poll(() => entry(alice, aliceTest).locator('.byline').textContent()).toBe('by alice · edited by bob');
    expect(await entry(alice, aliceTest).locator('.editing-now').count()).toBe(0);
  });

  it('tracks hypotheses and their evidence in “What we know”', async () => {
    await alice.locator('body').press('h');
    await expect.poll(() => alice.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('statement');
    await alice.keyboard.type(hypothesis);
    await alice.keyboard.press('Enter');
    const known = (page: Page) => page.getByRole('region', { name: 'What we know' });
    const hypothesisOn = (page: Page) => known(page).getByRole('listitem', { name: hypothesis });
    await hypothesisOn(bob).waitFor();

    await entry(bob, bobTest).getByRole('button', { name: 'Verdicts…' }).click();
    await entry(bob, bobTest).getByLabel(hypothesis).selectOption('supports');
    await entry(bob, bobTest).getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => hypothesisOn(alice).textContent()).toContain(`For (1)${bobTest}`);
    await expect.poll(() => entry(alice, bobTest).locator('.verdict').textContent()).toBe(`supports “${hypothesis}”`);

    await hypothesisOn(alice).getByRole('combobox').selectOption('supported');
    await expect.poll(() => hypothesisOn(bob).getByRole('combobox').inputValue()).toBe('supported');
    await expect.poll(() => known(bob).locator('.conclusions').textContent()).toContain('the slowness is inside checkout-api');

    // Following the evidence: the entry is shown and selected in the log.
    await hypothesisOn(alice).getByRole('button', { name: bobTest }).click();
    await expect.poll(() => entry(alice, bobTest).getAttribute('aria-current')).toBe('true');
    await alice.screenshot({ path: '/tmp/bridgelog-incident-dark.png' });
    await bob.screenshot({ path: '/tmp/bridgelog-incident-light.png' });
  });

  it('lets a viewer read along live, and nothing more', async () => {
    const created = await aliceContext.request.post(`${server.url}/api/users`, { data: { name: 'vera', role: 'viewer', password: veraPassword } });
    expect(created.status()).toBe(201);
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    expect((await context.request.post(`${server.url}/api/auth/login`, { data: { name: 'vera', password: veraPassword } })).status()).toBe(200);
    const vera = await context.newPage();
    await vera.goto(incidentUrl);
    await entry(vera, aliceTest).waitFor();
    await expect.poll(() => vera.getByTestId('save-state').textContent()).toBe('Saved');
    await expect.poll(() => entry(vera, aliceTest).locator('.byline').textContent()).toBe('by alice · edited by bob');

    expect(await vera.getByRole('form').count()).toBe(0);
    expect(await vera.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    // Nothing to change: the only combobox is the search box (reading is what a viewer does).
    expect(await vera.getByRole('combobox').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))).toEqual(['Search this incident']);
    expect(await vera.locator('.banner').textContent()).toContain('You are a viewer');
    await vera.locator('body').press('n');
    await vera.locator('body').press('e');
    expect(await vera.locator('.cm-editor').count()).toBe(0);

    await logFromKeyboard(alice, { title: 'restarted checkout-api pods', conclusion: 'p99 back to 180 ms' });
    await entry(vera, 'restarted checkout-api pods').waitFor();
    await expect.poll(() => vera.getByRole('list', { name: 'On this incident' }).textContent()).toContain('vera (you)');
    await vera.screenshot({ path: '/tmp/bridgelog-viewer.png' });
    await context.close();
  });

  it('refuses oversized text with a message, and keeps what was typed', async () => {
    const form = alice.getByRole('form', { name: 'New entry' });
    const huge = 'x'.repeat(Limits.maxFieldChars + 1);
    await form.getByLabel('Title').fill('full tcpdump output');
    await form.getByLabel('Observations').fill(huge);
    await form.getByRole('button', { name: 'Add entry' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toContain('Observations is 200,001 characters; the limit is 200,000');
    expect((await form.getByLabel('Observations').inputValue()).length).toBe(Limits.maxFieldChars + 1);
    expect(await entry(alice, 'full tcpdump output').count()).toBe(0);

    await form.getByLabel('Observations').fill('');
    await form.getByLabel('Title').fill('t'.repeat(Limits.maxTitleChars + 1));
    await form.getByRole('button', { name: 'Add entry' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toContain('The title is 301 characters; the limit is 300');
    await form.getByLabel('Title').fill('');

    // Pasting too much into a collaborative field changes nothing and says why.
    await entry(alice, bobTest).getByRole('button', { name: 'Edit' }).click();
    const editor = alice.getByRole('group', { name: `Editing ${bobTest}` });
    await editor.locator('.cm-content[aria-label="Conclusion"]').click();
    await alice.keyboard.insertText(huge);
    await expect.poll(() => editor.getByRole('alert').textContent()).toContain('Conclusion would be 200,001 characters; the limit is 200,000');
    expect(await editor.locator('.cm-content[aria-label="Conclusion"] .cm-placeholder').count()).toBe(1); // still empty
    await alice.keyboard.press('Escape');
    await expect.poll(() => alice.getByTestId('save-state').textContent()).toBe('Saved');
  });

  it('switches between dark and light, and fits a phone', async () => {
    const themeOf = () => alice.evaluate(() => document.documentElement.dataset.theme);
    expect(await themeOf()).toBe('dark');
    await alice.locator('body').press('t');
    expect(await themeOf()).toBe('light');
    await alice.locator('body').press('t');
    expect(await themeOf()).toBe('dark');

    await alice.locator('body').press('?');
    await alice.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await alice.screenshot({ path: '/tmp/bridgelog-shortcuts.png' });
    await alice.keyboard.press('Escape');

    await bob.setViewportSize({ width: 390, height: 844 });
    const overflow = await bob.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await bob.screenshot({ path: '/tmp/bridgelog-phone.png' });
    await bob.getByTestId('entry-count').evaluate((el) => el.scrollIntoView());
    await entry(bob, aliceTest).waitFor();
    await bob.screenshot({ path: '/tmp/bridgelog-phone-log.png' });
  });
});
