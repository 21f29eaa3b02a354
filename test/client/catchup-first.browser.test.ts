/**
 * Catch-up for a first-time latecomer (#16), in Chromium: someone opening an incident for the first
 * time is offered the summary from the start — status changes, hypotheses and verdicts, conclusions,
 * the latest tests — instead of nothing; the one who did all of it is not told of it as news; and
 * coming back later, one's own changes made meanwhile are left out of "Since you left".
 */
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../shared/history.js';
import { createEntry, createHypothesis, setHypothesisStatus, setMeta, setVerdict } from '../../shared/schema/doc.js';
import { entry, openIncident, webAppForFile } from '../helpers/browser.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';

const SHOTS = '/tmp/shots-corrections';
const app = webAppForFile({ shots: SHOTS });
const { pageFor } = app;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function step(c: CollabClient, change: (doc: CollabClient['doc']) => void) {
  change(c.doc);
  await c.saved();
  await pause(40);
}

describe('catch-up for a first-time latecomer', () => {
  it('offers the incident so far on a first visit, never one’s own changes as news', async () => {
    const kim = await app.server.createUser('responder', 'kim', 'kim-passphrase-1');
    const lee = await app.server.createUser('responder', 'lee', 'lee-passphrase-1');
    const incident = await app.server.createIncident(kim.token, { title: 'Loss on ny-sw01' });
    const k = connect(app.server.wsUrl, incident.id, kim.token);
    await synced(k);
    const ranAt = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    let hypothesis = '';
    let ping = '';
    await step(k, (d) => {
      ping = createEntry(d, { kind: 'test', title: 'ping gw', ranAt: ranAt(40), conclusion: 'gw answers; loss is upstream' });
      hypothesis = createHypothesis(d, 'uplink saturated');
    });
    for (let i = 1; i <= 10; i++) await step(k, (d) => createEntry(d, { kind: 'test', title: `iperf run ${i}`, ranAt: ranAt(30 - i) }));
    await step(k, (d) => setVerdict(d, ping, hypothesis, 'supports'));
    await step(k, (d) => setHypothesisStatus(d, hypothesis, 'supported'));
    await step(k, (d) => setMeta(d, { status: 'identified' }));

    // Kim did all of it: opening the page, kim is told of nothing.
    const kp = await pageFor('kim', 'kim-passphrase-1');
    await openIncident(kp, app.server, incident.id);
    await expect.poll(() => entry(kp, 'iperf run 10').count(), { timeout: 30_000 }).toBe(1);
    await pause(500);
    expect(await kp.getByRole('region', { name: 'Catch up' }).count()).toBe(0);
    await kp.context().close();

    // Lee and ann, never here before, get the summary from the start (lee in light, ann in dark).
    await app.server.createUser('responder', 'ann', 'ann-passphrase-1');
    for (const [who, colorScheme] of [['lee', 'light'], ['ann', 'dark']] as const) {
      const lp = await pageFor(who, `${who}-passphrase-1`, { colorScheme });
      await openIncident(lp, app.server, incident.id);
      const panel = lp.getByRole('region', { name: 'Catch up' });
      await expect.poll(() => panel.getByRole('heading', { level: 2 }).textContent(), { timeout: 10_000 }).toMatch(/^New here\? The incident so far — \d+ changes$/);
      // Offered folded: one click shows it.
      expect(await panel.getByRole('region').count()).toBe(0);
      await panel.getByRole('button', { name: 'Read the summary' }).click();
      const group = (name: string) => panel.getByRole('region', { name }).getByRole('listitem').allTextContents();
      expect(await group('Incident')).toEqual([expect.stringMatching(/^status: investigating → identifiedkim · /)]);
      expect(await group('Hypotheses and verdicts')).toEqual([expect.stringContaining('New hypothesis “uplink saturated” supported')]);
      expect(await group('Conclusions').catch(() => [])).toEqual([]); // the conclusion came with its entry: listed there
      const tests = panel.getByRole('region', { name: 'New tests and entries' });
      expect(await tests.getByRole('heading').textContent()).toBe('New tests and entries — the latest 8 of 11');
      // The latest changed: ping gw (its verdict came last) and iperf runs 4 to 10, not the first three.
      const listed = await tests.getByRole('listitem').allTextContents();
      expect(listed.map((t) => t.replace(/^test/, '').replace(/(kim|gw answers).*$/, '').trim())).toEqual([4, 5, 6, 7, 8, 9, 10].map((i) => `iperf run ${i}`).concat('ping gw'));
      await lp.screenshot({ path: `${SHOTS}/first-visit-${colorScheme}.png` });
      if (colorScheme === 'dark') {
        await panel.getByRole('button', { name: 'Dismiss' }).click();
        await expect.poll(() => panel.count()).toBe(0);
      }
      await lp.context().close();
    }

    // Lee comes back later: what lee did meanwhile (a milestone set over the HTTP API) is not news; kim's entry is.
    await expect
      .poll(async () => ((await (await app.server.api('GET', `/api/incidents/${incident.id}/digest`, { token: lee.token })).json()) as Digest).sinceLastSeen, { timeout: 15_000 })
      .toBe(true);
    expect((await app.server.api('PUT', `/api/incidents/${incident.id}/milestones/detected`, { token: lee.token, body: {} })).status).toBe(200);
    await step(k, (d) => createEntry(d, { kind: 'test', title: 'show interface counters', ranAt: ranAt(0) }));
    const phone = await pageFor('lee', 'lee-passphrase-1', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
    await openIncident(phone, app.server, incident.id);
    const panel = phone.getByRole('region', { name: 'Catch up' });
    await expect.poll(() => panel.getByRole('heading', { level: 2 }).textContent(), { timeout: 10_000 }).toMatch(/^Since you left \(\d\d:\d\d UTC\) — 1 change$/);
    expect(await panel.textContent()).toContain('show interface counters');
    expect(await panel.textContent()).not.toContain('Detected');
    expect(await panel.getByRole('region', { name: 'Milestones' }).count()).toBe(0);
    await phone.screenshot({ path: `${SHOTS}/since-you-left-phone-dark.png` });
    k.destroy();
    await phone.context().close();
  });
});
