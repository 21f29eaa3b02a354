/**
 * Two responders in Chromium, each reaching Bridgelog through their own HAProxy that prefers a
 * different node (two sites, say), edit one entry together. Alice's node is SIGKILLed mid-sentence:
 * her page moves to the other node by itself, nothing she typed is lost, and both pages end the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startHaproxy, freePort, type LocalHaproxy } from '../../cluster/engines.js';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster.js';
import { entry, launchChromium, logFromKeyboard } from '../helpers/browser.js';
import { ADMIN_TOKEN } from '../helpers/server.js';
import { api } from '../helpers/api.js';
import { printNodeLogsOnFailure } from '../helpers/cluster-logs.js';

let cluster: LocalCluster;
printNodeLogsOnFailure(() => cluster);
let browser: Browser;
const proxies: LocalHaproxy[] = [];


async function pageFor(proxy: LocalHaproxy, name: string, password: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const res = await context.request.post(`${proxy.url}/api/auth/login`, { data: { name, password } });
  expect(res.status()).toBe(200);
  return context.newPage();
}
const saveState = (page: Page) => page.getByTestId('save-state').textContent();

beforeAll(async () => {
  cluster = await startLocalCluster({ nodes: 2, haproxy: false, env: { BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'warn' } });
  const [n1, n2] = cluster.nodes.map((n) => ({ name: n.name, port: n.port }));
  proxies.push(await startHaproxy(await freePort(), [n1!, { ...n2!, backup: true }]));
  proxies.push(await startHaproxy(await freePort(), [n2!, { ...n1!, backup: true }]));
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  for (const p of proxies) await p.stop();
  await cluster?.stop();
});

describe('failover in the browser', () => {
  it('two users on different nodes edit one entry; one node is killed; both keep working and end identical', async () => {
    const [site1, site2] = proxies;
    for (const name of ['alice', 'bob']) await api(cluster.nodes[0]!.url, 'POST', '/api/users', ADMIN_TOKEN, { name, role: 'responder', password: 'correct horse battery' });
    const alice = await pageFor(site1!, 'alice', 'correct horse battery');
    const bob = await pageFor(site2!, 'bob', 'correct horse battery');
    await alice.goto(`${site1!.url}/`);
    const incident = await api(cluster.nodes[1]!.url, 'POST', '/api/incidents', ADMIN_TOKEN, { title: 'Checkout latency' });
    await alice.goto(`${site1!.url}/incidents/${incident.id}`);
    await bob.goto(`${site2!.url}/incidents/${incident.id}`);
    for (const page of [alice, bob]) await expect.poll(() => saveState(page)).toBe('Saved');

    await logFromKeyboard(alice, { title: 'curl checkout health', observations: '2.41 s' });
    await entry(bob, 'curl checkout health').waitFor({ timeout: 10_000 });
    // Both edit its observations: Bob appends, Alice appends.
    await entry(bob, 'curl checkout health').getByRole('button', { name: 'Edit' }).click();
    await bob.locator('.cm-content[aria-label="Observations"]').click();
    await bob.keyboard.press('Control+End');
    await bob.keyboard.type(' | bob: same from app03');
    await entry(alice, 'curl checkout health').getByRole('button', { name: 'Edit' }).click();
    await alice.locator('.cm-content[aria-label="Observations"]').click();
    await alice.keyboard.press('Control+End');
    await alice.keyboard.type(' | alice: before the kill');
    await expect.poll(() => saveState(alice)).toBe('Saved');

    // Alice's node dies. She keeps typing; her page reconnects through her proxy to the other node.
    await cluster.nodes[0]!.kill();
    await alice.keyboard.type(' | alice: while her node died');
    await bob.keyboard.type(' | bob: meanwhile');
    await expect.poll(() => saveState(alice), { timeout: 20_000 }).toBe('Saved');
    await expect.poll(() => saveState(bob), { timeout: 20_000 }).toBe('Saved');
    await alice.keyboard.press('Escape');
    await bob.keyboard.press('Escape');

    const text = (page: Page) => entry(page, 'curl checkout health').locator('.markdown').first().textContent();
    await expect.poll(async () => (await text(alice)) === (await text(bob)) && (await text(alice))!.includes('while her node died') && (await text(alice))!.includes('bob: meanwhile'), { timeout: 20_000 }).toBe(true);
    for (const part of ['2.41 s', 'bob: same from app03', 'alice: before the kill', 'alice: while her node died', 'bob: meanwhile']) expect(await text(alice)).toContain(part);
    await alice.screenshot({ path: 'test-results/cluster-failover-alice.png' });

    // And the node that is left has it, for anyone who opens the incident now.
    const state = await fetch(`${cluster.nodes[1]!.url}/api/incidents/${incident.id}/export?format=json`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(state.status).toBe(200);
    expect(await state.text()).toContain('alice: while her node died');
    await cluster.nodes[0]!.start();
  });
});
