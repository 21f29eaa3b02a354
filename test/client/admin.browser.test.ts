/**
 * Administration in the web app (#16), as admins and responders use it in Chromium, several at once:
 * an admin invites someone by link (the invitee opens it in a browser of their own, chooses a name
 * and password and is in; the link then refuses a second use), changes their role and removes them;
 * manages alert integrations (token shown once, last alert, revoke); others never see any of it and
 * the server refuses them. On an incident: severity from the keyboard (`s` `1`), the title renamed,
 * the members restricted — each seen live by the others and in the attributed history.
 * Each test may take minutes under a loaded machine (several browsers at once), hence their 180 s limits.
 * Screenshots (light, dark, phone): /tmp/shots-admin/admin-*.png.
 */
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvents } from '../../shared/history.js';
import { launchChromium, loggedInPage, openIncident, startWebServer } from '../helpers/browser.js';
import { ADMIN_TOKEN, type TestServer } from '../helpers/server.js';
import { patient } from '../helpers/patient-browser.js';

const SHOTS = '/tmp/shots-admin';
const password = 'admin-area-passphrase-2026';
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

describe('the admin area and the incident header', () => {
  let server: TestServer;
  let browser: Browser;
  let ada: Page; // admin, light
  let rob: Page; // responder, dark
  const ids: Record<string, string> = {};

  const shot = async (page: Page, name: string) => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/admin-${name}.png`, fullPage: true });
  };

  beforeAll(async () => {
    server = await startWebServer();
    for (const [name, role] of [['ada', 'admin'], ['rob', 'responder'], ['cat', 'responder']] as const) {
      ids[name] = (await server.createUser(role, name, password)).id;
    }
    browser = patient(await launchChromium());
    ada = await loggedInPage(browser, server, 'ada', password, { colorScheme: 'light' });
    rob = await loggedInPage(browser, server, 'rob', password, { colorScheme: 'dark' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the Admin area to admins only; the server refuses everyone else', async () => {
    await ada.goto(server.url);
    await ada.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Admin' }).click();
    await expect.poll(() => ada.getByRole('heading', { name: 'Users' }).count()).toBe(1);
    const adminNav = ada.getByRole('navigation', { name: 'Administration' });
    expect(await adminNav.getByRole('link').allTextContents()).toEqual(['Users', 'Alert integrations', 'Notifications']);

    await rob.goto(server.url);
    await expect.poll(() => rob.getByTestId('current-user').textContent()).toBe('rob responder');
    expect(await rob.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    await rob.goto(`${server.url}/admin/users`);
    await expect.poll(() => rob.getByText('Only admins manage users.').count()).toBe(1);
    expect(await rob.getByRole('button', { name: 'Create invite link' }).count()).toBe(0);
    // Not just hidden: refused.
    for (const [method, path] of [['GET', '/api/invites'], ['POST', '/api/invites'], ['GET', '/api/integrations'], ['PATCH', `/api/users/${ids.cat}`]] as const) {
      const res = await rob.request.fetch(`${server.url}${path}`, { method, data: method === 'GET' ? undefined : { role: 'admin' } });
      expect(res.status(), `${method} ${path}`).toBe(403);
    }
  }, 180_000);

  it('invites by link: the invitee signs up in their own browser and is in; the link then refuses a second use', async () => {
    await ada.goto(`${server.url}/admin/users`);
    const form = ada.getByRole('form', { name: 'New invite' });
    await form.getByLabel('Role').selectOption('responder');
    await form.getByLabel('Link works for').selectOption('168');
    await form.getByRole('button', { name: 'Create invite link' }).click();
    const link = (await ada.getByTestId('invite-link').textContent())!;
    expect(link).toMatch(new RegExp(`^${server.url}/invite/blinv_`));
    await expect.poll(() => ada.getByRole('row', { name: 'Invite as responder' }).count()).toBe(1);
    await shot(ada, 'users-light');

    const stranger = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: 'dark' });
    const nia = await stranger.newPage();
    await nia.goto(link);
    await expect.poll(() => nia.getByText('You are invited as a').textContent()).toContain('responder');
    await nia.screenshot({ path: `${SHOTS}/admin-invite-phone-dark.png`, fullPage: true });
    await nia.getByLabel('Name').fill('nia');
    await nia.getByLabel(/^Password \(at least/).fill('nia-chooses-this-1');
    await nia.getByLabel('Password again').fill('nia-chooses-that-2');
    await nia.getByRole('button', { name: 'Join as responder' }).click();
    await expect.poll(() => nia.getByRole('alert').textContent()).toBe('the two passwords differ');
    await nia.getByLabel('Password again').fill('nia-chooses-this-1');
    await nia.getByRole('button', { name: 'Join as responder' }).click();
    await nia.waitForURL(`${server.url}/`);
    await expect.poll(() => nia.getByTestId('current-user').textContent()).toBe('nia responder');

    const other = await browser.newPage();
    await other.goto(link);
    await expect.poll(() => other.getByRole('alert').textContent()).toContain('has been used already');
    expect(await other.getByRole('button', { name: /Join/ }).count()).toBe(0);
    await other.screenshot({ path: `${SHOTS}/admin-invite-used-light.png` });
    await other.close();

    await ada.reload();
    const row = ada.getByRole('row', { name: 'nia' });
    await expect.poll(() => row.textContent()).toContain('invite from ada');
    expect(await ada.getByRole('row', { name: 'Invite as responder' }).count()).toBe(0);

    // A role change reaches nia (her next page load says viewer); removing her ends her session.
    await row.getByLabel('Role of nia').selectOption('viewer');
    await expect.poll(async () => (await (await nia.request.get(`${server.url}/api/auth/me`)).json()).role).toBe('viewer');
    ada.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Remove nia' }).click();
    await expect.poll(() => row.textContent()).toContain('removed');
    await expect.poll(async () => (await nia.request.get(`${server.url}/api/auth/me`)).status()).toBe(401);
    await shot(ada, 'users-removed-light');
    await row.getByRole('button', { name: 'Restore nia' }).click();
    await expect.poll(() => row.getByLabel('Role of nia').count()).toBe(1);

    await stranger.close();
  }, 180_000);

  it('makes an alert integration (its token shown once), shows its last alert, and revokes it', async () => {
    await ada.goto(`${server.url}/admin/users`);
    await ada.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Alert integrations' }).click();
    const form = ada.getByRole('form', { name: 'New integration' });
    await form.getByLabel('Name').fill('prod alertmanager');
    await form.getByLabel('Sender').selectOption('alertmanager');
    await form.getByRole('button', { name: 'Add integration' }).click();
    const token = (await ada.getByTestId('integration-token').textContent())!;
    expect(token).toMatch(/^bli_/);
    expect(await ada.getByText(`${server.url}/api/hooks/alertmanager`).count()).toBe(1);
    const row = ada.getByRole('row', { name: 'prod alertmanager' });
    expect(await row.getByTestId('last-alert').textContent()).toBe('none yet');

    const hook = await fetch(`${server.url}/api/hooks/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: fs.readFileSync('test/fixtures/alerts/alertmanager-v4-firing.json', 'utf8'),
    });
    expect(hook.status).toBe(200);
    await ada.reload();
    expect(await ada.getByTestId('integration-token').count()).toBe(0); // once
    await expect.poll(() => row.getByTestId('last-alert').textContent()).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    await shot(ada, 'integrations-light');

    ada.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Revoke prod alertmanager' }).click();
    await expect.poll(() => row.textContent()).toContain('revoked');
    const refused = await fetch(`${server.url}/api/hooks/alertmanager`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"alerts":[]}' });
    expect(refused.status).toBe(401);

    const dark = await loggedInPage(browser, server, 'ada', password, { colorScheme: 'dark' });
    await dark.goto(`${server.url}/admin/integrations`);
    await expect.poll(() => dark.getByRole('row', { name: 'prod alertmanager' }).count()).toBe(1);
    await dark.screenshot({ path: `${SHOTS}/admin-integrations-dark.png`, fullPage: true });
    await dark.goto(`${server.url}/admin/users`);
    await expect.poll(() => dark.getByRole('row', { name: 'nia' }).count()).toBe(1);
    await dark.screenshot({ path: `${SHOTS}/admin-users-dark.png`, fullPage: true });
    await dark.close();
    const phone = await loggedInPage(browser, server, 'ada', password, { ...PHONE, colorScheme: 'light' });
    await phone.goto(`${server.url}/admin/users`);
    await expect.poll(() => phone.getByRole('row', { name: 'nia' }).count()).toBe(1);
    await phone.screenshot({ path: `${SHOTS}/admin-users-phone.png`, fullPage: true });
    await phone.goto(`${server.url}/admin/integrations`);
    await expect.poll(() => phone.getByRole('row', { name: 'prod alertmanager' }).count()).toBe(1);
    await phone.screenshot({ path: `${SHOTS}/admin-integrations-phone.png`, fullPage: true });
    await phone.close();
  }, 180_000);

  it('changes severity (s 1), title and members from the incident header: live for others, in the attributed history', async () => {
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'Packet loss on ny-sw01', severity: 'sev3' });
    const cat = await loggedInPage(browser, server, 'cat', password);
    await openIncident(rob, server, incident.id);
    await openIncident(ada, server, incident.id);
    await openIncident(cat, server, incident.id);

    // Two keys from rest: s focuses the severity, 1 picks sev1.
    await rob.keyboard.press('Escape');
    await rob.keyboard.press('s');
    await rob.keyboard.press('1');
    for (const page of [rob, ada, cat]) await expect.poll(() => page.getByLabel('Severity').inputValue()).toBe('sev1');

    await rob.getByRole('button', { name: 'Rename the incident' }).click();
    await rob.getByLabel('Incident title').fill('Packet loss on ny-sw01 and ny-sw02');
    await rob.keyboard.press('Enter');
    for (const page of [rob, ada, cat]) await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Packet loss on ny-sw01 and ny-sw02');
    await expect.poll(() => rob.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Rename the incident');

    const events = (await (await server.api('GET', `/api/incidents/${incident.id}/events`, { token: ADMIN_TOKEN })).json()) as HistoryEvents;
    const by = (field: string) => events.events.find((e) => e.changes.some((c) => c.kind === 'incident' && c.field === field && e.seq > 1))?.userId;
    expect(by('severity')).toBe(ids.rob);
    expect(by('title')).toBe(ids.rob);

    // Rob did not declare it and is no admin: he is not offered it, and the server refuses him.
    expect(await rob.getByRole('button', { name: 'Restrict…' }).count()).toBe(0);
    const refused = await rob.request.patch(`${server.url}/api/incidents/${incident.id}`, { data: { members: [ids.rob!] } });
    expect(refused.status()).toBe(403);

    // The admin (who declared it) restricts it to herself and rob: cat loses it at once; rob sees who.
    await ada.getByRole('button', { name: 'Restrict…' }).click();
    const dialog = ada.getByRole('dialog', { name: 'Who can see this incident' });
    await dialog.getByLabel(/Only these people/).check();
    // Whoever restricts it is among its members unless they take themselves out (then they are warned).
    expect(await dialog.getByRole('checkbox', { name: /^ada/ }).isChecked()).toBe(true);
    await dialog.getByRole('checkbox', { name: /^rob/ }).check();
    await shot(ada, 'members-light');
    await dialog.getByRole('button', { name: 'Save members' }).click();
    await expect.poll(() => cat.getByRole('alert').textContent()).toContain('no longer shared with you');
    await expect.poll(() => rob.locator('.badge.restricted').textContent()).toBe('restricted to admin, ada, rob');
    await expect.poll(() => ada.getByRole('button', { name: 'Members…' }).count()).toBe(1);
    expect((await server.api('GET', `/api/incidents/${incident.id}`, { token: (await server.createUser('responder')).token })).status).toBe(404);
    await shot(ada, 'incident-header-light');
    await rob.screenshot({ path: `${SHOTS}/admin-incident-header-dark.png` });
    const phone = await loggedInPage(browser, server, 'rob', password, { ...PHONE, colorScheme: 'dark' });
    await openIncident(phone, server, incident.id);
    await phone.screenshot({ path: `${SHOTS}/admin-incident-header-phone.png` });
    await phone.close();
    await cat.close();

    // Opened again to everyone: the badge goes for rob, and cat can open it once more.
    await ada.getByRole('button', { name: 'Members…' }).click();
    await dialog.getByLabel('Everyone signed in').check();
    await dialog.getByRole('button', { name: 'Save members' }).click();
    await expect.poll(() => rob.locator('.badge.restricted').count()).toBe(0);
    const catAgain = await loggedInPage(browser, server, 'cat', password);
    await openIncident(catAgain, server, incident.id);
    await expect.poll(() => catAgain.getByLabel('Severity').inputValue()).toBe('sev1');
    await catAgain.close();
  }, 180_000);
});
