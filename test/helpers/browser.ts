/**
 * Debian's Chromium driven by playwright-core, against a real server serving the built web app
 * (dist/client: run `npm run build` first; `npm test` does).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { startTestServer, type TestServer } from './server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const clientDir = path.resolve('dist/client');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A test server that also serves the web app. */
export function startWebServer(): Promise<TestServer> {
  if (!fs.existsSync(path.join(clientDir, 'index.html'))) throw new Error('dist/client is missing: run `npm run build` first');
  return startTestServer({ config: { clientDir } });
}

/** A page in a browser context of its own (its own cookies and IndexedDB), logged in as `name`. */
export async function loggedInPage(browser: Browser, server: TestServer, name: string, password: string, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  const res = await context.request.post(`${server.url}/api/auth/login`, { data: { name, password } });
  expect(res.status()).toBe(200);
  return context.newPage();
}

/** Opens the incident and waits until the page says everything is saved (connected and synced). */
export async function openIncident(page: Page, server: TestServer, incidentId: string): Promise<void> {
  await page.goto(`${server.url}/incidents/${incidentId}`);
  await expect.poll(() => page.getByTestId('save-state').textContent()).toBe('Saved');
}

/** Logs a test from the keyboard only: Esc (out of any field), `n`, type, Ctrl+Enter. */
/** Logs an entry as a responder would, from the keyboard; resolves with when it was submitted (ms). */
export async function logFromKeyboard(page: Page, entry: { title: string; command?: string; observations?: string; conclusion?: string }): Promise<number> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('n');
  await page.keyboard.type(entry.title);
  const form = page.getByRole('form', { name: 'New entry' });
  if (entry.command) await form.getByLabel('Command').fill(entry.command);
  if (entry.observations) await form.getByLabel('Observations').fill(entry.observations);
  if (entry.conclusion) await form.getByLabel('Conclusion', { exact: true }).fill(entry.conclusion);
  const submitted = Date.now();
  await page.keyboard.press('Control+Enter');
  return submitted;
}

export const entry = (page: Page, title: string) => page.getByRole('article', { name: title, exact: true });

/**
 * One web server and one Chromium for a test file (started before its tests, closed after them),
 * and pages signed in as a user that wait up to `timeoutMs` for what they look for.
 */
export function webAppForFile(opts: { shots?: string; timeoutMs?: number } = {}) {
  const app = {
    server: undefined as unknown as TestServer,
    browser: undefined as unknown as Browser,
    async pageFor(name: string, password: string, options: Parameters<typeof loggedInPage>[4] = {}): Promise<Page> {
      const page = await loggedInPage(app.browser, app.server, name, password, options);
      page.setDefaultTimeout(opts.timeoutMs ?? 15_000);
      return page;
    },
  };
  beforeAll(async () => {
    if (opts.shots) fs.mkdirSync(opts.shots, { recursive: true });
    app.server = await startWebServer();
    app.browser = await launchChromium();
  });
  afterAll(async () => {
    await app.browser?.close();
    await app.server?.close();
  });
  return app;
}
