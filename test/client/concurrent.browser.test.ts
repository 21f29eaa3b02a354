/**
 * Concurrent edits are visible (#16), in Chromium: kim edits an entry's conclusion offline while bob
 * changes the same conclusion online; when kim is back, kim is told that bob also changed it while
 * kim was offline, and shown both versions (bob's read from the server's history) and the merge.
 * An offline edit nobody else touched says nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createEntry, entryText } from '../../shared/schema/doc.js';
import { entry, openIncident, webAppForFile } from '../helpers/browser.js';
import { connect, synced } from '../helpers/collab-client.js';

const SHOTS = '/tmp/shots-corrections';
const app = webAppForFile({ shots: SHOTS });
const { pageFor } = app;

/** Edits one field of the entry in its editor, typing at the end, then closes the editor. */
async function typeInto(page: Page, title: string, field: string, text: string) {
  await entry(page, title).getByRole('button', { name: 'Edit' }).click();
  const box = page.getByRole('group', { name: `Editing ${title}` }).getByRole('textbox', { name: field, exact: true });
  await box.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text);
  await page.keyboard.press('Control+Enter');
}

describe('concurrent edits', () => {
  it('tells the one who reconnects that someone else changed the same field, with both versions', async () => {
    const kim = await app.server.createUser('responder', 'kim', 'kim-passphrase-1');
    const bob = await app.server.createUser('responder', 'bob', 'bob-passphrase-1');
    const incident = await app.server.createIncident(kim.token, { title: 'Loss on ny-sw01' });
    const b = connect(app.server.wsUrl, incident.id, bob.token);
    await synced(b);
    const ping = createEntry(b.doc, { kind: 'test', title: 'ping gw', ranAt: new Date().toISOString(), conclusion: 'gw answers.', observations: 'fine' });
    createEntry(b.doc, { kind: 'test', title: 'mtr ams', ranAt: new Date().toISOString(), observations: 'hop 4 drops' });
    await b.saved();

    const page = await pageFor('kim', 'kim-passphrase-1', { colorScheme: 'light' });
    await openIncident(page, app.server, incident.id);
    await expect.poll(() => entry(page, 'ping gw').count(), { timeout: 30_000 }).toBe(1);
    // The app's files kept for offline use (the service worker is active once it has them, the
    // editor's chunk included), as a responder's browser has them after the first visit: a dry run
    // that went offline sooner could not open the editor.
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.ready.then((r) => r.active?.state)), { timeout: 30_000 }).toBe('activated');

    await page.context().setOffline(true);
    await expect.poll(() => page.getByTestId('save-state').textContent()).not.toBe('Saved');
    await typeInto(page, 'ping gw', 'Conclusion', ' Loss is upstream of the gateway.');
    await typeInto(page, 'mtr ams', 'Observations', ' (kim: seen again)');
    // Meanwhile bob rewrites the same conclusion, online.
    entryText(b.doc, ping, 'conclusion')!.insert(0, 'bob: carrier confirms loss. ');
    await b.saved();

    await page.context().setOffline(false);
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 30_000 }).toBe('Saved');
    const notice = page.getByRole('region', { name: 'Changed by others while you were offline' });
    await expect.poll(() => notice.getByRole('alert').count(), { timeout: 15_000 }).toBe(1);
    const said = await notice.getByRole('alert').textContent();
    expect(said).toContain('bob also changed the conclusion of “ping gw” while you were offline');
    const version = (caption: string) => notice.locator('figure', { has: page.locator('figcaption', { hasText: caption }) }).locator('pre').textContent();
    expect(await version('Yours, offline')).toBe('gw answers. Loss is upstream of the gateway.');
    expect(await version('bob’s, from the history')).toBe('bob: carrier confirms loss. gw answers.');
    expect(await version('Now')).toBe('bob: carrier confirms loss. gw answers. Loss is upstream of the gateway.');
    // The observations kim changed alone say nothing.
    expect(said).not.toContain('mtr ams');
    await notice.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/concurrent-light.png` });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.evaluate(() => (document.documentElement.dataset.theme = 'dark'));
    await page.screenshot({ path: `${SHOTS}/concurrent-dark.png` });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${SHOTS}/concurrent-phone-dark.png` });

    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => notice.count()).toBe(0);
    b.destroy();
    await page.context().close();
  });
});
