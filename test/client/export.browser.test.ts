/** The Export menu: a responder downloads the report from the incident page, now or as of a moment. */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, loggedInPage, logFromKeyboard, openIncident, entry, startWebServer } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  server = await startWebServer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('export from the incident page', () => {
  it('downloads the Markdown report with the entry just logged, and refuses a malformed time', async () => {
    const user = await server.createUser('responder', 'exporter', 'exporter-passphrase');
    const incident = await server.createIncident(user.token, { title: 'Export drill' });
    const page = await loggedInPage(browser, server, 'exporter', 'exporter-passphrase', { acceptDownloads: true });
    await openIncident(page, server, incident.id);
    await logFromKeyboard(page, { title: 'mtr to db01', command: 'mtr -rwc 50 db01' });
    await expect.poll(() => entry(page, 'mtr to db01').count()).toBe(1);
    await expect.poll(() => page.getByTestId('save-state').textContent()).toBe('Saved');

    await page.getByText('Export', { exact: true }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Markdown' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^incident-.*\.md$/);
    const md = fs.readFileSync((await download.path())!, 'utf8');
    expect(md).toContain('# Export drill');
    expect(md).toContain('mtr -rwc 50 db01');
    expect(md).toMatch(/by exporter/);

    await page.getByLabel('As of (UTC, empty = now)').fill('yesterday-ish');
    // The same parser and message as every other UTC time field (#16).
    await expect.poll(() => page.getByText('write the time as 06:12, 2026-03-04 06:12:30Z or -15m').count()).toBe(1);
    expect(await page.getByRole('menuitem', { name: 'Markdown' }).getAttribute('href')).toBeNull();
    await page.screenshot({ path: '/tmp/bridgelog-export-menu.png' });
  });
});
