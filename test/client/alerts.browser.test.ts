/**
 * Alerts in the web app: an alert from monitoring appears on the open incident within a second,
 * a responder links it to the test it explains (the suggestion says why), sees it resolve live,
 * detaches it, and declares a new incident from it in the inbox. Screenshots: /tmp/bridgelog-alerts*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEntries } from '../../shared/schema/doc.js';
import { connect, synced } from '../helpers/collab-client.js';
import { entry, launchChromium, loggedInPage, logFromKeyboard, openIncident, startWebServer } from '../helpers/browser.js';
import { ADMIN_TOKEN, type TestServer } from '../helpers/server.js';

const password = 'alerts-on-call-2026';
const discards = 'Output discards rising on ny-sw01 Gi1/0/12';
const elsewhere = 'Disk full on ams-db02';
const test = 'show interface Gi1/0/12 on ny-sw01';
const UTC_TIME = /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z/;

describe('alerts in the web app', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let incidentId: string;
  let aliceToken: string;
  let hookToken: string;
  const panel = () => page.getByRole('region', { name: 'Alerts' });
  const hook = (body: Record<string, unknown>) => server.api('POST', '/api/hooks/generic', { token: hookToken, body });
  const firing = { title: discards, labels: { site: 'ny', device: 'ny-sw01' }, url: 'https://grafana.internal/d/ny-sw01?viewPanel=7', fingerprint: 'ny-sw01-discards' };

  beforeAll(async () => {
    server = await startWebServer();
    aliceToken = (await server.createUser('responder', 'alice', password)).token;
    incidentId = (await server.createIncident(aliceToken, { title: 'Packet loss at ny' })).id;
    const patched = await server.api('PATCH', `/api/incidents/${incidentId}`, { token: aliceToken, body: { alertMatchers: ['site=ny'] } });
    expect(patched.status).toBe(200);
    const integration = await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'nagios', kind: 'generic' } });
    hookToken = ((await integration.json()) as { token: string }).token;
    browser = await launchChromium();
    page = await loggedInPage(browser, server, 'alice', password);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows an alert arriving on the open incident page within a second', async () => {
    await openIncident(page, server, incidentId);
    await expect.poll(() => panel().textContent()).toContain('No alerts on this incident. Alerts matching site=ny attach as they arrive.');

    const sent = Date.now();
    const startsAt = new Date(sent - 2 * 60_000).toISOString();
    expect((await hook({ ...firing, startsAt })).status).toBe(200);
    expect((await hook({ title: elsewhere, labels: { site: 'ams' } })).status).toBe(200);
    const shown = panel().getByRole('listitem', { name: discards });
    await shown.waitFor({ timeout: 1000 });
    expect(Date.now() - sent).toBeLessThan(1000);

    expect(await shown.locator('.badge').textContent()).toBe('firing');
    expect(await shown.locator('.alert-times').textContent()).toMatch(new RegExp(`^since ${UTC_TIME.source}$`));
    expect(await shown.getByRole('link', { name: discards }).getAttribute('href')).toBe(firing.url);
    expect(await shown.getByRole('list', { name: 'Labels' }).locator('li').allTextContents()).toEqual(['site=ny', 'device=ny-sw01']);
    expect(await panel().getByRole('listitem', { name: elsewhere }).count()).toBe(0);
    expect(await panel().locator('h2').textContent()).toBe('Alerts 1 firing');
  });

  it('links it from an entry, with the reason it is suggested', async () => {
    await logFromKeyboard(page, { title: test, observations: 'output drops: 18,402 in 5 min' });
    await entry(page, test).getByRole('button', { name: 'Alerts…' }).click();
    const suggestion = entry(page, test).getByRole('list', { name: 'Suggested alerts' }).getByRole('listitem', { name: discards });
    await expect.poll(() => suggestion.locator('.reason').textContent()).toBe('attached to this incident, firing when this test ran (since 2 min before), same site, device');
    await suggestion.getByRole('button', { name: 'Link' }).click();

    const linked = entry(page, test).getByRole('list', { name: 'Linked alerts' });
    await expect.poll(() => linked.textContent()).toMatch(new RegExp(`^firing${discards}since ${UTC_TIME.source}×$`));
    await page.screenshot({ path: '/tmp/bridgelog-alerts.png' });
    await entry(page, test).getByRole('button', { name: 'Done' }).click();

    // The link is in the shared document: any client reads the alert's id in the entry.
    const script = connect(server.wsUrl, incidentId, aliceToken);
    await synced(script);
    const [alert] = (await (await server.api('GET', `/api/alerts?incident=${incidentId}`, { token: aliceToken })).json()) as Array<{ id: string }>;
    await expect.poll(() => listEntries(script.doc).find((e) => e.title === test)?.alerts).toEqual([alert!.id]);
    script.destroy();
  });

  it('links suggested alerts while composing, and shows them resolve live', async () => {
    const form = page.getByRole('form', { name: 'New entry' });
    await page.keyboard.press('Escape');
    await page.keyboard.press('n');
    await page.keyboard.type('drained Gi1/0/12');
    await form.getByRole('listitem', { name: discards }).getByRole('button', { name: 'Link' }).click();
    await page.keyboard.press('Control+Enter');
    await entry(page, 'drained Gi1/0/12').getByRole('list', { name: 'Linked alerts' }).waitFor();

    expect((await hook({ ...firing, status: 'resolved', endsAt: new Date().toISOString() })).status).toBe(200);
    await expect.poll(() => panel().getByRole('listitem', { name: discards }).locator('.badge').textContent()).toBe('resolved');
    for (const title of [test, 'drained Gi1/0/12']) {
      await expect.poll(() => entry(page, title).getByRole('list', { name: 'Linked alerts' }).textContent()).toMatch(
        new RegExp(`^resolved${discards}${UTC_TIME.source} – ${UTC_TIME.source}×$`),
      );
    }
    expect(await panel().locator('h2').textContent()).toBe('Alerts 0 firing');
  });

  it('detaches an alert, which then waits in the inbox, and declares an incident from the inbox', async () => {
    await panel().getByRole('listitem', { name: discards }).getByRole('button', { name: 'Detach' }).click();
    await expect.poll(() => panel().getByRole('listitem', { name: discards }).count()).toBe(0);
    // Still linked from the entries: the log keeps what was found.
    expect(await entry(page, test).getByRole('list', { name: 'Linked alerts' }).textContent()).toContain(discards);

    await page.goto(server.url);
    const inbox = page.getByRole('region', { name: 'Inbox' });
    await inbox.getByRole('listitem', { name: elsewhere }).waitFor();
    await expect.poll(() => inbox.getByRole('listitem', { name: discards }).count()).toBe(1);
    await page.screenshot({ path: '/tmp/bridgelog-alerts-inbox.png' });

    await inbox.getByRole('listitem', { name: elsewhere }).getByRole('button', { name: 'Declare incident' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(elsewhere);
    await panel().getByRole('listitem', { name: elsewhere }).waitFor();
  });
});
