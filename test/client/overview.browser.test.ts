/**
 * The incidents overview and the trends page (#18 item 5) in Chromium: filtering and sorting the list
 * (the filters in the URL, so the view can be shared), durations with "—" and the problem as a
 * tooltip, a new incident arriving live, then the trends charts and their CSV; screenshots in light,
 * dark and a phone's layout go to test-results/overview-*.png and trends-*.png.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, loggedInPage, startWebServer } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { seedMilestones } from '../helpers/milestones-seed.js';

const MIN = 60_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

let server: TestServer;
let browser: Browser;
let lead: { id: string; token: string };
const now = Date.now();

/**
 * An incident declared `daysAgo` days ago (the record's creation time moved back by hand: nothing in
 * the API back-dates a declaration) with milestones relative to that moment, in minutes.
 */
async function seed(title: string, severity: string, daysAgo: number, marks: Record<string, number>, status?: string): Promise<string> {
  const { id } = await server.createIncident(lead.token, { title, severity });
  const declared = now - daysAgo * DAY;
  if (Object.keys(marks).length) {
    await seedMilestones(server, lead.token, id, Object.fromEntries(Object.entries(marks).map(([name, minutes]) => [name, iso(declared + minutes * MIN)])));
  }
  if (status) expect((await server.api('PATCH', `/api/incidents/${id}`, { token: lead.token, body: { status } })).status).toBe(200);
  await server.store.updateIncident(id, { createdAt: iso(declared) });
  return id;
}

beforeAll(async () => {
  server = await startWebServer();
  browser = await launchChromium();
  lead = await server.createUser('responder', 'dana', 'a long passphrase');
  const full = (detect: number, mitigate: number, resolve: number) => ({ impactStarted: -5, detected: -5 + detect, mitigated: -5 + mitigate, resolved: -5 + resolve });
  await seed('Packet loss on ny-sw01 uplink', 'sev2', 26, full(4, 35, 80), 'resolved');
  await seed('Checkout latency p99 over 2 s', 'sev1', 24, full(2, 18, 50), 'resolved');
  await seed('BGP session flapping to AS64500', 'sev1', 19, full(9, 60, 140), 'resolved');
  await seed('DNS SERVFAIL in ams', 'sev3', 17, full(15, 45, 300), 'resolved');
  await seed('TLS certificate expired on api-gw', 'sev2', 12, full(1, 12, 25), 'resolved');
  await seed('Disk full on logs01', 'sev4', 10, {}, 'resolved');
  await seed('Packet loss on fra-edge2', 'sev2', 5, full(6, 22, 95), 'resolved');
  await seed('Login errors after deploy 4.12', 'sev1', 3, full(3, 9, 30), 'resolved');
  await seed('Elevated 5xx on search', 'sev2', 0.05, { impactStarted: -20, detected: -14 }, 'identified');
  await seed('Packet loss on ams-core1', 'sev3', 0.02, {});
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const rows = (page: Page) => page.locator('.overview-table tbody tr');
const titles = (page: Page) => page.locator('.overview-table tbody tr .incident-title').allTextContents();

async function trendsDrawn(page: Page): Promise<void> {
  await expect.poll(() => page.locator('.trend-chart canvas').count(), { timeout: 10_000 }).toBe(4);
  await page.waitForTimeout(150);
}

describe('the incidents overview and trends', () => {
  it('filters and sorts the list through the URL, shows durations, updates live, and opens the trends with their CSV', async () => {
    const page = await loggedInPage(browser, server, 'dana', 'a long passphrase', { colorScheme: 'light' });
    await page.goto(server.url);
    await expect.poll(() => rows(page).count()).toBe(10);

    // Durations: a known one formatted, a running one marked, an unknown one "—" with the problem as tooltip.
    const bgp = page.locator('tr', { hasText: 'BGP session flapping' });
    expect(await bgp.locator('[data-duration=timeToDetect]').textContent()).toBe('9m 00s');
    expect(await bgp.locator('[data-duration=timeToResolve]').textContent()).toBe('2h 20m');
    const disk = page.locator('tr', { hasText: 'Disk full on logs01' });
    expect((await disk.locator('[data-duration=timeToMitigate]').textContent())?.startsWith('—')).toBe(true);
    expect(await disk.locator('[data-duration=timeToMitigate] .ov-duration').getAttribute('title')).toBe('impact started is not set');
    const search5xx = page.locator('tr', { hasText: 'Elevated 5xx on search' });
    expect(await search5xx.locator('[data-duration=timeToResolve] .ov-duration').getAttribute('class')).toContain('running');

    // Filters: severity chips, then text; each lands in the URL.
    await page.getByRole('search', { name: 'Filter incidents' }).getByText('sev1', { exact: true }).click();
    await expect.poll(() => titles(page)).toEqual(['Login errors after deploy 4.12', 'BGP session flapping to AS64500', 'Checkout latency p99 over 2 s']);
    expect(new URL(page.url()).searchParams.get('severity')).toBe('sev1');
    await page.getByRole('search', { name: 'Filter incidents' }).getByText('sev2', { exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill('packet loss');
    await expect.poll(() => titles(page)).toEqual(['Packet loss on fra-edge2', 'Packet loss on ny-sw01 uplink']);
    expect(new URL(page.url()).searchParams.get('q')).toBe('packet loss');
    expect(await page.getByTestId('incident-count').textContent()).toBe('2 incidents match');

    // Sort by time to resolve (a header click: longest first), then by the select: shortest first.
    await page.getByRole('search', { name: 'Filter incidents' }).getByText('sev2', { exact: true }).click();
    await page.getByRole('search', { name: 'Filter incidents' }).getByText('sev1', { exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill('');
    await expect.poll(() => rows(page).count()).toBe(10);
    await page.getByRole('button', { name: 'TTR' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('sort')).toBe('-timeToResolve');
    await expect.poll(async () => (await titles(page)).slice(0, 2)).toEqual(['DNS SERVFAIL in ams', 'BGP session flapping to AS64500']);
    const byTtr = await titles(page);
    expect(byTtr.slice(-2)).toEqual(['Packet loss on ams-core1', 'Disk full on logs01']); // no figure: last, newest first
    expect(await page.locator('th[aria-sort=descending]').textContent()).toContain('TTR');
    await page.getByRole('combobox', { name: 'Sort' }).selectOption('timeToDetect');
    await expect.poll(async () => (await titles(page))[0]).toBe('TLS certificate expired on api-gw');

    // Status filter, shared: the same URL opened elsewhere shows the same view.
    await page.getByRole('search', { name: 'Filter incidents' }).getByText('resolved', { exact: true }).click();
    await expect.poll(() => rows(page).count()).toBe(8);
    const shared = await (await browser.newContext({ colorScheme: 'light', storageState: await page.context().storageState() })).newPage();
    await shared.goto(page.url());
    await expect.poll(() => titles(shared)).toEqual(await titles(page));
    expect(await shared.locator('.chip.on').allTextContents()).toEqual(['resolved']);
    await shared.context().close();

    // Live: an incident declared elsewhere appears in a matching view without a reload.
    await page.getByRole('search', { name: 'Filter incidents' }).getByText('resolved', { exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill('packet');
    await expect.poll(() => rows(page).count()).toBe(3);
    await server.createIncident(lead.token, { title: 'Packet loss on lon-agg3', severity: 'sev2' });
    await expect.poll(() => titles(page)).toContain('Packet loss on lon-agg3');
    await page.getByRole('searchbox', { name: 'Search' }).fill('');
    await page.getByRole('combobox', { name: 'Sort' }).selectOption('-createdAt');
    await expect.poll(() => rows(page).count()).toBe(11);
    await page.screenshot({ path: 'test-results/overview-light.png', fullPage: true });

    // A bad hand-edited URL says what is wrong.
    await page.goto(`${server.url}/?severity=sev9`);
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('"sev9"');

    // Trends: from the header link; four charts; week and month; CSV.
    await page.goto(server.url);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Trends' }).click();
    expect(new URL(page.url()).pathname).toBe('/trends');
    await trendsDrawn(page);
    expect(await page.getByTestId('trend-total').textContent()).toMatch(/^11 incidents from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2} \(UTC\)$/);
    expect(await page.locator('figcaption').allTextContents()).toEqual([
      'Incidents per week (from Monday, UTC), by severity',
      'Time to detect: median and p90 per week',
      'Time to mitigate: median and p90 per week',
      'Time to resolve: median and p90 per week',
    ]);
    await page.screenshot({ path: 'test-results/trends-light.png', fullPage: true });

    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download CSV' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('bridgelog-trends-week.csv');
    const csv = fs.readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
    expect(csv[0]!.startsWith('period,period_start,period_end,severity,count,time_to_detect_n,')).toBe(true);
    const counted = csv.slice(1).filter((l) => l.split(',')[3] === 'all').reduce((sum, l) => sum + Number(l.split(',')[4]), 0);
    expect(counted).toBe(11);

    await page.getByText('month', { exact: true }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('by')).toBe('month');
    await expect.poll(() => page.locator('figcaption').first().textContent()).toBe('Incidents per month (UTC), by severity');
    await trendsDrawn(page);
    await page.getByText('week', { exact: true }).click();
    await trendsDrawn(page);
    await page.context().close();
  });

  for (const [name, options] of [
    ['dark', { colorScheme: 'dark' as const }],
    ['phone', { colorScheme: 'light' as const, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }],
  ] as const) {
    it(`shows the overview and the trends in the ${name} layout`, async () => {
      const page = await loggedInPage(browser, server, 'dana', 'a long passphrase', options);
      await page.goto(`${server.url}/?sort=-timeToResolve`);
      await expect.poll(() => rows(page).count()).toBeGreaterThanOrEqual(10);
      await page.screenshot({ path: `test-results/overview-${name}.png`, fullPage: true });
      if (name === 'phone') {
        // Everything fits the screen: nothing scrolls sideways.
        const wide = await page.evaluate(() =>
          [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 391).map((e) => `${e.tagName}.${e.className}`).slice(0, 8),
        );
        expect(wide).toEqual([]);
      }
      await page.goto(`${server.url}/trends?by=week`);
      await trendsDrawn(page);
      await page.screenshot({ path: `test-results/trends-${name}.png`, fullPage: true });
      if (name === 'phone') expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.context().close();
    });
  }

  it('shows the first 200 incidents, then more on asking', async () => {
    for (let i = 0; i < 195; i++) await server.createIncident(lead.token, { title: `Flapping port ${i}`, severity: 'sev4' });
    const page = await loggedInPage(browser, server, 'dana', 'a long passphrase');
    await page.goto(server.url);
    await expect.poll(() => rows(page).count()).toBe(200);
    expect(await page.getByTestId('incident-count').textContent()).toBe('206 incidents, the first 200 shown');
    await page.getByRole('button', { name: 'Show 6 more of 6' }).click();
    await expect.poll(() => rows(page).count()).toBe(206);
    expect(await page.getByRole('button', { name: /Show \d+ more/ }).count()).toBe(0);
    await page.getByRole('searchbox', { name: 'Search' }).fill('flapping port');
    await expect.poll(() => page.getByTestId('incident-count').textContent()).toBe('195 incidents match');
    await page.context().close();
  });
});
