/**
 * Hostile Markdown renders inert. A responder's script writes a corpus of XSS payloads into entries
 * through the stock provider; a colleague's browser renders them. The page runs with its Content
 * Security Policy bypassed, so the sanitizer alone stands between the payloads and the page — and a
 * control copy of the same payloads, inserted unsanitized, proves that they do run when allowed to.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEntry } from '../../shared/schema/doc.js';
import { connect, synced } from '../helpers/collab-client.js';
import { entry, launchChromium, loggedInPage, openIncident, startWebServer } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { armed, XSS_PAYLOADS } from './xss-payloads.js';

const password = 'a long on-call passphrase';
const CONTROL = 1000;
const PER_ENTRY = 12;
const payloads = armed((n) => `top.__pwned(${n})`);

describe('hostile markdown', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let incidentId: string;
  const ran: number[] = [];

  beforeAll(async () => {
    server = await startWebServer();
    const mallory = await server.createUser('responder', 'mallory');
    await server.createUser('responder', 'alice', password);
    const incident = await server.createIncident(mallory.token, { title: 'XSS corpus' });

    const script = connect(server.wsUrl, incident.id, mallory.token);
    await synced(script);
    for (let i = 0; i < payloads.length; i += PER_ENTRY) {
      const batch = payloads.slice(i, i + PER_ENTRY);
      createEntry(script.doc, {
        kind: 'test',
        title: `payloads ${i}–${i + batch.length - 1}`,
        ranAt: new Date(Date.UTC(2026, 2, 4, 6, 0, i)).toISOString(),
        command: batch[0]!,
        observations: batch.join('\n\n'),
        conclusion: batch.at(-1)!,
      });
    }
    createEntry(script.doc, { kind: 'note', title: payloads[1]!, ranAt: '2026-03-04T07:00:00.000Z' });
    await script.saved();
    script.destroy();

    browser = await launchChromium();
    page = await loggedInPage(browser, server, 'alice', password, { bypassCSP: true, viewport: { width: 1280, height: 8000 } });
    await page.context().exposeFunction('__pwned', (n: number) => ran.push(n));
    page.on('dialog', (dialog) => {
      ran.push(-1);
      void dialog.dismiss();
    });
    incidentId = incident.id;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('renders every payload without running any of it', async () => {
    await openIncident(page, server, incidentId);
    const batches = Math.ceil(XSS_PAYLOADS.length / PER_ENTRY);
    await expect.poll(() => page.locator('article.entry .markdown').count()).toBe(batches * 2);
    await page.screenshot({ path: '/tmp/bridgelog-xss.png', clip: { x: 0, y: 0, width: 1280, height: 1500 } });

    // The control: the same payloads, unsanitized, in the same page, do run.
    await page.evaluate((html) => {
      const control = document.createElement('div');
      control.hidden = true;
      control.innerHTML = html;
      document.body.append(control);
    }, armed((n) => `top.__pwned(${n})`, CONTROL).join('\n'));
    // (13 of them in Chromium 156: image, media and frame errors and loads, details toggles, SVG animations.)
    await expect.poll(() => ran.filter((n) => n >= CONTROL).length).toBeGreaterThanOrEqual(10);
    // Handlers that fire on their own (errors, loads, toggles, animations) have had their chance.
    expect(ran.filter((n) => n < CONTROL)).toEqual([]);

    // Nothing in the rendered Markdown could run later either: no handlers, no scripting elements,
    // and no link, source or form target with a scripting scheme.
    const dangerous = await page.locator('article.entry .markdown').evaluateAll((blocks) => {
      const found: string[] = [];
      for (const block of blocks) {
        for (const el of block.querySelectorAll('*')) {
          for (const attr of el.attributes) {
            if (attr.name.startsWith('on') || attr.name === 'style' || attr.name === 'srcdoc') found.push(`${el.tagName} ${attr.name}`);
            if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(attr.name) && !/^(https?:|mailto:|#|\/|x$)/i.test(attr.value.trim())) {
              found.push(`${el.tagName} ${attr.name}=${attr.value}`);
            }
          }
          if (/^(SCRIPT|IFRAME|OBJECT|EMBED|SVG|MATH|STYLE|FORM|INPUT|BUTTON|SELECT|META|BASE|LINK|NOSCRIPT)$/i.test(el.tagName)) found.push(el.tagName);
        }
      }
      return found;
    });
    expect(dangerous).toEqual([]);

    // What cannot be rendered safely as HTML is still there to read, as text.
    const last = entry(page, `payloads ${(batches - 1) * PER_ENTRY}–${XSS_PAYLOADS.length - 1}`);
    expect(await last.locator('.markdown code').first().textContent()).toBe(`<img src=x onerror=top.__pwned(${XSS_PAYLOADS.length - 1})>`);
    expect(await entry(page, payloads[1]!).locator('h3').textContent()).toBe(payloads[1]);
    expect(await page.locator('article.entry .command code').first().textContent()).toBe('<script>top.__pwned(0)</script>');
    expect(ran.filter((n) => n < CONTROL)).toEqual([]);
  });
});
