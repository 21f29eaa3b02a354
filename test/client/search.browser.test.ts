/**
 * Search in the web app (#19), as responders use it in Chromium, against a real server:
 * - within the incident: `/` to the box (not while typing elsewhere), matches marked in entries,
 *   hypotheses, alerts (by name and label), files and links; the server's query syntax and its
 *   errors as a message; ↑↓ and Enter to the entry, Esc back; a 5,000-entry incident as you type;
 *   a link to an entry (`#entry-<id>`) honoured;
 * - across incidents: from the list's box to `/search?q=…`, results of two incidents with their
 *   conclusions, filters written into the query and the URL, a restricted incident's entry never
 *   shown to a non-member;
 * - "seen before" in the composer: another incident's entry with its conclusion offered as one
 *   types, the caret left alone, dismissed by × and by Esc; nothing from the incident being logged
 *   or from a restricted incident the responder is not in.
 * Screenshots (dark, light, phone 390×844): test-results/search-*.png.
 */
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createEntry, createHypothesis, entriesOf, newId, setHypothesisStatus, setVerdict } from '../../shared/schema/doc.js';
import { entry, launchChromium, loggedInPage, openIncident, startWebServer } from '../helpers/browser.js';
import { connect, synced } from '../helpers/collab-client.js';
import { ADMIN_TOKEN, type TestServer } from '../helpers/server.js';

const password = 'search-on-the-bridge-2026';
const SHOTS = 'test-results';
const MIN = 60_000;
const iso = (t: number) => new Date(t).toISOString();

let server: TestServer;
let browser: Browser;
let dana: { id: string; token: string };
let kim: { id: string; token: string };

/** Changes an incident's document as a script would, and waits until the server has them on disk. */
async function write(incidentId: string, token: string, change: (doc: Y.Doc) => void): Promise<void> {
  const client = connect(server.wsUrl, incidentId, token);
  try {
    await synced(client);
    change(client.doc);
    await client.saved();
  } finally {
    client.destroy();
  }
}

async function upload(incidentId: string, token: string, name: string, text: string): Promise<string> {
  const body = new FormData();
  body.append('file', new Blob([text], { type: 'text/plain' }), name);
  const res = await fetch(`${server.url}/api/incidents/${incidentId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const shot = async (page: Page, name: string, fullPage = false) => {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/search-${name}.png`, fullPage });
};

const searchBox = (page: Page) => page.getByRole('combobox', { name: 'Search this incident' });
const options = (page: Page) => page.getByRole('listbox', { name: 'Results in this incident' }).getByRole('option');
/** The id of the entry that has the focus, if an entry has it. */
const focusedEntry = (page: Page) => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.entryId);
const inViewport = (page: Page, entryId: string) =>
  page.evaluate((id) => {
    const r = document.querySelector(`[data-entry-id="${id}"]`)?.getBoundingClientRect();
    return !!r && r.top >= 0 && r.bottom <= window.innerHeight + 1;
  }, entryId);

beforeAll(async () => {
  server = await startWebServer();
  browser = await launchChromium();
  dana = await server.createUser('responder', 'dana', password);
  kim = await server.createUser('responder', 'kim', password);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('search within the incident', () => {
  let incidentId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ({ id: incidentId } = await server.createIncident(dana.token, { title: 'Packet loss at ny', alertMatchers: ['site=ny'] }));
    const integration = await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'prometheus', kind: 'generic' } });
    const hookToken = ((await integration.json()) as { token: string }).token;
    const fired = await server.api('POST', '/api/hooks/generic', {
      token: hookToken,
      body: { title: 'InterfaceErrors ny-sw01', labels: { site: 'ny', device: 'ny-sw01' }, fingerprint: `if-${newId()}`, startsAt: iso(Date.now() - 30 * MIN) },
    });
    expect(fired.status).toBe(200);
    const capture = await upload(incidentId, dana.token, 'uplink-mirror-ny.pcap.txt', 'not really a capture');
    const t0 = Date.now() - 60 * MIN;
    await write(incidentId, dana.token, (doc) => {
      ids.ping = createEntry(doc, { kind: 'test', title: 'ping -c 100 db01', ranAt: iso(t0), command: 'ping -c 100 10.1.2.3', observations: '7% loss, bursts of 3', conclusion: 'loss is on the path, not the host' });
      ids.iperf = createEntry(doc, { kind: 'test', title: 'iperf3 to ams', ranAt: iso(t0 + 5 * MIN), command: 'iperf3 -c ams1 -t 30', observations: 'retransmits climb at 940 Mbit/s', conclusion: 'uplink saturation at 1 ms scale' });
      ids.capture = createEntry(doc, { kind: 'test', title: 'mirror the uplink', ranAt: iso(t0 + 10 * MIN), observations: 'microbursts every 200 ms' });
      ids.note = createEntry(doc, { kind: 'note', title: 'carrier says no maintenance', ranAt: iso(t0 + 12 * MIN), observations: 'ticket 4711, "no planned work"' });
      (entriesOf(doc).get(ids.capture)!.get('attachments') as Y.Array<string>).push([capture]);
      (entriesOf(doc).get(ids.iperf)!.get('links') as Y.Array<{ url: string; label: string }>).push([{ url: 'https://grafana.example/d/uplink', label: 'Uplink utilisation dashboard' }]);
      ids.saturation = createHypothesis(doc, 'Uplink saturates in microbursts');
      setHypothesisStatus(doc, ids.saturation, 'supported');
      setVerdict(doc, ids.iperf, ids.saturation, 'supports');
    });
  });

  it('finds entries, hypotheses, alerts, files and links as you type, marked; Enter goes to the entry; Esc goes back', async () => {
    const page = await loggedInPage(browser, server, 'dana', password, { colorScheme: 'dark' });
    await openIncident(page, server, incidentId);
    await expect.poll(() => page.getByTestId('entry-count').textContent()).toBe('4 entries');

    // `/` while typing in the composer is a character of the title, not a jump to search.
    await page.keyboard.press('n');
    await page.keyboard.type('a/b');
    expect(await page.getByRole('form', { name: 'New entry' }).getByLabel('Title').inputValue()).toBe('a/b');
    expect(await searchBox(page).evaluate((el) => el === document.activeElement)).toBe(false);
    await page.getByRole('form', { name: 'New entry' }).getByLabel('Title').fill('');
    await page.keyboard.press('Escape');

    // Elsewhere, `/` goes to the box.
    await page.keyboard.press('/');
    expect(await searchBox(page).evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type('uplink');
    await expect.poll(() => options(page).count()).toBe(3);
    const texts = await options(page).allTextContents();
    expect(texts.some((t) => t.includes('Uplink saturates in microbursts') && t.includes('supported'))).toBe(true); // the hypothesis
    expect(texts.some((t) => t.includes('iperf3 to ams') && t.includes('uplink saturation at 1 ms scale'))).toBe(true); // a conclusion
    expect(texts.some((t) => t.includes('mirror the uplink') && t.includes('uplink-mirror-ny.pcap.txt'))).toBe(true); // a file's name
    expect(texts.some((t) => t.includes('carrier says no maintenance'))).toBe(false);
    expect((await page.locator('.search-popover mark').allTextContents()).every((m) => m.toLowerCase() === 'uplink')).toBe(true);
    expect(await page.locator(".search-popover mark").count()).toBeGreaterThanOrEqual(3);
    await shot(page, 'incident-dark');

    await searchBox(page).fill('utilisation dashboard');
    await expect.poll(() => options(page).allTextContents()).toEqual([expect.stringMatching(/iperf3 to ams.*Link.*Uplink utilisation dashboard/)]); // a link's title
    // The server's syntax: a phrase, an exclusion, a label, a kind; a bad filter is a message, not a crash.
    await searchBox(page).fill('"1 ms scale"');
    await expect.poll(() => options(page).allTextContents()).toEqual([expect.stringContaining('iperf3 to ams')]);
    await searchBox(page).fill('loss -carrier');
    await expect.poll(() => options(page).allTextContents()).toEqual([expect.stringContaining('ping -c 100 db01')]);
    await searchBox(page).fill('site:ny');
    await expect.poll(() => options(page).allTextContents()).toEqual([expect.stringContaining('InterfaceErrors ny-sw01')]);
    await searchBox(page).fill('kind:bogus loss');
    await expect.poll(() => page.locator('.search-popover [role=alert]').textContent()).toContain('kind: "bogus" is not one of');
    await searchBox(page).fill('"unbalanced quote (.*');
    await expect.poll(() => page.locator('.search-popover').textContent()).toContain('Nothing in this incident matches.');
    await searchBox(page).fill('kind:note ticket');
    await expect.poll(() => options(page).allTextContents()).toEqual([expect.stringContaining('carrier says no maintenance')]);

    // Arrows move, Enter goes to the entry: on screen, selected, with the focus.
    await searchBox(page).fill('bursts');
    await expect.poll(() => options(page).count()).toBe(4);
    // Best first: the hypothesis (in its statement), then entries newest first (iperf by its verdict on it).
    expect(await options(page).allTextContents()).toEqual([
      expect.stringContaining('Uplink saturates in microbursts'),
      expect.stringContaining('mirror the uplink'),
      expect.stringMatching(/iperf3 to ams.*Verdict.*supports “Uplink saturates in microbursts”/),
      expect.stringContaining('ping -c 100 db01'),
    ]);
    expect(await options(page).nth(0).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    expect(await options(page).nth(1).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('Enter');
    const target = ids.capture!;
    await expect.poll(() => focusedEntry(page)).toBe(target);
    expect(await page.locator(`[data-entry-id="${target}"]`).getAttribute('aria-current')).toBe('true');
    expect(await options(page).count()).toBe(0); // the results are closed

    // Esc clears the box and gives the focus back to where it was (the entry).
    await page.keyboard.press('/');
    expect(await searchBox(page).inputValue()).toBe('bursts'); // kept, to go to the next result
    await page.keyboard.press('Escape');
    expect(await searchBox(page).inputValue()).toBe('');
    expect(await focusedEntry(page)).toBe(target);

    // A hypothesis result opens "What we know" there; a link to an entry is followed.
    await page.keyboard.press('/');
    await page.keyboard.type('microbursts supported');
    await expect.poll(() => options(page).count()).toBe(1);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.hypothesisId)).toBe(ids.saturation);

    await page.goto(`${server.url}/incidents/${incidentId}#entry-${ids.iperf}`);
    await expect.poll(() => focusedEntry(page)).toBe(ids.iperf);
    expect(await inViewport(page, ids.iperf!)).toBe(true);

    await page.emulateMedia({ colorScheme: 'light' });
    await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'light'));
    await page.keyboard.press('/');
    await searchBox(page).fill('bursts');
    await expect.poll(() => options(page).count()).toBe(4);
    await shot(page, 'incident-light');
    await page.context().close();
  });

  it('fits a phone (390×844)', async () => {
    const page = await loggedInPage(browser, server, 'dana', password, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    await openIncident(page, server, incidentId);
    await searchBox(page).fill('uplink');
    await expect.poll(() => options(page).count()).toBe(3);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const box = await page.locator('.search-popover').boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    await shot(page, 'incident-phone');
    await page.context().close();
  });

  it('stays quick on a 5,000-entry incident as you type, and Enter goes deep into the log', async () => {
    // Users of their own, so the 5,000 entries' writes and sync are not charged to dana's time share
    // (collab/time-share.ts), which the next tests use. (Under the full suite the page's first load
    // still took over 30 s once with a fresh reader: not understood yet, hence the long wait below.)
    const lee = await server.createUser('responder', 'lee', password);
    const { id } = await server.createIncident(lee.token, { title: 'Long night on the core' });
    const t0 = Date.now() - 5000 * MIN;
    const probe: string[] = [];
    // Written in ten transactions of 500, as a script would: one update each.
    for (let batch = 0; batch < 10; batch++) {
      await write(id, lee.token, (doc) => {
        doc.transact(() => {
          for (let i = batch * 500; i < (batch + 1) * 500; i++) {
            probe[i] = createEntry(doc, {
              kind: i % 7 === 0 ? 'note' : 'test',
              title: `probe ${String(i).padStart(4, '0')} from core${i % 12}`,
              ranAt: iso(t0 + i * MIN),
              command: `mtr -c 50 edge${i % 40}`,
              observations: i === 4321 ? 'the one with a rare zebra signature in its hops' : `hop ${i % 9} shows ${i % 5}% loss`,
              conclusion: i % 100 === 0 ? `checkpoint ${i}: nothing new` : '',
            });
          }
        });
      });
    }
    await server.createUser('responder', 'mo', password);
    const page = await loggedInPage(browser, server, 'mo', password, { colorScheme: 'dark' });
    const opened = Date.now();
    await openIncident(page, server, id);
    // Under the full suite (two browsers, two servers on two cores) the first load took over 30 s.
    await expect.poll(() => page.getByTestId('entry-count').textContent(), { timeout: 75_000 }).toBe('5,000 entries');
    console.log(`5,000 entries: the page showed them ${Date.now() - opened} ms after it was opened`);

    // Long tasks while typing would be dropped or late keys: count them.
    await page.evaluate(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({ type: 'longtask' });
    });
    await page.keyboard.press('/');
    const typed = Date.now();
    await page.keyboard.type('zebra signature', { delay: 40 });
    expect(await searchBox(page).inputValue()).toBe('zebra signature');
    await expect.poll(() => options(page).allTextContents(), { timeout: 3000 }).toEqual([expect.stringContaining('probe 4321')]);
    const answered = Date.now() - typed;
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    // How quick is the benchmark's to say (npm run bench); here, that no key was lost (above) is asserted.
    console.log(`5,000 entries: typed 15 keys and had the answer in ${answered} ms; long tasks (ms): ${longTasks.map(Math.round).join(', ') || 'none'}`);

    await page.keyboard.press('Enter');
    await expect.poll(() => focusedEntry(page)).toBe(probe[4321]);
    await expect.poll(() => inViewport(page, probe[4321]!)).toBe(true);

    // A broad query: the first 50, and how many more.
    await page.keyboard.press('/');
    await searchBox(page).fill('probe');
    await expect.poll(() => page.getByTestId('incident-search-count').textContent()).toBe('50 shown, 4,950 more: add words to narrow it down');
    expect(await options(page).count()).toBe(50);
    await page.context().close();
  }, 120_000);
});

describe('search across incidents, and "seen before"', () => {
  let bgp: string;
  let fra: string;
  let secret: string;
  let flapEntry: string;

  beforeAll(async () => {
    bgp = (await server.createIncident(dana.token, { title: 'BGP flaps at ny-edge1', severity: 'sev1' })).id;
    fra = (await server.createIncident(dana.token, { title: 'Packet loss on fra-edge2', severity: 'sev3' })).id;
    secret = (await server.createIncident(kim.token, { title: 'Intrusion on ny-edge9', severity: 'sev1', members: [kim.id] })).id;
    const t0 = Date.now() - 3 * 86_400_000;
    await write(bgp, dana.token, (doc) => {
      flapEntry = createEntry(doc, { kind: 'test', title: 'BGP flap ny-edge1', ranAt: iso(t0), command: 'show bgp neighbors 192.0.2.1', observations: 'session resets every 90 s, hold timer expired', conclusion: 'carrier maintenance on the transit link' });
      createEntry(doc, { kind: 'conclusion', title: 'Root cause', ranAt: iso(t0 + 60 * MIN), conclusion: 'carrier maintenance, not announced to us' });
    });
    await write(fra, dana.token, (doc) => {
      createEntry(doc, { kind: 'test', title: 'BGP flap check on fra-edge2', ranAt: iso(t0 + 86_400_000), command: 'show bgp summary', observations: 'stable for 3 days, no flap' });
    });
    await write(secret, kim.token, (doc) => {
      createEntry(doc, { kind: 'test', title: 'BGP flap ny-edge9 zanzibar', ranAt: iso(t0), command: 'show bgp neighbors 192.0.2.1', conclusion: 'attacker-controlled peer zanzibar' });
    });
    expect((await server.api('PATCH', `/api/incidents/${bgp}`, { token: dana.token, body: { status: 'resolved' } })).status).toBe(200);
  });

  it('goes from the list to /search, shows both incidents with their conclusions, filters through the URL, and never a restricted entry', async () => {
    const page = await loggedInPage(browser, server, 'dana', password, { colorScheme: 'light' });
    await page.goto(server.url);
    await page.getByRole('searchbox', { name: "Find in every incident's log" }).fill('bgp flap');
    await shot(page, 'list-light');
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).pathname + new URL(page.url()).search).toBe('/search?q=bgp%20flap');
    const hits = page.getByRole('list', { name: 'Results' }).getByRole('listitem');
    // Indexing follows the log within seconds.
    await expect.poll(() => page.locator('.search-hit-incident-title').allTextContents(), { timeout: 10_000 }).toEqual(
      expect.arrayContaining(['BGP flaps at ny-edge1', 'Packet loss on fra-edge2']),
    );
    const flap = hits.filter({ hasText: 'BGP flap ny-edge1' }).first();
    expect(await flap.textContent()).toContain('carrier maintenance on the transit link'); // the entry's conclusion
    expect(await flap.locator('.search-hit-conclusion.incident-level').textContent()).toContain('carrier maintenance'); // the incident's
    expect(await flap.locator('.badge.severity-sev1').count()).toBe(1);
    expect(await flap.locator('.badge.status-resolved').count()).toBe(1);
    expect((await flap.locator('mark').allTextContents()).map((m) => m.toLowerCase())).toEqual(expect.arrayContaining(['bgp', 'flap']));
    expect(await page.locator('main').textContent()).not.toContain('zanzibar');
    expect(await page.locator('main').textContent()).not.toContain('Intrusion on ny-edge9');
    await shot(page, 'page-light', true);

    // Filters write into the query, and the query is the URL.
    await page.getByRole('search', { name: 'Across incidents' }).getByText('sev1', { exact: true }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('bgp flap severity:sev1');
    await expect.poll(() => page.locator('.search-hit-incident-title').allTextContents()).toEqual(expect.not.arrayContaining(['Packet loss on fra-edge2']));
    await page.getByRole('search', { name: 'Across incidents' }).getByText('resolved', { exact: true }).click();
    await page.getByLabel('From (UTC)').fill(iso(Date.now() - 10 * 86_400_000).slice(0, 10));
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toMatch(/^bgp flap severity:sev1 status:resolved from:\d{4}-\d{2}-\d{2}$/);
    await expect.poll(() => page.locator('.search-hit-incident-title').allTextContents()).toEqual(expect.arrayContaining(['BGP flaps at ny-edge1']));

    // The same URL elsewhere: the same search.
    const shared = await (await browser.newContext({ storageState: await page.context().storageState() })).newPage();
    await shared.goto(page.url());
    expect(await shared.getByRole('searchbox', { name: "Find in every incident's log" }).inputValue()).toBe(new URL(page.url()).searchParams.get('q'));
    expect(await shared.locator('.chip.on').allTextContents()).toEqual(['sev1', 'resolved']);
    await shared.context().close();

    // A query the server cannot read is a message.
    await page.getByRole('searchbox', { name: "Find in every incident's log" }).fill('status:bogus flap');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('status: "bogus" is not one of');

    // A result goes to its entry inside its incident.
    await page.getByRole('searchbox', { name: "Find in every incident's log" }).fill('hold timer');
    await page.getByRole('link', { name: 'BGP flap ny-edge1' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/incidents/${bgp}`);
    await expect.poll(() => focusedEntry(page)).toBe(flapEntry);

    // The member sees the restricted one.
    const kimPage = await loggedInPage(browser, server, 'kim', password);
    await kimPage.goto(`${server.url}/search?q=zanzibar`);
    await expect.poll(() => kimPage.locator('.search-hit-incident-title').allTextContents(), { timeout: 10_000 }).toEqual(['Intrusion on ny-edge9']);
    await kimPage.context().close();

    for (const [name, options] of [
      ['page-dark', { colorScheme: 'dark' as const }],
      ['page-phone', { colorScheme: 'dark' as const, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }],
    ] as const) {
      const p = await loggedInPage(browser, server, 'dana', password, options);
      await p.goto(server.url);
      await p.getByRole('searchbox', { name: "Find in every incident's log" }).waitFor();
      expect(await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await shot(p, name.replace('page', 'list'));
      await p.goto(`${server.url}/search?q=${encodeURIComponent('bgp flap')}`);
      await expect.poll(() => p.locator('.search-hit').count(), { timeout: 10_000 }).toBeGreaterThan(1);
      expect(await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await shot(p, name, true);
      await p.context().close();
    }
    await page.context().close();
  }, 60_000);

  it('offers another incident\'s entry with its conclusion while a test is typed, never the restricted one, and keeps out of the way', async () => {
    const page = await loggedInPage(browser, server, 'dana', password, { colorScheme: 'dark' });
    await openIncident(page, server, fra);
    const form = page.getByRole('form', { name: 'New entry' });
    const title = form.getByLabel('Title');
    const panel = page.getByRole('region', { name: 'Seen before' });

    await page.keyboard.press('n');
    await page.keyboard.type('bgp flap on', { delay: 20 });
    await form.getByLabel('Command').click();
    await page.keyboard.type('show bgp neighbors 192.0.2.1', { delay: 10 });
    await expect.poll(() => panel.getByRole('link').allTextContents(), { timeout: 10_000 }).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\d{4}-\d{2}-\d{2}, BGP flap ny-edge1 — concluded: carrier maintenance on the transit link$/)]),
    );
    const offered = (await panel.textContent()) ?? '';
    expect(offered).not.toContain('zanzibar'); // kim's restricted incident
    expect(offered).not.toContain('Intrusion');
    expect(offered).not.toContain('fra-edge2'); // the incident being logged
    // The caret never moved, the focus never left the field, and the panel covers no field.
    expect(await form.getByLabel('Command').evaluate((el: HTMLTextAreaElement) => el === document.activeElement && el.selectionStart === el.value.length)).toBe(true);
    const panelBox = (await panel.boundingBox())!;
    for (const field of [title, form.getByLabel('Command'), form.getByLabel('Observations'), form.getByLabel('Conclusion', { exact: true })]) {
      const box = (await field.boundingBox())!;
      expect(box.y + box.height <= panelBox.y || box.y >= panelBox.y + panelBox.height).toBe(true);
    }
    expect(await panel.getByRole('link').first().getAttribute('href')).toBe(`/incidents/${bgp}#entry-${flapEntry}`);
    await shot(page, 'seen-before-dark');

    // × hides it for this entry: more typing brings nothing back; the focus returns to the field.
    await panel.getByRole('button', { name: 'Dismiss “Seen before”' }).click();
    expect(await panel.count()).toBe(0);
    expect(await form.getByLabel('Command').evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type(' detail', { delay: 20 });
    await page.waitForTimeout(1200);
    expect(await panel.count()).toBe(0);

    // The next entry starts a new session; Esc in the panel hides it.
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => entry(page, 'bgp flap on').count()).toBe(1);
    await page.keyboard.type('hold timer expired on bgp session', { delay: 10 });
    await expect.poll(() => panel.count(), { timeout: 10_000 }).toBe(1);
    expect(await title.evaluate((el: HTMLInputElement) => el === document.activeElement && el.selectionStart === el.value.length)).toBe(true);
    await panel.getByRole('link').first().focus();
    await page.keyboard.press('Escape');
    expect(await panel.count()).toBe(0);
    expect(await title.inputValue()).toBe('hold timer expired on bgp session');

    // Light and phone.
    await page.context().close();
    for (const [name, options] of [
      ['seen-before-light', { colorScheme: 'light' as const }],
      ['seen-before-phone', { colorScheme: 'light' as const, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }],
    ] as const) {
      const p = await loggedInPage(browser, server, 'dana', password, options);
      await openIncident(p, server, fra);
      await p.getByRole('form', { name: 'New entry' }).getByLabel('Title').click();
      await p.keyboard.type('bgp flap hold timer', { delay: 10 });
      await expect.poll(() => p.getByRole('region', { name: 'Seen before' }).count(), { timeout: 10_000 }).toBe(1);
      expect(await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await p.getByRole('region', { name: 'Seen before' }).evaluate((el) => el.scrollIntoView({ block: 'center' }));
      await shot(p, name);
      await p.context().close();
    }
  }, 60_000);

  it('says when the index is still being built, and what the server read differently', async () => {
    const page = await loggedInPage(browser, server, 'dana', password);
    await page.route('**/api/search?**', (route) =>
      route.fulfill({ json: { results: [], total: 0, indexing: true, notes: ['sevv:1 is not a filter: searched as words'] } }),
    );
    await page.goto(`${server.url}/search?q=${encodeURIComponent('flap sevv:1')}`);
    await expect.poll(() => page.locator('.search-page').textContent()).toContain('Still indexing: some results may be missing');
    expect(await page.locator('.search-page').textContent()).toContain('sevv:1 is not a filter: searched as words');
    expect(await page.getByTestId('search-count').textContent()).toBe('Nothing matches.');
    await page.context().close();
  });

  it('shows nothing when "seen before" cannot be asked', async () => {
    const page = await loggedInPage(browser, server, 'dana', password);
    await page.route('**/api/search/similar**', (route) => route.fulfill({ status: 500, body: '{"error":"boom"}' }));
    let asked = 0;
    page.on('request', (req) => req.url().includes('/api/search/similar') && asked++);
    await openIncident(page, server, fra);
    await page.keyboard.press('n');
    await page.keyboard.type('bgp flap on ny-edge1', { delay: 30 });
    await expect.poll(() => asked, { timeout: 5000 }).toBeGreaterThan(0);
    await page.waitForTimeout(300);
    expect(await page.getByRole('region', { name: 'Seen before' }).count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
    // Typing in one go asks after the pause, not per key (20 keys; on a loaded machine a key can
    // come later than the pause, so once or twice).
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(asked).toBeLessThanOrEqual(2);
    await page.context().close();
  });
});
