/**
 * Restricting an incident while people have it open, as they would see it in Chromium: the members'
 * header says who it is restricted to, and a non-member's page stops showing it at once — the open
 * incident and the incident list alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, loggedInPage, openIncident, startWebServer } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';

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

describe('restricting an incident that is open in browsers', () => {
  it('shows members who it is for, and takes it away from everyone else at once', async () => {
    const lead = await server.createUser('responder', 'sec-lead', 'a long passphrase');
    const analyst = await server.createUser('responder', 'sec-analyst', 'a long passphrase');
    await server.createUser('responder', 'bystander', 'a long passphrase');
    const incident = await server.createIncident(lead.token, { title: 'Suspicious logins on vpn01' });

    const leadPage = await loggedInPage(browser, server, 'sec-lead', 'a long passphrase');
    const bystanderPage = await loggedInPage(browser, server, 'bystander', 'a long passphrase');
    const listPage = await loggedInPage(browser, server, 'bystander', 'a long passphrase');
    await openIncident(leadPage, server, incident.id);
    await openIncident(bystanderPage, server, incident.id);
    await listPage.goto(server.url);
    await expect.poll(() => listPage.getByRole('link', { name: 'Suspicious logins on vpn01' }).count()).toBe(1);

    const res = await server.api('PATCH', `/api/incidents/${incident.id}`, { token: lead.token, body: { members: [analyst.id] } });
    expect(res.status).toBe(200);

    await expect.poll(() => leadPage.locator('.badge.restricted').textContent()).toBe('restricted to sec-lead, sec-analyst');
    await expect.poll(() => bystanderPage.getByRole('alert').textContent()).toMatch(/no longer shared with you/);
    // Nothing of what was written after it was restricted reached the bystander's page, and the copy it
    // kept is gone: reloading does not bring the incident back, even offline.
    expect(await bystanderPage.getByText('sec-analyst').count()).toBe(0);
    expect(await bystanderPage.getByText('Suspicious logins on vpn01').count()).toBe(0);
    await bystanderPage.reload();
    await expect.poll(() => bystanderPage.getByRole('alert').textContent()).toMatch(/no such incident/);
    await expect.poll(() => listPage.getByRole('link', { name: 'Suspicious logins on vpn01' }).count()).toBe(0);
    await leadPage.screenshot({ path: 'test-results/restricted-lead.png' });
    await bystanderPage.screenshot({ path: 'test-results/restricted-bystander.png' });
  });
});
