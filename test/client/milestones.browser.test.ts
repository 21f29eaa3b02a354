/**
 * Milestones on the incident page (#18), as responders use them in Chromium: impact started taken
 * from the server's suggestion (the first alert's firing) with one click, detected set from the
 * keyboard (`m`, a relative time, Enter), acknowledged back-dated with a full UTC time and found out
 * of order (a warning, never a negative figure) then moved, mitigated from "this mitigated it" on
 * an entry, a custom milestone, resolved from the picker (status follows) and from the status
 * (the milestone follows). Durations tick each second while open. Another responder sees every
 * change live; a viewer sees them and cannot set them; the timeline, a replay and catch-up show them.
 * Screenshots (dark, light, phone 390×844): test-results/milestones-*.png.
 */
import fs from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../shared/schema/doc.js';
import { entry, launchChromium, loggedInPage, logFromKeyboard, openIncident, startWebServer } from '../helpers/browser.js';
import { ADMIN_TOKEN, type TestServer } from '../helpers/server.js';

const password = 'milestones-on-the-bridge-2026';
const MIN = 60_000;
const iso = (t: number) => new Date(t).toISOString();
/** As a responder types a full UTC time: `2026-03-04 06:12:30Z`. */
const typed = (t: number) => `${iso(t).slice(0, 19).replace('T', ' ')}Z`;
/** As the replay's "Go to" takes a moment, to the millisecond. */
const typedMs = (t: number) => `${iso(t).slice(0, 23).replace('T', ' ')}Z`;
const SHOTS = 'test-results';

describe('milestones on the incident page', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Page; // responder, dark
  let bob: Page; // responder, light
  let vera: Page; // viewer
  let incidentId: string;
  let alertFiredAt: number;
  const marks: Record<string, number> = {};

  const header = (page: Page) => page.locator('header.incident-header');
  const strip = (page: Page) => header(page).getByRole('group', { name: 'Milestones' });
  const chip = (page: Page, name: string) => strip(page).locator(`[data-milestone="${name}"]`);
  const chipSet = (page: Page, name: string) => chip(page, name).and(page.locator('.milestone-set'));
  const duration = (page: Page, name: string) => header(page).locator(`[data-duration="${name}"]`);
  const picker = (page: Page) => page.getByRole('dialog', { name: 'Milestone' });
  const text = async (locator: Locator) => (await locator.textContent())?.replace(/\s+/g, ' ').trim() ?? '';
  /** The milestone's time as the document holds it, through the API. */
  const milestoneAt = async (name: string): Promise<string | undefined> => {
    const res = await server.api('GET', `/api/incidents/${incidentId}/milestones`, { token: ADMIN_TOKEN });
    const body = (await res.json()) as { milestones: Array<{ name: string; at: string }> };
    return body.milestones.find((m) => m.name === name)?.at;
  };
  const shot = async (page: Page, name: string) => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/milestones-${name}.png` });
  };

  beforeAll(async () => {
    server = await startWebServer();
    await server.createUser('responder', 'alice', password);
    await server.createUser('responder', 'bob', password);
    await server.createUser('viewer', 'vera', password);
    const adminIncident = await server.createIncident(ADMIN_TOKEN, { title: 'BGP session flaps at ams', alertMatchers: ['site=ams'] });
    incidentId = adminIncident.id;

    // The first alert fired 20 minutes ago: the server suggests it as "impact started".
    const integration = await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'nagios', kind: 'generic' } });
    const hookToken = ((await integration.json()) as { token: string }).token;
    alertFiredAt = Math.floor((Date.now() - 20 * MIN) / 1000) * 1000;
    const fired = await server.api('POST', '/api/hooks/generic', {
      token: hookToken,
      body: { title: 'BGP down', labels: { site: 'ams' }, fingerprint: `bgp-${newId()}`, startsAt: iso(alertFiredAt) },
    });
    expect(fired.status).toBe(200);

    browser = await launchChromium();
    alice = await loggedInPage(browser, server, 'alice', password, { colorScheme: 'dark' });
    bob = await loggedInPage(browser, server, 'bob', password, { colorScheme: 'light' });
    vera = await loggedInPage(browser, server, 'vera', password, { colorScheme: 'dark' });
    for (const page of [alice, bob, vera]) page.setDefaultTimeout(10_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the five standard milestones unset, with a warning in place of each duration', async () => {
    await Promise.all([openIncident(alice, server, incidentId), openIncident(bob, server, incidentId), openIncident(vera, server, incidentId)]);
    for (const name of ['impactStarted', 'detected', 'acknowledged', 'mitigated', 'resolved']) {
      expect(await chip(alice, name).getAttribute('class')).toContain('milestone-unset');
    }
    expect(await text(duration(alice, 'timeToDetect'))).toBe('Time to detect ⚠ impact started is not set');
    await shot(alice, 'unset-dark');
  });

  it('offers the first alert as "impact started" and applies it with one click', async () => {
    await chip(alice, 'impactStarted').click();
    await expect.poll(() => picker(alice).isVisible()).toBe(true);
    expect(await picker(alice).locator('select[name="name"]').inputValue()).toBe('impactStarted');
    const suggestions = picker(alice).getByRole('region', { name: 'Suggested milestones' });
    await expect.poll(() => suggestions.textContent(), { timeout: 5000 }).toContain('BGP down');
    const suggestion = suggestions.getByRole('button').filter({ hasText: 'Impact started' }).first();
    expect(await text(suggestion)).toContain(iso(alertFiredAt).slice(11, 19));
    await shot(alice, 'picker-dark');
    await suggestion.click();
    await expect.poll(() => picker(alice).count()).toBe(0);
    await expect.poll(() => chipSet(alice, 'impactStarted').count()).toBe(1);
    expect(await milestoneAt('impactStarted')).toBe(iso(alertFiredAt));
    expect(await text(chip(alice, 'impactStarted').locator('time'))).toBe(`${iso(alertFiredAt).slice(11, 19)}Z`);
    // Set 20 minutes after the time it names: backfilled, and who set it on hover.
    await expect.poll(() => chip(alice, 'impactStarted').locator('.milestone-backfilled').count()).toBe(1);
    await expect.poll(() => chip(alice, 'impactStarted').getAttribute('title')).toContain('set by alice');
  });

  it('ticks the running durations each second while the incident is open', async () => {
    const ttd = duration(alice, 'timeToDetect');
    await expect.poll(() => text(ttd)).toMatch(/^Time to detect 20m \d\ds so far$/);
    const first = await text(ttd);
    await expect.poll(() => text(ttd), { timeout: 3000 }).not.toBe(first);
    expect(await text(duration(alice, 'timeToMitigate'))).toMatch(/^Time to mitigate 20m \d\ds so far$/);
    expect(await text(duration(alice, 'timeToAcknowledge'))).toBe('Time to acknowledge ⚠ detected is not set');
  });

  it('sets "detected" from the keyboard: m, a relative time, Enter — never while typing in a field', async () => {
    // `m` is in the shortcuts' help.
    await alice.keyboard.press('Escape');
    await alice.keyboard.press('?');
    const help = alice.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect.poll(() => help.textContent()).toContain('Set a milestone');
    await help.getByRole('button', { name: 'Close' }).click();

    // Typing an "m" into the composer's title is just text.
    await alice.keyboard.press('Escape');
    await alice.keyboard.press('n');
    await alice.keyboard.type('mtr');
    expect(await picker(alice).count()).toBe(0);
    await alice.getByRole('form', { name: 'New entry' }).getByLabel('Title').fill('');
    await alice.keyboard.press('Escape');

    await alice.keyboard.press('m');
    await expect.poll(() => picker(alice).isVisible()).toBe(true);
    // The picker starts on the next milestone not yet set.
    expect(await picker(alice).locator('select[name="name"]').inputValue()).toBe('detected');
    await alice.keyboard.press('Tab');
    await alice.keyboard.type('-15m');
    await expect.poll(() => picker(alice).locator('.hint').first().textContent()).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z/);
    marks.beforeDetected = Date.now();
    await alice.keyboard.press('Enter');
    await expect.poll(() => chipSet(alice, 'detected').count()).toBe(1);
    const detected = Date.parse((await milestoneAt('detected'))!);
    expect(Math.abs(detected - (marks.beforeDetected - 15 * MIN))).toBeLessThan(5000);
    await expect.poll(() => text(duration(alice, 'timeToDetect'))).toMatch(/^Time to detect [45]m \d\ds$/);
    // Bob sees it at once, without reloading.
    await expect.poll(() => chipSet(bob, 'detected').count(), { timeout: 3000 }).toBe(1);
    await expect.poll(() => text(duration(bob, 'timeToDetect'))).toMatch(/^Time to detect [45]m \d\ds$/);
  });

  it('shows what is wrong with a time, the browser’s reading and the server’s answer', async () => {
    await chip(alice, 'acknowledged').click();
    const at = picker(alice).getByLabel(/At \(UTC\)/);
    await at.fill('yesterday-ish');
    await picker(alice).getByRole('button', { name: 'Set Acknowledged' }).click();
    await expect.poll(() => picker(alice).getByRole('alert').textContent()).toContain('write the time as 06:12');
    // Long before the incident was created (more than the bound): the server refuses it, nothing is stored.
    await at.fill('2020-01-01 00:00Z');
    await picker(alice).getByRole('button', { name: 'Set Acknowledged' }).click();
    await expect.poll(() => picker(alice).getByRole('alert').textContent()).toMatch(/^Acknowledged not set: .+/);
    expect(await milestoneAt('acknowledged')).toBeUndefined();
    await shot(alice, 'picker-error-dark');
    // Offline: said so (milestones are set through the server), nothing changes.
    await alice.context().setOffline(true);
    await at.fill('-1m');
    await picker(alice).getByRole('button', { name: 'Set Acknowledged' }).click();
    await expect.poll(() => picker(alice).getByRole('alert').textContent()).toContain('the server cannot be reached');
    await alice.context().setOffline(false);
    await expect.poll(() => alice.getByTestId('save-state').textContent(), { timeout: 15_000 }).toBe('Saved');
    expect(await milestoneAt('acknowledged')).toBeUndefined();
    await picker(alice).getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => picker(alice).count()).toBe(0);
  });

  it('back-dates "acknowledged" with a full UTC time, warns that it is out of order, and moves it', async () => {
    const early = Math.floor((Date.now() - 17 * MIN) / 1000) * 1000; // before "detected"
    await chip(alice, 'acknowledged').click();
    await picker(alice).getByLabel(/At \(UTC\)/).fill(typed(early));
    await picker(alice).getByRole('button', { name: 'Set Acknowledged' }).click();
    await expect.poll(() => chipSet(alice, 'acknowledged').count()).toBe(1);
    expect(await milestoneAt('acknowledged')).toBe(iso(early));
    const tta = duration(alice, 'timeToAcknowledge');
    await expect.poll(() => text(tta)).toBe('Time to acknowledge ⚠ acknowledged is before detected');
    expect(await tta.getAttribute('class')).toContain('duration-out-of-order');
    await shot(alice, 'out-of-order-dark');

    // Moved to now: a figure again.
    await chip(alice, 'acknowledged').click();
    expect(await picker(alice).getByText(/Acknowledged is set to/).count()).toBe(1);
    await picker(alice).getByRole('button', { name: 'Move Acknowledged' }).click();
    await expect.poll(() => text(tta)).toMatch(/^Time to acknowledge 1[45]m \d\ds$/);
  });

  it('marks an entry "this mitigated it" and sets "mitigated" at the time it ran', async () => {
    await logFromKeyboard(alice, { title: 'withdrew the ams-ix peering', conclusion: 'flaps stopped' });
    const logged = entry(alice, 'withdrew the ams-ix peering');
    await expect.poll(() => logged.count()).toBe(1);
    await logged.getByRole('button', { name: 'This mitigated it' }).click();
    const offer = logged.getByRole('group', { name: 'Set the mitigated milestone' });
    await expect.poll(() => offer.isVisible()).toBe(true);
    await offer.getByRole('button', { name: 'Set Mitigated' }).click();
    await expect.poll(() => chipSet(alice, 'mitigated').count()).toBe(1);
    const ranAt = await logged.locator('time.ran-at').getAttribute('datetime');
    expect(await milestoneAt('mitigated')).toBe(ranAt);
    expect(await logged.locator('.mitigated-mark').textContent()).toBe('mitigated it');
    await expect.poll(() => entry(bob, 'withdrew the ams-ix peering').locator('.mitigated-mark').count()).toBe(1);
    await expect.poll(() => text(duration(alice, 'timeToMitigate'))).toMatch(/^Time to mitigate 20m \d\ds$/);
  });

  it('adds a custom milestone', async () => {
    await strip(alice).getByRole('button', { name: '+ Custom…' }).click();
    await picker(alice).getByLabel('Name').fill('customers notified');
    await picker(alice).getByLabel(/At \(UTC\)/).fill('-2m');
    await picker(alice).getByRole('button', { name: 'Set customers notified' }).click();
    await expect.poll(() => chipSet(alice, 'customers notified').count()).toBe(1);
    await expect.poll(() => chipSet(bob, 'customers notified').count(), { timeout: 3000 }).toBe(1);
    await shot(alice, 'header-dark');
    await shot(bob, 'header-light');
  });

  it('lets a viewer read the milestones but not set them', async () => {
    await expect.poll(() => chipSet(vera, 'mitigated').count(), { timeout: 3000 }).toBe(1);
    expect(await strip(vera).getByRole('button').count()).toBe(0);
    await vera.keyboard.press('Escape');
    await vera.keyboard.press('m');
    await new Promise((r) => setTimeout(r, 300));
    expect(await picker(vera).count()).toBe(0);
    expect(await entry(vera, 'withdrew the ams-ix peering').getByRole('button', { name: /mitigated it/i }).count()).toBe(0);
    const refused = await vera.evaluate(
      (id) => fetch(`/api/incidents/${id}/milestones/resolved`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"at":"now"}' }).then((r) => r.status),
      incidentId,
    );
    expect(refused).toBe(403);
    expect(await milestoneAt('resolved')).toBeUndefined();
  });

  it('keeps "resolved" and the status in step, both ways', async () => {
    const status = alice.getByLabel('Status');
    // The picker's "resolved": the status follows, and the durations stop running.
    await alice.keyboard.press('Escape');
    await alice.keyboard.press('m');
    await expect.poll(() => picker(alice).locator('select[name="name"]').inputValue()).toBe('resolved');
    await alice.keyboard.press('Enter');
    await expect.poll(() => chipSet(alice, 'resolved').count()).toBe(1);
    await expect.poll(() => status.inputValue()).toBe('resolved');
    await expect.poll(() => vera.locator('.incident-facts .badge.status-resolved').count()).toBe(1);
    const ttr = duration(alice, 'timeToResolve');
    await expect.poll(() => text(ttr)).toMatch(/^Time to resolve 20m \d\ds$/);
    const fixed = await text(ttr);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await text(ttr)).toBe(fixed);

    // Reopened: if "resolved" stays, clear it; then the status "resolved" sets it again.
    await status.selectOption('monitoring');
    await expect.poll(() => status.inputValue()).toBe('monitoring');
    await new Promise((r) => setTimeout(r, 500));
    if ((await chipSet(alice, 'resolved').count()) === 1) {
      await chip(alice, 'resolved').click();
      await picker(alice).getByRole('button', { name: 'Clear Resolved' }).click();
    }
    await expect.poll(() => chipSet(alice, 'resolved').count()).toBe(0);
    await expect.poll(() => text(duration(alice, 'timeToResolve'))).toMatch(/so far$/);
    await status.selectOption('resolved');
    await expect.poll(() => chipSet(alice, 'resolved').count()).toBe(1);
    await expect.poll(() => chipSet(bob, 'resolved').count(), { timeout: 3000 }).toBe(1);
  });

  it('puts the milestones on the timeline as markers on the UTC axis', async () => {
    await alice.getByRole('group', { name: 'View' }).getByRole('button', { name: 'Timeline' }).click();
    const timeline = alice.getByRole('region', { name: 'Timeline' });
    const row = timeline.getByRole('group', { name: 'Milestones' });
    await expect.poll(() => row.locator('.tl-milestone').count()).toBe(6);
    expect(await row.getByRole('img', { name: /^Milestone: Impact started · / }).getAttribute('data-start')).toBe(iso(alertFiredAt));
    expect(await timeline.locator('.tl-ms-line').count()).toBe(6);
    await shot(alice, 'timeline-dark');
    await alice.getByRole('group', { name: 'View' }).getByRole('button', { name: 'Log' }).click();
  });

  it('shows in a replay the milestones as they stood then', async () => {
    await alice.getByRole('button', { name: 'Replay', exact: true }).click();
    const bar = alice.getByRole('region', { name: 'Replay' });
    await expect.poll(() => bar.getByRole('slider', { name: 'Replay time' }).count()).toBe(1);
    const then = alice.getByRole('region', { name: 'Milestones then' });
    await bar.getByLabel('Go to (UTC)').fill(typedMs(marks.beforeDetected!));
    await bar.getByRole('button', { name: 'Go', exact: true }).click();
    await expect.poll(() => then.locator('[data-milestone="impactStarted"].milestone-set').count()).toBe(1);
    expect(await then.locator('[data-milestone="detected"].milestone-set').count()).toBe(0);
    expect(await text(then.locator('[data-duration="timeToDetect"]'))).toMatch(/^Time to detect 20m \d\ds so far$/);
    await shot(alice, 'replay-dark');
    await bar.getByRole('button', { name: 'Exit replay' }).click();
  });

  it('tells a latecomer in catch-up which milestones were set, when and by whom', async () => {
    await bob.getByRole('button', { name: 'Catch up…' }).click();
    const catchUp = bob.getByRole('region', { name: 'Catch up' });
    await catchUp.getByLabel('What changed since (UTC)').fill('-1h');
    await catchUp.getByRole('button', { name: 'Show' }).click();
    const group = catchUp.getByRole('region', { name: 'Milestones' });
    await expect.poll(() => group.textContent()).toContain('Mitigated at');
    expect(await text(group.locator('[data-milestone="mitigated"]'))).toMatch(/Mitigated at \d{2}:\d{2} UTC.*by alice/);
    await shot(bob, 'catch-up-light');
    await chip(bob, 'mitigated').click();
    await expect.poll(() => picker(bob).isVisible()).toBe(true);
    await shot(bob, 'picker-light');
    await picker(bob).getByRole('button', { name: 'Cancel' }).click();
  });

  it('fits a phone (390×844): screenshot', async () => {
    const phone = await loggedInPage(browser, server, 'bob', password, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'light' });
    await openIncident(phone, server, incidentId);
    await expect.poll(() => chipSet(phone, 'resolved').count()).toBe(1);
    // Nothing wider than the screen.
    const widest = await phone.evaluate(() => document.documentElement.scrollWidth);
    expect(widest).toBeLessThanOrEqual(390);
    await shot(phone, 'phone-light');
    await chip(phone, 'customers notified').click();
    await expect.poll(() => picker(phone).isVisible()).toBe(true);
    await shot(phone, 'phone-picker-light');
  });
});
