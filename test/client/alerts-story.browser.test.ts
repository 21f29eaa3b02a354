/**
 * Alerts tell one story, and the timeline and the export list the same things (#16), in Chromium:
 * the suggestions on an entry put the incident's own alerts first and say why; linking one that is
 * not on the incident attaches it, so the alerts panel, its count and the export agree; the
 * timeline view shows the severity change and the attached file that the export's timeline lists.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../shared/alerts.js';
import type { Report } from '../../shared/schema/export.js';
import { createEntry, entriesOf, setMeta } from '../../shared/schema/doc.js';
import { entry, openIncident, webAppForFile } from '../helpers/browser.js';
import { connect, synced } from '../helpers/collab-client.js';
import { ADMIN_TOKEN } from '../helpers/server.js';
import type * as Y from 'yjs';

const SHOTS = '/tmp/shots-corrections';
const app = webAppForFile({ shots: SHOTS });
const { pageFor } = app;

describe('alerts tell one story', () => {
  it('ranks and explains suggestions, attaches a linked alert, and the panel, timeline and export agree', async () => {
    const kim = await app.server.createUser('responder', 'kim', 'kim-passphrase-1');
    const hook = (await (await app.server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'mon', kind: 'generic' } })).json()) as { token: string };
    const fire = async (title: string, minutesAgo: number) =>
      expect(
        (await app.server.api('POST', '/api/hooks/generic', { token: hook.token, body: { title, labels: { site: 'ny' }, startsAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(), fingerprint: title } })).status,
      ).toBe(200);
    await fire('ny-sw01 discards', 3);
    const incident = await app.server.createIncident(kim.token, { title: 'Loss on ny-sw01', alertMatchers: ['site=ny'] });
    await fire('ny uplink errors', 1);
    // Attached at declaration by the matchers, then detached by hand: matched, not attached.
    const [discards] = ((await (await app.server.api('GET', `/api/alerts?incident=${incident.id}`, { token: kim.token })).json()) as Alert[]).filter((a) => a.title === 'ny-sw01 discards');
    expect((await app.server.api('DELETE', `/api/incidents/${incident.id}/alerts/${discards!.id}`, { token: kim.token })).status).toBe(200);

    const k = connect(app.server.wsUrl, incident.id, kim.token);
    await synced(k);
    const ping = createEntry(k.doc, { kind: 'test', title: 'ping gw', ranAt: new Date().toISOString() });
    setMeta(k.doc, { severity: 'sev1' });
    await k.saved();
    const form = new FormData();
    form.append('file', new Blob([new TextEncoder().encode('Gi0/1 input errors 1234\n')]), 'counters.txt');
    const file = (await (await fetch(`${app.server.url}/api/incidents/${incident.id}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${kim.token}` }, body: form })).json()) as { id: string };
    (entriesOf(k.doc).get(ping)!.get('attachments') as Y.Array<string>).push([file.id]);
    await k.saved();
    k.destroy();

    const page = await pageFor('kim', 'kim-passphrase-1', { colorScheme: 'dark' });
    await openIncident(page, app.server, incident.id);
    const panel = page.getByRole('region', { name: 'Alerts' }).first();
    await expect.poll(() => panel.locator('h2 .badge').textContent(), { timeout: 30_000 }).toBe('1 firing');

    await entry(page, 'ping gw').getByRole('button', { name: 'Alerts…' }).click();
    const suggested = entry(page, 'ping gw').getByRole('list', { name: 'Suggested alerts' });
    await expect.poll(() => suggested.getByRole('listitem').count()).toBe(2);
    const reasons = await suggested.locator('.reason').allTextContents();
    expect(reasons[0]).toMatch(/^attached to this incident, firing when this test ran/);
    expect(reasons[1]).toMatch(/^matches site=ny, firing when this test ran/);
    expect(await suggested.getByRole('listitem').first().getAttribute('aria-label')).toBe('ny uplink errors');
    await page.screenshot({ path: `${SHOTS}/suggestions-dark.png` });

    // Linking the detached one attaches it: the panel and its count follow, and so does the export.
    await suggested.getByRole('listitem', { name: 'ny-sw01 discards' }).getByRole('button', { name: 'Link' }).click();
    await expect.poll(() => panel.locator('h2 .badge').textContent()).toBe('2 firing');
    expect(await panel.textContent()).toContain('ny-sw01 discards');
    await expect.poll(() => entry(page, 'ping gw').getByRole('list', { name: 'Linked alerts' }).textContent()).toContain('ny-sw01 discards');
    const report = (await (await page.context().request.get(`${app.server.url}/api/incidents/${incident.id}/export?format=json`)).json()) as Report;
    expect(report.alerts.map((a) => a.title).sort()).toEqual(['ny uplink errors', 'ny-sw01 discards']);
    expect(report.entries[0]!.alerts.map((a) => a.title)).toEqual(['ny-sw01 discards']);

    // The timeline view and the export's timeline list the severity change and the attached file.
    await page.getByRole('group', { name: 'View' }).getByRole('button', { name: 'Timeline' }).click();
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await expect.poll(async () => (await timeline.locator('[aria-label]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))).join('\n'), { timeout: 15_000 }).toMatch(/Status: severity sev1/);
    const labels = (await timeline.locator('[aria-label]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))).join('\n');
    expect(labels, labels).toMatch(/File: counters\.txt · attached/);
    await page.screenshot({ path: `${SHOTS}/timeline-dark.png` });
    const rows = report.timeline.map((t) => t.what);
    expect(rows).toEqual(expect.arrayContaining(['Severity: sev1', 'File attached: counters.txt (to “ping gw”)']));
    await page.context().close();
  });
});
