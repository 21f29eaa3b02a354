/**
 * Notifications in Chromium (#20): an admin adds a webhook destination from the Notifications page
 * (its signing secret shown once), sees a delivery fail with the receiver's error once the server
 * gives up, and retries it successfully; the receiver verifies what it got with the secret the page
 * showed. Screenshots in test-results/notifications-*.png.
 */
import { Webhook } from 'standardwebhooks';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientDir, launchChromium, loggedInPage } from '../helpers/browser.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { startReceiver, type Receiver } from '../notifications/receivers.js';
import { FAST_NOTIFY } from '../notifications/setup.js';

let server: TestServer;
let browser: Browser;
let receiver: Receiver;
let failing = true;
beforeAll(async () => {
  server = await startTestServer({ env: { ...FAST_NOTIFY, NOTIFY_GIVE_UP_AFTER: '1s' }, config: { clientDir } });
  browser = await launchChromium();
  receiver = await startReceiver(() => (failing ? { status: 500, body: '{"error":"database is read-only"}' } : { status: 200 }));
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await receiver?.close();
});

describe('the Notifications page', () => {
  it('adds a destination, shows a failed delivery with its error, and retries it', async () => {
    await server.createUser('admin', 'ops-admin', 'a long passphrase');
    await server.createUser('responder', 'responder-rita', 'a long passphrase');
    const page = await loggedInPage(browser, server, 'ops-admin', 'a long passphrase');
    await page.goto(server.url);
    // Notifications is a section of the admin area (#16).
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Notifications' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Notifications', level: 1 }).count()).toBe(1);
    await expect.poll(() => page.getByText('None yet: add one below.').count()).toBe(1);

    const form = page.getByRole('form', { name: 'Add a destination' });
    await form.getByLabel('Name').fill('ops bus');
    await form.getByLabel('Kind').selectOption('webhook');
    await form.getByLabel('URL').fill('not a url');
    await form.getByRole('button', { name: 'Add destination' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/^url: not a URL/);
    await form.getByLabel('URL').fill(`${receiver.url}/hooks/bridgelog`);
    await form.getByLabel('Title, severity, status or members changed').uncheck();
    await form.getByRole('button', { name: 'Add destination' }).click();
    const secret = (await page.getByTestId('destination-secret').textContent({ timeout: 10_000 }))!;
    expect(secret).toMatch(/^whsec_/);
    const item = page.getByRole('listitem', { name: 'ops bus' });
    await expect.poll(() => item.textContent()).toContain(`${receiver.url}/hooks/bridgelog`);
    await page.screenshot({ path: 'test-results/notifications-added.png', fullPage: true });

    // Something happens; the receiver refuses it until the server gives up.
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'Packet loss on ny-sw01', severity: 'sev1' });
    const deliveries = page.getByRole('region', { name: 'Deliveries to ops bus' });
    const row = deliveries.getByRole('row').filter({ hasText: 'Packet loss on ny-sw01' });
    await expect.poll(() => row.locator('.badge').textContent(), { timeout: 15_000 }).toBe('failed');
    expect(await row.locator('.delivery-error').textContent()).toMatch(/^gave up after \d+ attempts over \d s: HTTP 500$/);
    await row.locator('summary', { hasText: 'Attempts' }).click();
    expect(await row.locator('.attempts li').first().textContent()).toMatch(/failed · HTTP 500 · \d+ ms\{"error":"database is read-only"\}/);
    await expect.poll(() => item.locator('.failed-count').textContent()).toBe('1 failed');
    await page.screenshot({ path: 'test-results/notifications-failed.png', fullPage: true });
    expect(receiver.accepted()).toEqual([]);

    // The receiver is fixed; the admin retries.
    failing = false;
    await row.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => row.locator('.badge').textContent()).toBe('delivered');
    expect(await row.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await page.screenshot({ path: 'test-results/notifications-retried.png', fullPage: true });
    const [got] = receiver.accepted();
    expect(new Webhook(secret).verify(got!.body, got!.headers as Record<string, string>)).toMatchObject({
      type: 'incident.declared', data: { incident: { id: incident.id, title: 'Packet loss on ny-sw01' } },
    });

    // The secret is not shown again, and responders have no such page.
    await page.reload();
    await expect.poll(() => page.getByRole('listitem', { name: 'ops bus' }).count()).toBe(1);
    expect(await page.getByTestId('destination-secret').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    const rita = await loggedInPage(browser, server, 'responder-rita', 'a long passphrase');
    await rita.goto(`${server.url}/notifications`);
    await expect.poll(() => rita.getByText('Only admins configure notifications.').count()).toBe(1);
    expect(await rita.getByRole('link', { name: 'Notifications' }).count()).toBe(0);
    expect(await rita.getByRole('link', { name: 'Admin' }).count()).toBe(0);

    const phone = await loggedInPage(browser, server, 'ops-admin', 'a long passphrase', { viewport: { width: 390, height: 844 } });
    await phone.goto(`${server.url}/notifications`);
    await phone.getByRole('button', { name: 'Deliveries' }).click();
    await expect.poll(() => phone.getByRole('region', { name: 'Deliveries to ops bus' }).getByText('delivered').count()).toBe(1);
    await phone.screenshot({ path: 'test-results/notifications-phone.png', fullPage: true });
  });
});
