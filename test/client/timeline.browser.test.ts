/**
 * The timeline in the web app, as a viewer catching up reads it: an incident logged through the
 * stock provider and the HTTP API (tests over an hour, one written up long after it ran, a
 * conclusion, a capture, an alert firing and resolving, a hypothesis ruled out, a status change)
 * lies on one UTC axis where each thing happened; filters take items away; zooming goes down to
 * seconds; a click opens the entry in the log. Screenshots: /tmp/bridgelog-timeline*.png.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEntry, createHypothesis, entriesOf, newId, setHypothesisStatus, setVerdict } from '../../shared/schema/doc.js';
import * as Y from 'yjs';
import { burstyTraffic, writePcap } from '../helpers/capture-writer.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { entry, launchChromium, loggedInPage, openIncident, startWebServer } from '../helpers/browser.js';
import { ADMIN_TOKEN, type TestServer } from '../helpers/server.js';

const password = 'timeline-catch-up-2026';
const MIN = 60_000;
// The server dates what it receives now; the tests ran from 40 minutes ago to 40 minutes ahead
// (a test's run time is whatever the responder says), so only the traceroute is back-filled.
const now = Math.floor(Date.now() / 1000) * 1000;
const iso = (t: number) => new Date(t).toISOString();
const ran = {
  traceroute: now - 40 * MIN,
  ping: now - 8 * MIN,
  alertFired: now + 2 * MIN,
  iperf: now + 7 * MIN,
  alertResolved: now + 17 * MIN,
  showInterface: now + 22 * MIN,
  conclusion: now + 42 * MIN,
};

describe('the timeline', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let incidentId: string;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let alertId: string;
  const ids: Record<string, string> = {};
  const timeline = () => page.getByRole('region', { name: 'Timeline' });
  const item = (name: RegExp) => timeline().getByRole('button', { name }).or(timeline().getByRole('img', { name }));
  /** Where an item's moment is on screen: its dot's centre, or its bar's left edge. */
  const xOf = async (locator: Locator) => {
    const dot = await locator.locator('.tl-dot, .tl-bar').first().boundingBox();
    return (await locator.locator('.tl-dot').count()) > 0 ? dot!.x + dot!.width / 2 : dot!.x;
  };
  const range = () => page.getByTestId('timeline-range').textContent();

  beforeAll(async () => {
    server = await startWebServer();
    alice = await server.createUser('responder', 'alice');
    bob = await server.createUser('responder', 'bob');
    await server.createUser('viewer', 'lee', password);
    incidentId = (await server.createIncident(alice.token, { title: 'Packet loss at ny', alertMatchers: ['site=ny'] })).id;

    const a = connect(server.wsUrl, incidentId, alice.token);
    const b = connect(server.wsUrl, incidentId, bob.token);
    await Promise.all([synced(a), synced(b)]);
    const write = async (client: CollabClient, change: (doc: Y.Doc) => void) => {
      change(client.doc);
      await client.saved();
    };
    await write(a, (d) => {
      ids.ping = createEntry(d, { kind: 'test', title: 'ping -c 100 db01', ranAt: iso(ran.ping), observations: '3% loss' });
      ids.traceroute = createEntry(d, { kind: 'note', title: 'traceroute to db01', ranAt: iso(ran.traceroute) });
      ids.iperf = createEntry(d, { kind: 'test', title: 'iperf3 to db01', ranAt: iso(ran.iperf), conclusion: 'Uplink saturates at 940 Mbit/s' });
      ids.conclusion = createEntry(d, { kind: 'conclusion', title: 'Not a switch bug', ranAt: iso(ran.conclusion) });
      ids.hypothesis = createHypothesis(d, 'switch stack bug');
    });
    await write(b, (d) => (ids.showInterface = createEntry(d, { kind: 'test', title: 'show interface Gi1/0/12', ranAt: iso(ran.showInterface) })));
    await write(b, (d) => {
      setVerdict(d, ids.iperf!, ids.hypothesis!, 'refutes');
      setHypothesisStatus(d, ids.hypothesis!, 'ruled-out');
    });
    expect((await server.api('PATCH', `/api/incidents/${incidentId}`, { token: alice.token, body: { status: 'monitoring' } })).status).toBe(200);

    // A capture of the iperf3 run, starting a second after it.
    const form = new FormData();
    const pcap = writePcap(burstyTraffic(BigInt(ran.iperf + 1000) * 1_000_000n, 6000), { nanos: true, little: true });
    form.append('file', new Blob([new Uint8Array(pcap)]), 'uplink.pcap');
    const uploaded = await fetch(`${server.url}/api/incidents/${incidentId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form });
    const capture = (await uploaded.json()) as { id: string };
    await vi.waitFor(async () => {
      const analysis = (await (await server.api('GET', `/api/attachments/${capture.id}/analysis`, { token: alice.token })).json()) as { status: string };
      expect(analysis.status).toBe('done');
    }, { timeout: 20_000, interval: 100 });
    await write(a, () => (entriesOf(a.doc).get(ids.iperf!)!.get('attachments') as Y.Array<string>).push([capture.id]));

    const integration = await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'nagios', kind: 'generic' } });
    const hookToken = ((await integration.json()) as { token: string }).token;
    const alert = { title: 'Output discards on ny-sw01', labels: { site: 'ny' }, fingerprint: `discards-${newId()}` };
    expect((await server.api('POST', '/api/hooks/generic', { token: hookToken, body: { ...alert, startsAt: iso(ran.alertFired) } })).status).toBe(200);
    expect((await server.api('POST', '/api/hooks/generic', { token: hookToken, body: { ...alert, status: 'resolved', endsAt: iso(ran.alertResolved) } })).status).toBe(200);
    alertId = ((await (await server.api('GET', `/api/alerts?incident=${incidentId}`, { token: alice.token })).json()) as Array<{ id: string }>)[0]!.id;
    a.destroy();
    b.destroy();

    browser = await launchChromium();
    page = await loggedInPage(browser, server, 'lee', password, { viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a viewer everything on one UTC axis, where and when it happened', async () => {
    await openIncident(page, server, incidentId);
    await page.getByRole('group', { name: 'View' }).getByRole('button', { name: 'Timeline' }).click();
    await expect.poll(() => range()).toMatch(/^UTC \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z – \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z \(1h \d+m across\)$/);

    const ping = item(/^Test: ping -c 100 db01 · ran /);
    const traceroute = item(/^Note: traceroute to db01/);
    const iperf = item(/^Test: iperf3 to db01/);
    const showInterface = item(/^Test: show interface Gi1\/0\/12 · .* · by bob/);
    const conclusion = item(/^Conclusion: Not a switch bug/);
    const alertBar = item(/^Alert: Output discards on ny-sw01 · .* – /);
    const ruledOut = item(/^Hypothesis: switch stack bug: ruled-out · .* · by bob/);
    const monitoring = item(/^Status: monitoring · .* · by alice/);
    for (const shown of [ping, traceroute, iperf, showInterface, conclusion, alertBar, ruledOut, monitoring, item(/^Conclusion: Uplink saturates/)]) {
      await shown.waitFor();
    }
    // The capture's span appears once its analysis is fetched.
    await item(/^Capture: uplink\.pcap/).waitFor();

    // Each where it happened, in proportion: x is linear in UTC time.
    const x = {
      traceroute: await xOf(traceroute),
      ping: await xOf(ping),
      alertFired: await xOf(alertBar),
      iperf: await xOf(iperf),
      showInterface: await xOf(showInterface),
      conclusion: await xOf(conclusion),
      status: await xOf(monitoring),
      verdict: await xOf(ruledOut),
    };
    const pxPerMs = (x.conclusion - x.traceroute) / (ran.conclusion - ran.traceroute);
    for (const key of ['ping', 'alertFired', 'iperf', 'showInterface'] as const) {
      expect(Math.abs(x[key] - (x.traceroute + (ran[key] - ran.traceroute) * pxPerMs)), key).toBeLessThan(3);
    }
    // Status and verdict changes are dated by the server: when they were made, just after "now".
    for (const key of ['status', 'verdict'] as const) {
      expect(x[key]).toBeGreaterThan(x.ping);
      expect(x[key]).toBeLessThan(x.alertFired);
    }
    const bar = (await alertBar.locator('.tl-bar').boundingBox())!;
    expect(Math.abs(bar.width - (ran.alertResolved - ran.alertFired) * pxPerMs)).toBeLessThan(3);

    // Written up 40 minutes after it ran: both times, and marked.
    expect(await traceroute.textContent()).toContain('back-filled');
    expect(await traceroute.getAttribute('aria-label')).toMatch(/ran .* · logged \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z, back-filled · by alice/);
    expect(await ping.textContent()).not.toContain('back-filled');
    expect(await timeline().locator('.tl-tick').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^\d{2}:\d{2}$/)]));

    for (let i = 0; i < 2; i++) {
      const theme = await page.evaluate(() => document.documentElement.dataset.theme);
      await page.screenshot({ path: `/tmp/bridgelog-timeline-${theme}.png` });
      // Shortcuts are not taken from a focused control (#16): Escape leaves whatever was clicked last.
      await page.keyboard.press('Escape');
      await page.keyboard.press('t');
    }
  });

  it('shows a change as soon as it is in the history', async () => {
    expect((await server.api('PATCH', `/api/incidents/${incidentId}`, { token: bob.token, body: { status: 'identified' } })).status).toBe(200);
    await item(/^Status: identified · .* · by bob/).waitFor({ timeout: 3000 });
  });

  it('filters by author, kind, hypothesis and alert', async () => {
    const filters = timeline().getByRole('group', { name: 'Timeline filters' });
    const count = (name: RegExp) => item(name).count();

    await filters.getByLabel('Author').selectOption({ label: 'bob' });
    await expect.poll(() => count(/^Test: ping -c 100 db01/)).toBe(0);
    expect(await count(/^Test: show interface Gi1\/0\/12/)).toBe(1);
    expect(await count(/^Hypothesis: switch stack bug: ruled-out/)).toBe(1);
    expect(await count(/^Alert:/)).toBe(0);
    await filters.getByLabel('Author').selectOption({ label: 'Everyone' });

    await filters.getByRole('button', { name: 'Tests' }).click();
    await expect.poll(() => count(/^Test: /)).toBe(0);
    expect(await count(/^Note: traceroute to db01/)).toBe(1);
    expect(await count(/^Conclusion: Not a switch bug/)).toBe(1);
    await filters.getByRole('button', { name: 'Tests' }).click();
    await expect.poll(() => count(/^Test: /)).toBe(3);

    await filters.getByLabel('Hypothesis').selectOption({ label: 'switch stack bug' });
    await expect.poll(() => count(/^Test: /)).toBe(1); // the iperf3 run that refutes it
    expect(await count(/^Hypothesis: switch stack bug/)).toBe(2); // proposed, then ruled out
    await filters.getByLabel('Hypothesis').selectOption({ label: 'Any hypothesis' });

    await filters.getByLabel('Alert').selectOption({ value: alertId });
    await expect.poll(() => count(/^Alert: Output discards/)).toBe(1);
    expect(await count(/^Test: /)).toBe(0); // nothing links to it yet
    await filters.getByLabel('Alert').selectOption({ label: 'Any alert' });
    await expect.poll(() => count(/^Test: /)).toBe(3);
  });

  it('zooms from the whole incident down to seconds, around a moment jumped to', async () => {
    await timeline().getByLabel('Jump to (UTC)').fill(iso(ran.iperf + 500).replace('T', ' ')); // 2026-03-04 06:12:30.500Z
    await timeline().getByRole('button', { name: 'Go' }).click();
    for (let i = 0; i < 12; i++) await timeline().getByRole('button', { name: 'Zoom in' }).click();
    await expect.poll(() => range()).toMatch(/\(2s across\)$/);
    expect(await range()).toContain(`${iso(ran.iperf - 1000).slice(11, 19)}Z – `); // centred on the moment jumped to
    const ticks = await timeline().locator('.tl-tick').allTextContents();
    expect(ticks.length).toBeGreaterThan(2);
    for (const tick of ticks) expect(tick).toMatch(/^\d{2}:\d{2}:\d{2}(\.\d{3})?$/);

    // At this scale the capture is a bar starting a second after the test's dot.
    const iperf = item(/^Test: iperf3 to db01/);
    const capture = item(/^Capture: uplink\.pcap/);
    const secondPx = (await timeline().locator('.tl-axis').boundingBox())!.width / 2;
    expect(Math.abs((await xOf(capture)) - (await xOf(iperf)) - secondPx)).toBeLessThan(3);
    await page.screenshot({ path: '/tmp/bridgelog-timeline-seconds.png' });

    // The wheel zooms back out, around the pointer.
    const plot = (await timeline().locator('.tl-axis').boundingBox())!;
    await page.mouse.move(plot.x + plot.width / 2, plot.y + 100);
    for (let i = 0; i < 6; i++) await page.mouse.wheel(0, 400);
    await expect.poll(() => range()).toMatch(/\((\d+m|1h \d+m)\s*across\)$/);

    // Dragging to the left moves on in time, keeping the zoom.
    const before = (await range())!;
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width / 2 - 200, plot.y + 100, { steps: 5 });
    await page.mouse.up();
    const after = (await range())!;
    expect(after.slice(4, 24) > before.slice(4, 24)).toBe(true);
    expect(after.slice(-12)).toBe(before.slice(-12));
    await timeline().getByRole('button', { name: 'Whole incident' }).click();
    await expect.poll(() => range()).toMatch(/\(1h \d+m across\)$/);
  });

  it('opens an item’s entry in the log', async () => {
    await item(/^Test: show interface Gi1\/0\/12/).click();
    await expect.poll(() => entry(page, 'show interface Gi1/0/12').getAttribute('class')).toContain('selected');
    expect(await page.getByRole('group', { name: 'View' }).getByRole('button', { name: 'Log' }).getAttribute('aria-pressed')).toBe('true');
    expect(await timeline().count()).toBe(0);
    await expect.poll(() => entry(page, 'show interface Gi1/0/12').isVisible()).toBe(true);
  });

  it('stays quick with thousands of entries: only what is in view is in the page, the rest counted', async () => {
    const busy = (await server.createIncident(alice.token, { title: 'Three days of packet loss' })).id;
    const a = connect(server.wsUrl, busy, alice.token);
    await synced(a);
    const start = now - 12 * 60 * MIN;
    a.doc.transact(() => {
      for (let i = 0; i < 3000; i++) createEntry(a.doc, { kind: i % 10 === 0 ? 'note' : 'test', title: `ping db${i % 40} #${i}`, ranAt: iso(start + i * 14_000) });
    });
    await a.saved();
    a.destroy();

    await openIncident(page, server, busy);
    await page.getByRole('group', { name: 'View' }).getByRole('button', { name: 'Timeline' }).click();
    const log = timeline().getByRole('group', { name: 'Log' });
    await log.locator('.tl-cluster').first().waitFor();
    expect(await log.locator('.tl-item').count()).toBeLessThan(100);
    expect(await log.locator('.tl-item').count()).toBeGreaterThan(5);
    const counted = (await log.locator('.tl-cluster').allTextContents()).reduce((sum, n) => sum + Number(n), 0);
    expect(counted + (await log.locator('.tl-item').count())).toBe(3000);
    await page.screenshot({ path: '/tmp/bridgelog-timeline-busy.png' });

    // Zooming is a frame's work, not a pause: twenty wheel steps in well under a second each.
    const plot = (await timeline().locator('.tl-axis').boundingBox())!;
    await page.mouse.move(plot.x + plot.width / 3, plot.y + 150);
    const started = Date.now();
    for (let i = 0; i < 20; i++) await page.mouse.wheel(0, -150);
    await expect.poll(() => range()).toMatch(/\(\d+[ms] across\)$/);
    expect((Date.now() - started) / 20).toBeLessThan(500);
    // Close enough in, every entry has its label.
    await expect.poll(() => log.locator('.tl-cluster').count()).toBe(0);
    expect(await log.locator('.tl-item').count()).toBeGreaterThan(0);

    // A count zooms into what it stands for.
    await timeline().getByRole('button', { name: 'Whole incident' }).click();
    await log.locator('.tl-cluster').nth(3).click();
    await expect.poll(() => range()).toMatch(/\(\d+[ms] across\)$/);
  });
});
