import { expect } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';
import { axeCheck, screenshot } from './browser.js';

export interface PageHelpers {
  /** axe once per document, on every OneDoor page (serious/critical violations fail the test). */
  axeOnce(page: Page, name?: string): Promise<void>;
  /** A OneDoor page worth looking at: axe, then a screenshot `<prefix><name>` the first time. */
  look(page: Page, name: string): Promise<void>;
  /** Does something that leaves the document, waits until the next one has loaded, runs axe on it. */
  settle(page: Page, action: () => Promise<unknown>, timeout?: number): Promise<void>;
  /** Opens a URL and runs axe on where it lands. */
  go(page: Page, url: string): Promise<void>;
  /** The normalized text of the first match, waiting for it to be there. */
  text(locator: Locator): Promise<string>;
}

/**
 * The conventions every browser suite follows: axe on each OneDoor page, a screenshot the first
 * time a named page is seen, navigation that waits for the next document. `prefix` names the
 * suite's screenshots and axe reports (`proofing-`, `delegation-`, or none).
 */
export function pageHelpers(opts: { serverUrl: () => string; prefix?: string }): PageHelpers {
  const prefix = opts.prefix ?? '';
  const shot = new Set<string>();
  const axeOnce = async (page: Page, name?: string) => {
    if (!page.url().startsWith(opts.serverUrl())) return;
    if (await page.evaluate(() => (window as unknown as { __axed?: boolean }).__axed === true)) return;
    const auto = prefix ? `${prefix.replace(/-$/, '')}${new URL(page.url()).pathname.replace(/^\/interaction\/[^/]+/, '/interaction').replace(/[^A-Za-z0-9]+/g, '-')}` : undefined;
    await axeCheck(page, { name: name ?? auto });
    await page.evaluate(() => { (window as unknown as { __axed?: boolean }).__axed = true; });
  };
  return {
    axeOnce,
    async look(page, name) {
      expect(page.url().startsWith(opts.serverUrl())).toBe(true);
      await axeOnce(page, `${prefix}${name}`);
      if (!shot.has(name)) {
        shot.add(name);
        await screenshot(page, `${prefix}${name}`);
      }
    },
    async settle(page, action, timeout = 20_000) {
      await page.evaluate(() => { (window as unknown as { __stale?: boolean }).__stale = true; });
      await action();
      await page.waitForFunction(() => !(window as unknown as { __stale?: boolean }).__stale && document.readyState === 'complete', undefined, { timeout, polling: 100 });
      await axeOnce(page);
    },
    async go(page, url) {
      await page.goto(url);
      await axeOnce(page);
    },
    async text(locator) {
      const first = locator.first();
      await first.waitFor({ state: 'attached' });
      return ((await first.textContent()) ?? '').replace(/\s+/g, ' ').trim();
    },
  };
}
