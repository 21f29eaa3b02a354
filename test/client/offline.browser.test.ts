/**
 * Losing the network mid-incident: a responder keeps logging and editing, reloads the page while
 * still offline (the service worker serves the app, IndexedDB the log), comes back online, and
 * everything merges with what others logged meanwhile — nothing lost, all of it attributed to her.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entry, launchChromium, logFromKeyboard, loggedInPage, openIncident, startWebServer } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';

const password = 'a long on-call passphrase';

describe('offline logging', () => {
  let server: TestServer;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  let incidentId: string;

  beforeAll(async () => {
    server = await startWebServer();
    await server.createUser('responder', 'alice', password);
    const bobUser = await server.createUser('responder', 'bob', password);
    incidentId = (await server.createIncident(bobUser.token, { title: 'Packet loss ny-sw01 → db01', severity: 'sev2' })).id;
    browser = await launchChromium();
    alice = await loggedInPage(browser, server, 'alice', password);
    bob = await loggedInPage(browser, server, 'bob', password);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const saveState = (page: Page) => page.getByTestId('save-state').textContent();

  it('keeps logging offline, through a reload, and merges everything when back online', async () => {
    await openIncident(alice, server, incidentId);
    await openIncident(bob, server, incidentId);
    await logFromKeyboard(alice, { title: 'ping db01 from app03', command: 'ping -c 100 db01', observations: '3 % loss' });
    await entry(bob, 'ping db01 from app03').waitFor();
    await expect.poll(() => entry(alice, 'ping db01 from app03').locator('.byline').textContent()).toBe('by alice');
    // The app's own files are kept once the service worker is ready.
    expect(await alice.evaluate(() => navigator.serviceWorker.ready.then((r) => r.active?.state))).toBe('activated');

    await alice.context().setOffline(true);
    await expect.poll(() => saveState(alice)).toBe('Offline — nothing unsaved');
    await logFromKeyboard(alice, { title: 'mtr to db01 (offline)', observations: 'loss starts at hop 4, **ny-sw01**' });
    await entry(alice, 'ping db01 from app03').getByRole('button', { name: 'Edit' }).click();
    await alice.locator('.cm-content[aria-label="Conclusion"]').click();
    await alice.keyboard.type('loss is on the switch, not the host');
    await alice.keyboard.press('Escape');
    await expect.poll(() => saveState(alice)).toBe('Offline — 2 changes kept in this browser');
    await expect.poll(() => entry(alice, 'mtr to db01 (offline)').locator('.unsaved-mark').textContent()).toBe('not yet saved');

    // Meanwhile Bob, online, logs too.
    await logFromKeyboard(bob, { title: 'switch CPU on ny-sw01', observations: '96 % in the packet forwarding process' });
    await expect.poll(() => saveState(bob)).toBe('Saved');

    await alice.reload();
    await entry(alice, 'mtr to db01 (offline)').waitFor();
    await expect.poll(() => saveState(alice)).toBe('Offline — 2 changes kept in this browser');
    expect(await entry(alice, 'ping db01 from app03').locator('.entry-text[aria-label="Conclusion"]').textContent()).toContain('loss is on the switch');
    expect(await entry(alice, 'ping db01 from app03').locator('.byline').textContent()).toBe('by alice'); // remembered from the server
    await logFromKeyboard(alice, { title: 'after the reload (offline)', conclusion: 'reboot of ny-sw01 scheduled' });
    await expect.poll(() => saveState(alice)).toBe('Offline — 3 changes kept in this browser');
    // The editor's code was kept too.
    await entry(alice, 'mtr to db01 (offline)').getByRole('button', { name: 'Edit' }).click();
    await alice.locator('.cm-content[aria-label="Observations"]').click();
    await alice.keyboard.press('Control+End');
    await alice.keyboard.type(' (edited after the reload)');
    await alice.keyboard.press('Escape');
    await expect.poll(() => entry(alice, 'mtr to db01 (offline)').locator('.markdown').textContent()).toContain('(edited after the reload)');
    expect(await entry(alice, 'switch CPU on ny-sw01').count()).toBe(0);
    await alice.screenshot({ path: '/tmp/bridgelog-offline.png' });

    await alice.context().setOffline(false);
    await expect.poll(() => saveState(alice), { timeout: 10_000 }).toBe('Saved');
    for (const page of [alice, bob]) {
      await expect.poll(() => page.getByTestId('entry-count').textContent()).toBe('4 entries');
      for (const title of ['mtr to db01 (offline)', 'after the reload (offline)']) {
        await expect.poll(() => entry(page, title).locator('.byline').textContent()).toBe('by alice');
      }
      await expect.poll(() => entry(page, 'ping db01 from app03').locator('.entry-text[aria-label="Conclusion"]').textContent()).toContain('loss is on the switch');
    }
    await entry(alice, 'switch CPU on ny-sw01').waitFor();
    expect(await entry(bob, 'mtr to db01 (offline)').locator('strong').textContent()).toBe('ny-sw01');
    expect(await entry(bob, 'mtr to db01 (offline)').locator('.markdown').textContent()).toContain('(edited after the reload)');
  });
});
