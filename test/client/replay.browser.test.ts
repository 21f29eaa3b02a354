/**
 * Replay and "Since you left" on the incident page, in Chromium: history written by two people
 * through stock y-websocket clients, then seen as it was at a moment, played forward with who
 * changed what, and caught up on after being away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Digest, HistoryEvents } from '../../shared/history.js';
import { createEntry, createHypothesis, entryText, setHypothesisStatus, setMeta } from '../../shared/schema/doc.js';
import { entry, launchChromium, loggedInPage, openIncident, startWebServer } from '../helpers/browser.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { ADMIN_TOKEN, type TestServer } from '../helpers/server.js';
import type * as Y from 'yjs';

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

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A page whose clicks fail with a message, rather than wait for the test's timeout. */
async function pageFor(name: string, password: string): Promise<Page> {
  const page = await loggedInPage(browser, server, name, password);
  page.setDefaultTimeout(15_000);
  return page;
}

/** One change, durable on the server, then a pause so the next has a later receive time. */
async function step(c: CollabClient, change: (doc: Y.Doc) => void) {
  change(c.doc);
  await c.saved();
  await pause(40);
}

const text = (page: Page, selector: string) => page.locator(selector).first().textContent();
const alertCard = (page: Page) => page.getByRole('region', { name: 'Alerts' }).getByRole('listitem', { name: 'Discards on ny-sw01' });

describe('replay', () => {
  it('shows the log exactly as it was at a moment, plays it forward with who changed what, and exits to the live log', async () => {
    const kim = await server.createUser('responder', 'kim', 'kim-passphrase-1');
    const lee = await server.createUser('responder', 'lee', 'lee-passphrase-1');
    const hook = (await (await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'mon', kind: 'generic' } })).json()) as { token: string };
    const incident = await server.createIncident(kim.token, { title: 'Loss on ny-sw01', alertMatchers: ['site=ny'] });
    const k = connect(server.wsUrl, incident.id, kim.token);
    const l = connect(server.wsUrl, incident.id, lee.token);
    await Promise.all([synced(k), synced(l)]);

    let ping = '';
    let hypothesis = '';
    await step(k, (d) => {
      ping = createEntry(d, { kind: 'test', title: 'ping gw', ranAt: '2026-03-04T06:00:00.000Z', command: 'ping -c 3 10.0.0.1', observations: '3 of 3 answered' });
      hypothesis = createHypothesis(d, 'uplink saturated');
    });
    await step(l, (d) => createEntry(d, { kind: 'test', title: 'iperf to ams', ranAt: '2026-03-04T06:05:00.000Z', command: 'iperf3 -c ams1' }));
    const alert = { title: 'Discards on ny-sw01', labels: { site: 'ny' }, fingerprint: 'fp-replay' };
    expect((await server.api('POST', '/api/hooks/generic', { token: hook.token, body: alert })).status).toBe(200);
    await pause(40);
    await step(k, (d) => entryText(d, ping, 'conclusion')!.insert(0, 'gw answers; loss is upstream'));
    const afterConclusion = new Date().toISOString();
    await pause(40);
    await step(l, (d) => setHypothesisStatus(d, hypothesis, 'ruled-out'));
    await step(k, (d) => setMeta(d, { status: 'monitoring' }));
    expect((await server.api('POST', '/api/hooks/generic', { token: hook.token, body: { ...alert, status: 'resolved' } })).status).toBe(200);

    // A moment between kim's first entry and lee's: the middle of the gap between their records.
    const index = (await (await server.api('GET', `/api/incidents/${incident.id}/events`, { token: kim.token })).json()) as HistoryEvents;
    const added = index.events.filter((e) => e.changes.some((c) => c.kind === 'entry-added'));
    expect(added).toHaveLength(2);
    const moment = new Date((Date.parse(added[0]!.toAt) + Date.parse(added[1]!.at)) / 2).toISOString();

    const page = await pageFor('kim', 'kim-passphrase-1');
    await openIncident(page, server, incident.id);
    await expect.poll(() => entry(page, 'iperf to ams').count()).toBe(1);
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    const bar = page.getByRole('region', { name: 'Replay' });
    await expect.poll(() => bar.getByRole('slider', { name: 'Replay time' }).count()).toBe(1);

    // It opens where the incident began; a click at the slider's end shows the present.
    await expect.poll(() => page.getByTestId('replay-entry-count').textContent()).toBe('0 entries then');
    const track = (await bar.getByRole('slider', { name: 'Replay time' }).boundingBox())!;
    await page.mouse.click(track.x + track.width - 2, track.y + track.height / 2);
    await expect.poll(() => page.getByTestId('replay-entry-count').textContent()).toBe('2 entries then');

    // Seek by typing the moment: only what existed then, as it was then.
    await bar.getByLabel('Go to (UTC)').fill(moment);
    await bar.getByRole('button', { name: 'Go', exact: true }).click();
    await expect.poll(() => text(page, '.replay-banner')).toContain(`Replay — as of ${moment.slice(0, 23).replace('T', ' ')} UTC`);
    await expect.poll(() => page.getByTestId('replay-entry-count').textContent()).toBe('1 entry then');
    expect(await entry(page, 'iperf to ams').count()).toBe(0);
    const pingThen = entry(page, 'ping gw');
    expect(await pingThen.getByRole('region', { name: 'Observations' }).textContent()).toContain('3 of 3 answered');
    expect(await pingThen.getByRole('region', { name: 'Conclusion' }).count()).toBe(0);
    expect(await pingThen.locator('.byline').textContent()).toMatch(/^by kim · logged [\d-]+ [\d:]+Z$/); // nobody else had edited it
    expect(await pingThen.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    expect(await page.getByRole('listitem', { name: 'uplink saturated' }).locator('.badge').textContent()).toBe('open');
    expect(await text(page, '.replay-status')).toContain('investigating');
    expect(await page.getByRole('region', { name: 'Alerts' }).textContent()).toContain('No alerts on this incident');
    await page.screenshot({ path: '/tmp/bridgelog-replay-seek.png' });

    // Next change: lee's entry appears, outlined, with who added it.
    await bar.getByRole('button', { name: /Next change/ }).click();
    await expect.poll(() => entry(page, 'iperf to ams').count()).toBe(1);
    expect(await entry(page, 'iperf to ams').getAttribute('class')).toContain('changed');
    expect(await entry(page, 'iperf to ams').locator('.replay-change').textContent()).toBe('lee · logged');
    expect(await bar.getByRole('list', { name: 'What changed' }).textContent()).toContain('lee logged test “iperf to ams”');

    // And the next: kim's conclusion, with the alert that had fired in between.
    await bar.getByRole('button', { name: /Next change/ }).click();
    await expect.poll(() => pingThen.locator('.replay-change').textContent()).toBe('kim · conclusion');
    expect(await pingThen.getByRole('region', { name: 'Conclusion' }).textContent()).toContain('gw answers; loss is upstream');
    expect(await entry(page, 'iperf to ams').getAttribute('class')).not.toContain('changed');
    expect(await bar.getByRole('list', { name: 'What changed' }).textContent()).toContain('kim changed conclusion of “ping gw”');
    expect(await alertCard(page).locator('.badge').textContent()).toBe('firing');
    await page.screenshot({ path: '/tmp/bridgelog-replay-step.png' });

    // Play the rest at 60×: lee's verdict and kim's status change, then it stops at the present.
    await bar.getByRole('button', { name: '60×' }).click();
    await bar.getByRole('button', { name: '▶ Play' }).click();
    await expect.poll(() => text(page, '.replay-status')).toContain('monitoring');
    await expect.poll(() => bar.getByRole('button', { name: '▶ Play' }).count()).toBe(1);
    expect(await page.getByRole('listitem', { name: 'uplink saturated' }).locator('.badge').textContent()).toBe('ruled-out');
    expect(await bar.getByRole('list', { name: 'What changed' }).textContent()).toContain('kim set the incident’s status to monitoring');
    expect(await bar.getByRole('button', { name: /Next change/ }).isDisabled()).toBe(true);
    await page.screenshot({ path: '/tmp/bridgelog-replay-played.png' });

    // Keys meant for the log do nothing to the hidden live log meanwhile (j would select, e would edit).
    await page.keyboard.press('j');
    await page.keyboard.press('e');

    // Exit: the live log, where the alert has resolved since.
    await bar.getByRole('button', { name: 'Exit replay' }).click();
    expect(await page.locator('.log [aria-current]').count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Replay' }).count()).toBe(0);
    expect(await page.getByTestId('entry-count').textContent()).toBe('2 entries');
    expect(await entry(page, 'ping gw').getByRole('button', { name: 'Edit' }).count()).toBe(1);
    await expect.poll(() => alertCard(page).locator('.badge').textContent()).toBe('resolved');

    // Lee detaches the alert: it leaves the live panel at once, and a replay of the moment after
    // kim's conclusion still shows it on the incident, firing, as it was then.
    const [attached] = (await (await server.api('GET', `/api/alerts?incident=${incident.id}`, { token: kim.token })).json()) as Array<{ id: string }>;
    expect((await server.api('DELETE', `/api/incidents/${incident.id}/alerts/${attached!.id}`, { token: lee.token })).status).toBe(200);
    await expect.poll(() => page.getByRole('region', { name: 'Alerts' }).textContent()).toContain('No alerts on this incident');
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await bar.getByLabel('Go to (UTC)').fill(afterConclusion);
    await bar.getByRole('button', { name: 'Go', exact: true }).click();
    await expect.poll(() => pingThen.getByRole('region', { name: 'Conclusion' }).textContent()).toContain('gw answers; loss is upstream');
    await expect.poll(() => alertCard(page).count()).toBe(1);
    expect(await alertCard(page).locator('.badge').textContent()).toBe('firing');
    await page.screenshot({ path: '/tmp/bridgelog-replay-detached-alert.png' });
    await bar.getByRole('button', { name: 'Exit replay' }).click();
    expect(await page.getByRole('region', { name: 'Alerts' }).textContent()).toContain('No alerts on this incident');
    k.destroy();
    l.destroy();
    await page.context().close();
  });
});

describe('since you left', () => {
  it('lists exactly what changed while a responder was away, links each to its entry, and is gone once dismissed', async () => {
    const kim = await server.createUser('responder', 'kim2', 'kim-passphrase-2');
    const lee = await server.createUser('responder', 'lee2', 'lee-passphrase-2');
    const incident = await server.createIncident(kim.token, { title: 'Flapping BGP' });
    const k = connect(server.wsUrl, incident.id, kim.token);
    await synced(k);
    let ping = '';
    let hypothesis = '';
    await step(k, (d) => {
      ping = createEntry(d, { kind: 'test', title: 'ping gw', ranAt: '2026-03-04T06:00:00.000Z' });
      hypothesis = createHypothesis(d, 'route flap damping');
    });

    // Lee reads along, then closes the page.
    const first = await pageFor('lee2', 'lee-passphrase-2');
    await openIncident(first, server, incident.id);
    await expect.poll(() => entry(first, 'ping gw').count()).toBe(1);
    // A first visit offers the incident so far (#16): kim's entry and hypothesis.
    await expect.poll(() => first.getByRole('region', { name: 'Catch up' }).getByRole('heading', { level: 2 }).textContent()).toBe('New here? The incident so far — 2 changes');
    await first.context().close();
    // The server notes where Lee left once it sees the socket close.
    await expect
      .poll(async () => ((await (await server.api('GET', `/api/incidents/${incident.id}/digest`, { token: lee.token })).json()) as Digest).sinceLastSeen, { timeout: 15_000 })
      .toBe(true);

    // While Lee is away.
    await step(k, (d) => createEntry(d, { kind: 'test', title: 'show bgp summary', ranAt: '2026-03-04T06:20:00.000Z', conclusion: 'peer 2 flaps every 90 s' }));
    await step(k, (d) => entryText(d, ping, 'conclusion')!.insert(0, 'gw is fine'));
    await step(k, (d) => setHypothesisStatus(d, hypothesis, 'supported'));
    await step(k, (d) => setMeta(d, { status: 'identified' }));

    const page = await pageFor('lee2', 'lee-passphrase-2');
    await openIncident(page, server, incident.id);
    const panel = page.getByRole('region', { name: 'Catch up' });
    await expect.poll(() => panel.getByRole('heading', { level: 2 }).textContent(), { timeout: 10_000 }).toMatch(/^Since you left \(\d\d:\d\d UTC\) — 4 changes$/);
    const group = (name: string) => panel.getByRole('region', { name }).getByRole('listitem').allTextContents();
    expect(await group('Incident')).toEqual([expect.stringMatching(/^status: investigating → identifiedkim2 · \d\d:\d\d:\d\dZ$/)]);
    expect(await group('New tests and entries')).toEqual([expect.stringContaining('show bgp summarypeer 2 flaps every 90 skim2 · ')]);
    expect(await group('Conclusions')).toEqual([expect.stringMatching(/^ping gw\s*gw is finekim2 · /)]);
    expect(await group('Hypotheses and verdicts')).toEqual([expect.stringContaining('“route flap damping”: open → supported')]);
    expect(await panel.getByRole('region').count()).toBe(4);
    await page.screenshot({ path: '/tmp/bridgelog-since-you-left.png' });

    // Each line links to its entry.
    await panel.getByRole('region', { name: 'Conclusions' }).getByRole('button', { name: 'ping gw' }).click();
    await expect.poll(() => entry(page, 'ping gw').getAttribute('aria-current')).toBe('true');

    // Dismissed, it stays gone.
    await panel.getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => panel.count()).toBe(0);
    await page.reload();
    await expect.poll(() => page.getByTestId('save-state').textContent()).toBe('Saved');
    await pause(300);
    expect(await panel.count()).toBe(0);

    // Anyone can ask what changed since a time.
    await page.getByRole('button', { name: 'Catch up…' }).click();
    await panel.getByLabel('What changed since (UTC)').fill('-1h');
    await panel.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => panel.getByRole('heading', { level: 2 }).textContent()).toMatch(/^Since (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC — \d+ changes$/);
    expect(await panel.getByRole('region', { name: 'New tests and entries' }).getByRole('listitem').count()).toBe(2);
    await panel.getByRole('button', { name: 'Close' }).click();
    expect(await panel.count()).toBe(0);
    k.destroy();
    await page.context().close();
  });
});
