/**
 * Corrections without losing history (#16), in Chromium with two responders at once: lee deletes an
 * entry and kim sees it vanish, with who deleted it under "Deleted"; Ctrl+Z brings it back for both
 * and Ctrl+Shift+Z deletes it again; the replay and an "as of" export still have it. A hypothesis is
 * renamed, deleted and restored; the "×" on a link is taken back from its notice. Undo takes back
 * only one's own changes. Screenshots: light, dark and phone.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Report } from '../../shared/schema/export.js';
import { createEntry, createHypothesis, entriesOf, type EvidenceLink } from '../../shared/schema/doc.js';
import { entry, openIncident, webAppForFile } from '../helpers/browser.js';
import { connect, synced } from '../helpers/collab-client.js';
import type * as Y from 'yjs';

const SHOTS = '/tmp/shots-corrections';
const app = webAppForFile({ shots: SHOTS });
const { pageFor } = app;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const count = (page: Page) => page.getByTestId('entry-count').textContent();
const deleted = (page: Page) => page.locator('details.deleted-items');
const hypothesis = (page: Page, statement: string) => page.getByRole('listitem', { name: statement, exact: true });

describe('corrections', () => {
  it('deletes, undoes, redoes and restores for everyone, while the replay and an as-of export keep what was deleted', async () => {
    const kim = await app.server.createUser('responder', 'kim', 'kim-passphrase-1');
    await app.server.createUser('responder', 'lee', 'lee-passphrase-1');
    const incident = await app.server.createIncident(kim.token, { title: 'Loss on ny-sw01' });
    const k = connect(app.server.wsUrl, incident.id, kim.token);
    await synced(k);
    const ranAt = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    createEntry(k.doc, { kind: 'test', title: 'ping gw', ranAt: ranAt(30), observations: '3 of 3 answered' });
    const wrongId = createEntry(k.doc, { kind: 'test', title: 'iperf on the wrong host', ranAt: ranAt(20) });
    const pingId = [...entriesOf(k.doc).keys()].find((id) => id !== wrongId)!;
    (entriesOf(k.doc).get(pingId)!.get('links') as Y.Array<EvidenceLink>).push([{ url: 'https://grafana.example/d/ny', label: 'ny graph' }]);
    createHypothesis(k.doc, 'uplink saturated');
    createHypothesis(k.doc, 'cosmic rays');
    await k.saved();
    k.destroy();

    const kp = await pageFor('kim', 'kim-passphrase-1', { colorScheme: 'light' });
    const lp = await pageFor('lee', 'lee-passphrase-1', { colorScheme: 'dark' });
    await Promise.all([openIncident(kp, app.server, incident.id), openIncident(lp, app.server, incident.id)]);
    // The first sync of a page can take a while on a loaded machine.
    for (const p of [kp, lp]) await expect.poll(() => count(p), { timeout: 30_000 }).toBe('2 entries');
    // Nothing of kim's own to undo, though kim wrote all of it through another client: Undo is this page's.
    expect(await kp.getByRole('button', { name: 'Undo', exact: true }).isDisabled()).toBe(true);

    await pause(50);
    const beforeDeletion = new Date().toISOString();
    await pause(50);

    // Lee deletes the wrong entry: it vanishes for kim, and "Deleted" says who.
    await entry(lp, 'iperf on the wrong host').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => lp.getByRole('status').filter({ hasText: 'Deleted entry' }).textContent()).toContain('Deleted entry “iperf on the wrong host” · Undo');
    await expect.poll(() => count(kp)).toBe('1 entry');
    expect(await entry(kp, 'iperf on the wrong host').count()).toBe(0);
    await expect.poll(() => deleted(kp).locator('summary').textContent()).toBe('Deleted (1)');
    await deleted(kp).locator('summary').click();
    await expect.poll(() => deleted(kp).getByRole('listitem', { name: 'Deleted entry “iperf on the wrong host”' }).textContent(), { timeout: 15_000 }).toContain('deleted by lee at');
    await kp.screenshot({ path: `${SHOTS}/deleted-light.png`, fullPage: true });
    await lp.screenshot({ path: `${SHOTS}/deleted-notice-dark.png` });

    // Ctrl+Z on lee's page (focus on no field) brings it back for both; Ctrl+Shift+Z deletes it again.
    await lp.locator('body').click({ position: { x: 5, y: 5 } });
    await lp.keyboard.press('Control+z');
    for (const p of [kp, lp]) await expect.poll(() => count(p)).toBe('2 entries');
    expect(await deleted(kp).count()).toBe(0);
    await lp.keyboard.press('Control+Shift+z');
    for (const p of [kp, lp]) await expect.poll(() => count(p)).toBe('1 entry');

    // Ctrl+Z typed inside a text field is the field's own: it deletes nothing, restores nothing.
    await lp.keyboard.press('n');
    await lp.keyboard.type('half a title');
    await lp.keyboard.press('Control+z');
    await pause(300);
    expect(await count(kp)).toBe('1 entry');
    await lp.keyboard.press('Escape');

    // The replay at a moment before the deletion still shows the entry.
    await kp.getByRole('button', { name: 'Replay', exact: true }).click();
    const bar = kp.getByRole('region', { name: 'Replay' });
    await bar.getByLabel('Go to (UTC)').fill(beforeDeletion);
    await bar.getByRole('button', { name: 'Go', exact: true }).click();
    await expect.poll(() => kp.getByTestId('replay-entry-count').textContent()).toBe('2 entries then');
    expect(await entry(kp, 'iperf on the wrong host').count()).toBe(1);
    // The next change is lee's deletion, said as one.
    await bar.getByRole('button', { name: /Next change/ }).click();
    await expect.poll(() => bar.getByRole('list', { name: 'What changed' }).textContent()).toContain('lee deleted “iperf on the wrong host”');
    expect(await kp.getByTestId('replay-entry-count').textContent()).toBe('1 entry then');
    await kp.screenshot({ path: `${SHOTS}/replay-deletion-light.png` });
    await bar.getByRole('button', { name: 'Exit replay' }).click();

    // The current export leaves it out; the export as of before the deletion has it.
    const exportAt = async (at?: string) =>
      (await (await kp.context().request.get(`${app.server.url}/api/incidents/${incident.id}/export?format=json${at ? `&at=${encodeURIComponent(at)}` : ''}`)).json()) as Report;
    expect((await exportAt()).entries.map((e) => e.title)).toEqual(['ping gw']);
    expect((await exportAt(beforeDeletion)).entries.map((e) => e.title)).toEqual(['ping gw', 'iperf on the wrong host']);

    // Kim restores it from "Deleted".
    await deleted(kp).locator('summary').click();
    await deleted(kp).getByRole('button', { name: 'Restore' }).click();
    for (const p of [kp, lp]) await expect.poll(() => count(p)).toBe('2 entries');

    // Hypotheses: lee renames one and deletes the other; kim sees both; kim restores the deleted one.
    await lp.getByRole('button', { name: 'Rename “uplink saturated”' }).click();
    const rename = lp.getByRole('form', { name: 'Rename “uplink saturated”' });
    await rename.getByLabel('New wording').fill('uplink saturated by 1 ms bursts');
    await rename.getByRole('button', { name: 'Rename', exact: true }).click();
    await expect.poll(() => hypothesis(kp, 'uplink saturated by 1 ms bursts').count()).toBe(1);
    await lp.getByRole('button', { name: 'Delete “cosmic rays”' }).click();
    await expect.poll(() => hypothesis(kp, 'cosmic rays').count()).toBe(0);
    await expect.poll(() => deleted(kp).locator('summary').textContent()).toBe('Deleted (1)');
    await deleted(kp).locator('summary').click();
    await kp.screenshot({ path: `${SHOTS}/hypothesis-deleted-light.png`, fullPage: true });
    await deleted(kp).getByRole('listitem', { name: 'Deleted hypothesis “cosmic rays”' }).getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => hypothesis(lp, 'cosmic rays').count()).toBe(1);

    // The "×" on a link takes it off at once; the notice's Undo puts it back, for both.
    const links = (p: Page) => entry(p, 'ping gw').getByRole('link', { name: 'ny graph' }).count();
    await entry(lp, 'ping gw').getByRole('button', { name: 'Remove ny graph from this entry' }).click();
    await expect.poll(() => links(kp)).toBe(0);
    const notice = lp.getByRole('status').filter({ hasText: 'Removed link' });
    await expect.poll(() => notice.textContent()).toBe('Removed link “ny graph” · Undo');
    await notice.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => links(kp)).toBe(1);

    // Lee's next Undo would take back lee's deletion of "cosmic rays", but kim has restored it since:
    // Undo never overwrites someone else's change, so it takes back lee's step before (the rename).
    await lp.getByRole('button', { name: 'Undo', exact: true }).click();
    await expect.poll(() => hypothesis(kp, 'uplink saturated').count()).toBe(1);
    expect(await hypothesis(kp, 'cosmic rays').count()).toBe(1);
    await lp.screenshot({ path: `${SHOTS}/undone-dark.png`, fullPage: true });
    await kp.context().close();
    await lp.context().close();
  });

  it('on a phone', async () => {
    const mo = await app.server.createUser('responder', 'mo', 'mo-passphrase-1');
    const incident = await app.server.createIncident(mo.token, { title: 'DNS timeouts' });
    const c = connect(app.server.wsUrl, incident.id, mo.token);
    await synced(c);
    createEntry(c.doc, { kind: 'test', title: 'dig @resolver2', ranAt: new Date().toISOString() });
    createEntry(c.doc, { kind: 'note', title: 'typo entry', ranAt: new Date().toISOString() });
    await c.saved();
    c.destroy();
    const page = await pageFor('mo', 'mo-passphrase-1', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    await openIncident(page, app.server, incident.id);
    await expect.poll(() => count(page), { timeout: 30_000 }).toBe('2 entries');
    await entry(page, 'typo entry').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => count(page)).toBe('1 entry');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Deleted entry' }).count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}/phone-dark-notice.png` });
    await deleted(page).locator('summary').click();
    await deleted(page).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/phone-dark-deleted.png` });
    await page.context().close();
  });
});
