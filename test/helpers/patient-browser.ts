/**
 * Pages that wait up to 90 s for an element or a navigation instead of Playwright's 30 s: the #16
 * browser tests run several browsers at once, and on a machine running the whole suite (load average
 * above 20 on 2 cores seen) a page took over 30 s to show its header. Waiting longer costs nothing
 * when things are quick; nothing here measures speed.
 */
import type { Browser, BrowserContext } from 'playwright-core';

const PATIENCE_MS = 90_000;

export function patient(browser: Browser): Browser {
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args: Parameters<Browser['newContext']>): Promise<BrowserContext> => {
    const context = await newContext(...args);
    context.setDefaultTimeout(PATIENCE_MS);
    context.setDefaultNavigationTimeout(PATIENCE_MS);
    return context;
  };
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (...args: Parameters<Browser['newPage']>) => {
    const page = await newPage(...args);
    page.setDefaultTimeout(PATIENCE_MS);
    page.setDefaultNavigationTimeout(PATIENCE_MS);
    return page;
  };
  return browser;
}
