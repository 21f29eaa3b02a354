/**
 * Keyboard safety and a whole incident from the keyboard (#16), in Chromium. One responder runs an
 * incident with no mouse — declares it, logs three tests, links an alert, adds a hypothesis and a
 * verdict, raises the severity, resolves it and exports it — while another watches it live. Then
 * what must never happen: a URL typed on a focused button runs no shortcut, a key pressed twice
 * creates one thing, `e` puts the caret at the end, Escape goes back to the entry.
 * Each test may take minutes under a loaded machine (several browsers at once), hence their 180 s limits.
 * Screenshots: /tmp/shots-admin/keyboard-*.png.
 */
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entry, launchChromium, loggedInPage, openIncident, startWebServer } from '../helpers/browser.js';
import { ADMIN_TOKEN, type TestServer } from '../helpers/server.js';
import { patient } from '../helpers/patient-browser.js';

const SHOTS = '/tmp/shots-admin';
const password = 'keyboard-only-on-call-2026';
const alertTitle = 'Output discards rising on ny-sw01 Gi1/0/12';

/** Presses Tab until the focused element matches `selector` (at most `max` presses): how a keyboard user gets there. */
async function tabTo(page: Page, selector: string, max = 80, text?: string): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const here = await page.evaluate(([s, t]) => {
      const el = document.activeElement;
      return Boolean(el?.matches(s!) && (t === undefined || el.textContent?.trim() === t));
    }, [selector, text]);
    if (here) return;
  }
  throw new Error(`Tab never reached ${selector}${text ? ` “${text}”` : ''}`);
}

const focused = (page: Page) => page.evaluate(() => {
  const el = document.activeElement;
  return el ? `${el.tagName.toLowerCase()}${el.getAttribute('data-entry-id') ? `[entry]` : ''}:${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40) ?? ''}` : '';
});

/** Logs a test with keys only: Escape, n, the title, Ctrl+Enter. */
async function logTest(page: Page, title: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('n');
  await page.keyboard.type(title);
  await page.keyboard.press('Control+Enter');
  await entry(page, title).waitFor();
}

describe('the keyboard', () => {
  let server: TestServer;
  let browser: Browser;
  let kim: Page; // keys only
  let lee: Page; // watches
  let incidentUrl: string;

  beforeAll(async () => {
    server = await startWebServer();
    await server.createUser('responder', 'kim', password);
    await server.createUser('responder', 'lee', password);
    const integration = await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'nagios', kind: 'generic' } });
    const hookToken = ((await integration.json()) as { token: string }).token;
    const hook = await server.api('POST', '/api/hooks/generic', { token: hookToken, body: { title: alertTitle, labels: { site: 'ny', device: 'ny-sw01' }, fingerprint: 'ny-sw01-discards' } });
    expect(hook.status).toBe(200);
    browser = patient(await launchChromium());
    kim = await loggedInPage(browser, server, 'kim', password, { colorScheme: 'dark', acceptDownloads: true });
    lee = await loggedInPage(browser, server, 'lee', password, { colorScheme: 'light' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs a whole incident with no mouse: declare, three tests, an alert, a hypothesis and verdict, sev1, resolved, export', async () => {
    const title = 'Checkout latency at ny';
    await kim.goto(server.url);
    await tabTo(kim, 'form[aria-label="New incident"] input[name="title"]');
    await kim.keyboard.type(title);
    await kim.keyboard.press('Enter');
    // Creating an incident opens it.
    await kim.waitForURL(/\/incidents\/[^/]+$/);
    incidentUrl = kim.url();
    await expect.poll(() => kim.getByTestId('save-state').textContent()).toBe('Saved');
    await lee.goto(incidentUrl);
    await expect.poll(() => lee.getByTestId('save-state').textContent()).toBe('Saved');

    // The first test links the alert from the composer's suggestions: Tab to its Link, Enter, Ctrl+Enter.
    await kim.keyboard.press('Escape');
    await kim.keyboard.press('n');
    await kim.keyboard.type('ping ny-db01 from ny-app03');
    await tabTo(kim, 'form[aria-label="New entry"] button', 40, 'Link');
    await kim.keyboard.press('Enter');
    await kim.keyboard.press('Control+Enter');
    await entry(kim, 'ping ny-db01 from ny-app03').waitFor();
    await logTest(kim, 'iperf3 ny-app03 to ny-db01');
    await logTest(kim, 'show interface Gi1/0/12 on ny-sw01');
    await expect.poll(() => lee.getByTestId('entry-count').textContent()).toBe('3 entries');
    await expect.poll(() => entry(lee, 'ping ny-db01 from ny-app03').getByRole('list', { name: 'Linked alerts' }).textContent()).toContain(alertTitle);

    // A hypothesis: h, type, Enter; Escape leaves the field.
    await kim.keyboard.press('Escape');
    await kim.keyboard.press('h');
    await kim.keyboard.type('uplink microbursts drop packets');
    await kim.keyboard.press('Enter');
    await kim.keyboard.press('Escape');
    await expect.poll(() => lee.getByRole('region', { name: 'What we know' }).getByRole('listitem', { name: 'uplink microbursts drop packets' }).count()).toBe(1);

    // A verdict: j selects (and focuses) an entry, Tab to Verdicts…, Enter, s picks "supports", Escape.
    await kim.keyboard.press('G');
    await expect.poll(() => focused(kim)).toBe('article[entry]:show interface Gi1/0/12 on ny-sw01');
    await tabTo(kim, 'article[data-entry-id] button[title^="What this entry says"]', 30);
    await kim.keyboard.press('Enter');
    await kim.keyboard.type('s');
    await expect.poll(() => entry(lee, 'show interface Gi1/0/12 on ny-sw01').locator('.verdict').textContent()).toBe('supports “uplink microbursts drop packets”');
    await kim.keyboard.press('Escape');

    // Severity: s, 1.
    await kim.keyboard.press('Escape');
    await kim.keyboard.press('s');
    await kim.keyboard.press('1');
    await expect.poll(() => lee.getByLabel('Severity').inputValue()).toBe('sev1');
    await kim.keyboard.press('Escape');

    // Resolve: Tab to the status, r (resolved).
    await tabTo(kim, 'select[aria-label="Status"]');
    await kim.keyboard.type('r');
    await expect.poll(() => lee.locator('select[aria-label="Status"]').inputValue()).toBe('resolved');
    await kim.keyboard.press('Escape');
    await kim.screenshot({ path: `${SHOTS}/keyboard-incident-dark.png` });

    // Export: Tab to Export, Enter, Tab past "as of" to Markdown, Enter.
    await tabTo(kim, 'summary');
    await kim.keyboard.press('Enter');
    await tabTo(kim, '.export-panel a[role="menuitem"]');
    const download = kim.waitForEvent('download');
    await kim.keyboard.press('Enter');
    const file = await (await download).path();
    const markdown = fs.readFileSync(file!, 'utf8');
    for (const expected of [title, '| Severity | sev1 |', '| Status | resolved |', 'ping ny-db01 from ny-app03', 'iperf3 ny-app03 to ny-db01', 'show interface Gi1/0/12 on ny-sw01', 'uplink microbursts drop packets', alertTitle]) {
      expect(markdown).toContain(expected);
    }
    await lee.screenshot({ path: `${SHOTS}/keyboard-incident-light.png` });
  }, 180_000);

  it('never runs a shortcut from a focused button, never creates twice, puts the caret at the end and Escape back on the entry', async () => {
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'Keys that must do nothing' });
    await openIncident(kim, server, incident.id);
    await openIncident(lee, server, incident.id);
    const theme = () => kim.evaluate(() => document.documentElement.dataset.theme);
    const themeBefore = await theme();
    const hypotheses = () => kim.getByRole('region', { name: 'What we know' }).getByRole('listitem').count();
    const before = await hypotheses();

    // A URL typed while a button has the focus: no h (hypothesis), no t (theme), no n (composer).
    await tabTo(kim, 'button', 80, 'Latest ↓');
    await kim.keyboard.type('https://grafana.example.com/d/ny?th=1&n=2');
    expect(await focused(kim)).toBe('button:Latest ↓');
    expect(await theme()).toBe(themeBefore);
    expect(await hypotheses()).toBe(before);
    expect(await kim.locator('form[aria-label="New entry"] input[name="title"]').inputValue()).toBe('');

    // The composer's Ctrl+Enter twice at once: one entry.
    const count = async () => Number((await kim.getByTestId('entry-count').textContent())!.split(' ')[0]);
    const entriesBefore = await count();
    await kim.keyboard.press('Escape');
    await kim.keyboard.press('n');
    await kim.keyboard.type('traceroute ny-app03 to ny-db01');
    await kim.keyboard.down('Control');
    await kim.keyboard.press('Enter');
    await kim.keyboard.press('Enter');
    await kim.keyboard.up('Control');
    await entry(kim, 'traceroute ny-app03 to ny-db01').waitFor();
    await expect.poll(count).toBe(entriesBefore + 1);
    expect(await kim.getByRole('article', { name: 'traceroute ny-app03 to ny-db01' }).count()).toBe(1);
    // Two submits in one task, as a key repeat can come before the page has rendered again: still one.
    await kim.keyboard.press('Escape');
    await kim.keyboard.press('n');
    await kim.keyboard.type('arping ny-db01');
    await kim.evaluate(() => {
      const form = document.querySelector<HTMLFormElement>('form[aria-label="New entry"]')!;
      form.requestSubmit();
      form.requestSubmit();
    });
    await entry(kim, 'arping ny-db01').waitFor();
    await expect.poll(count).toBe(entriesBefore + 2);
    expect(await kim.getByRole('article', { name: 'arping ny-db01' }).count()).toBe(1);

    // Add (a button) pressed with Enter and Space at once: one hypothesis.
    await kim.keyboard.press('Escape');
    await kim.keyboard.press('h');
    await kim.keyboard.type('a deploy changed the pool size');
    await kim.keyboard.press('Tab');
    expect(await focused(kim)).toBe('button:Add');
    await kim.keyboard.press('Enter');
    await kim.keyboard.press(' ');
    await expect.poll(() => kim.getByRole('region', { name: 'What we know' }).getByRole('listitem', { name: 'a deploy changed the pool size' }).count()).toBe(1);
    expect(await hypotheses()).toBe(before + 1);

    // e: the caret at the end of the observations; Escape: back on the entry.
    await kim.keyboard.press('Escape');
    await kim.keyboard.press('n');
    await kim.keyboard.type('mtr ny-app03 to ny-db01');
    await tabTo(kim, 'form[aria-label="New entry"] [aria-label="Observations"], form[aria-label="New entry"] textarea[name="observations"]', 10);
    await kim.keyboard.type('loss starts at hop 4');
    await kim.keyboard.press('Control+Enter');
    await entry(kim, 'mtr ny-app03 to ny-db01').waitFor();
    await kim.keyboard.press('Escape');
    await kim.keyboard.press('G');
    await expect.poll(() => focused(kim)).toBe('article[entry]:mtr ny-app03 to ny-db01');
    await kim.keyboard.press('e');
    await expect.poll(() => focused(kim)).toMatch(/^div:Observations/);
    await kim.keyboard.type(', not before');
    await kim.screenshot({ path: `${SHOTS}/keyboard-editing-dark.png` });
    await kim.keyboard.press('Escape');
    await expect.poll(() => focused(kim)).toBe('article[entry]:mtr ny-app03 to ny-db01');
    await expect.poll(() => entry(lee, 'mtr ny-app03 to ny-db01').getByRole('region', { name: 'Observations' }).textContent()).toContain('loss starts at hop 4, not before');
  }, 180_000);
});
