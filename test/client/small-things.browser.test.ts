/**
 * The small things a responder at 3 am trips over (#16), in Chromium: counts say "1 entry"; the
 * elapsed counter moves each second; offline, an action says the server cannot be reached (not
 * "Failed to fetch") and linked alerts keep their names; "Export as of" takes 17:21:10 like every
 * other time field; the verdict button says what it does; the HTML report has no blank first row and
 * prints to a PDF that holds the report; "no such incident" links back; on a phone the log comes
 * before alerts and "what we know", and the replay's labels do not overlap.
 * Each test may take minutes under a loaded machine (several browsers at once), hence their 180 s limits.
 * Screenshots: /tmp/shots-admin/small-*.png.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entry, launchChromium, loggedInPage, logFromKeyboard, openIncident, startWebServer } from '../helpers/browser.js';
import { ADMIN_TOKEN, tempDataDir, type TestServer } from '../helpers/server.js';
import { patient } from '../helpers/patient-browser.js';

const SHOTS = '/tmp/shots-admin';
const password = 'small-things-matter-2026';
const alertTitle = 'BGP session down ams-rt01 to transit-2';
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

function hasPdftotext(): boolean {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The PDF's /Title (Chromium writes it from <title>, as UTF-16BE hex when it is not plain ASCII). */
function pdfTitle(pdf: Buffer): string | undefined {
  const raw = pdf.toString('latin1');
  const hex = /\/Title\s*<FEFF([0-9A-Fa-f]+)>/.exec(raw);
  if (hex) return Buffer.from(hex[1]!, 'hex').swap16().toString('utf16le');
  return /\/Title\s*\(([^)]*)\)/.exec(raw)?.[1];
}

describe('the small things', () => {
  let server: TestServer;
  let browser: Browser;
  let pia: Page;
  let incidentId: string;

  beforeAll(async () => {
    server = await startWebServer();
    await server.createUser('responder', 'pia', password);
    const integration = await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'nagios', kind: 'generic' } });
    const hookToken = ((await integration.json()) as { token: string }).token;
    await server.api('POST', '/api/hooks/generic', { token: hookToken, body: { title: alertTitle, labels: { site: 'ams' }, fingerprint: 'ams-bgp' } });
    incidentId = (await server.createIncident(ADMIN_TOKEN, { title: 'Transit loss at ams', alertMatchers: ['site=ams'] })).id;
    browser = patient(await launchChromium());
    pia = await loggedInPage(browser, server, 'pia', password, { colorScheme: 'light', acceptDownloads: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('says "1 entry", ticks the elapsed time each second, and names the verdict button for what it does', async () => {
    await openIncident(pia, server, incidentId);
    expect(await pia.getByTestId('entry-count').textContent()).toBe('0 entries');
    await logFromKeyboard(pia, { title: 'show bgp summary on ams-rt01' });
    await entry(pia, 'show bgp summary on ams-rt01').waitFor();
    expect(await pia.getByTestId('entry-count').textContent()).toBe('1 entry');
    // The counter shows seconds in the first minute: it must move between two readings, not every 15 s.
    const elapsed = pia.locator('.incident-header .elapsed');
    const first = await elapsed.textContent();
    expect(first).toMatch(/^\d+s elapsed$/);
    await expect.poll(() => elapsed.textContent(), { timeout: 10_000 }).not.toBe(first);
    expect(await entry(pia, 'show bgp summary on ams-rt01').getByRole('button', { name: 'Verdicts…' }).count()).toBe(1);
    expect(await pia.getByRole('button', { name: 'Evidence…' }).count()).toBe(0);
    // The export counts the same way.
    const md = await (await server.api('GET', `/api/incidents/${incidentId}/export?format=md`, { token: ADMIN_TOKEN })).text();
    expect(md).toContain('pia (1 entry, ');
    expect(md).not.toMatch(/\b1 entries\b/);
  }, 180_000);

  it('takes 17:21:10 in "Export as of" like every other time field, and refuses what is not a time', async () => {
    await openIncident(pia, server, incidentId);
    await pia.getByText('Export', { exact: true }).click();
    const asOf = pia.getByLabel('As of (UTC, empty = now)');
    // A moment after the incident was declared, as a bare time of day (the replay and the composer take it too).
    const moment = new Date(Date.now() - 1000).toISOString();
    const clock = moment.slice(11, 19);
    await asOf.fill(clock);
    const markdown = pia.getByRole('menuitem', { name: 'Markdown' });
    await expect.poll(() => markdown.getAttribute('href')).toContain(`&at=${encodeURIComponent(`${moment.slice(0, 19)}.000Z`)}`);
    expect(await pia.locator('.export-panel .hint').textContent()).toBe(`as of ${moment.slice(0, 10)} ${clock} UTC`);
    const res = await pia.request.get(`${server.url}${await markdown.getAttribute('href')}`);
    expect(res.status()).toBe(200);
    await asOf.fill('half past five');
    await expect.poll(() => pia.locator('.export-panel .error').textContent()).toContain('write the time as');
    expect(await markdown.getAttribute('href')).toBeNull();
    await pia.screenshot({ path: `${SHOTS}/small-export-light.png` });
    await asOf.fill('');
  }, 180_000);

  it('gives the HTML report a header row, not a blank one, and prints it to a PDF that holds the report', async () => {
    const html = await (await server.api('GET', `/api/incidents/${incidentId}/export?format=html`, { token: ADMIN_TOKEN })).text();
    const page = await browser.newPage();
    await page.setContent(html);
    const firstRow = await page.locator('table').first().locator('tr').first().locator('th, td').allTextContents();
    expect(firstRow.join('').trim()).not.toBe('');
    expect(firstRow).toEqual(['Fact', 'Value']);
    expect(html).toContain('@page');
    expect(html).toContain('@media print');
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(10_000);
    expect((pdf.toString('latin1').match(/\/Type\s*\/Page\b/g) ?? []).length).toBeGreaterThanOrEqual(1);
    if (hasPdftotext()) {
      const file = path.join(tempDataDir(), 'report.pdf');
      fs.writeFileSync(file, pdf);
      const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });
      for (const expected of ['Transit loss at ams', 'show bgp summary on ams-rt01', 'Severity', 'sev3']) expect(text).toContain(expected);
    } else {
      // Without pdftotext (poppler-utils) the text is compressed glyphs; the document's title names the incident.
      expect(pdfTitle(pdf)).toBe('Transit loss at ams — incident report');
    }
    await page.close();

    // The web app's PDF button prints that same report from a sandboxed frame (no script runs in it).
    await openIncident(pia, server, incidentId);
    await pia.getByText('Export', { exact: true }).click();
    await pia.getByRole('menuitem', { name: 'PDF (print)' }).click();
    const frame = pia.locator('iframe.print-frame');
    await expect.poll(() => frame.getAttribute('srcdoc')).toContain('Transit loss at ams');
    expect(await frame.getAttribute('sandbox')).toBe('allow-same-origin allow-modals');
    expect(await pia.locator('.export-panel [role="alert"]').count()).toBe(0);
  }, 180_000);

  it('offline: says the server cannot be reached, in words, and linked alerts keep their names', async () => {
    await openIncident(pia, server, incidentId);
    // Link the alert to the entry (online), so the page has its name.
    await entry(pia, 'show bgp summary on ams-rt01').getByRole('button', { name: 'Alerts…' }).click();
    await entry(pia, 'show bgp summary on ams-rt01').getByRole('listitem').filter({ hasText: alertTitle }).getByRole('button', { name: 'Link' }).click();
    await expect.poll(() => entry(pia, 'show bgp summary on ams-rt01').getByRole('list', { name: 'Linked alerts' }).textContent()).toContain(alertTitle);
    await expect.poll(() => pia.evaluate(() => navigator.serviceWorker.ready.then((r) => r.active?.state))).toBe('activated');

    await pia.context().setOffline(true);
    try {
      await offlineChecks();
    } finally {
      await pia.context().setOffline(false);
    }
  }, 180_000);

  async function offlineChecks() {
    await pia.getByLabel('Severity').selectOption('sev2');
    await expect.poll(() => pia.locator('.incident-facts [role="alert"]').textContent()).toBe(
      'Severity not changed: cannot reach the Bridgelog server (offline, or the server is down); try again once connected',
    );
    expect(await pia.content()).not.toContain('Failed to fetch');
    await pia.screenshot({ path: `${SHOTS}/small-offline-light.png` });
    // Through a reload while offline, the entry's alert still has its name.
    await pia.reload();
    await entry(pia, 'show bgp summary on ams-rt01').waitFor();
    await expect.poll(() => entry(pia, 'show bgp summary on ams-rt01').getByRole('list', { name: 'Linked alerts' }).textContent()).toContain(alertTitle);
  }

  it('links back from "no such incident"', async () => {
    await pia.goto(`${server.url}/incidents/no-such-incident`);
    await expect.poll(() => pia.getByRole('alert').textContent()).toContain('no such incident');
    await pia.getByRole('alert').getByRole('link', { name: 'All incidents' }).click();
    await pia.waitForURL(`${server.url}/`);
    await expect.poll(() => pia.getByRole('link', { name: 'Transit loss at ams' }).count()).toBe(1);
  }, 180_000);

  it('on a phone: the log before alerts and what we know; replay labels apart', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const phone = await loggedInPage(browser, server, 'pia', password, { ...PHONE, colorScheme });
      await openIncident(phone, server, incidentId);
      const top = async (selector: string) => (await phone.locator(selector).first().boundingBox())!.y;
      const log = await top('section.log');
      expect(await top('form.composer')).toBeLessThan(log);
      expect(log).toBeLessThan(await top('.side .what-we-know'));
      expect(log).toBeLessThan(await top('.side .alerts-panel'));
      await phone.screenshot({ path: `${SHOTS}/small-phone-${colorScheme}.png`, fullPage: true });
      await phone.getByRole('button', { name: 'Replay' }).click();
      const ends = phone.locator('.replay-ends span');
      await ends.first().waitFor();
      const [a, b] = [(await ends.nth(0).boundingBox())!, (await ends.nth(1).boundingBox())!];
      const apart = a.x + a.width <= b.x || a.y + a.height <= b.y;
      expect(apart).toBe(true);
      await phone.locator('.replay-ends').scrollIntoViewIfNeeded();
      await phone.screenshot({ path: `${SHOTS}/small-replay-phone-${colorScheme}.png` });
      await phone.close();
    }
  }, 180_000);
});
