import { expect } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';
import { axeCheck, overflowing, PHONE, screenshot } from './browser.js';

export interface PageHelpers {
  /** axe once per document, on every OneDoor page (serious/critical violations fail the test). */
  axeOnce(page: Page, name?: string): Promise<void>;
  /**
   * A OneDoor page worth looking at: axe, then a screenshot `<prefix><name>` the first time, then
   * the same page at a phone's width (390 px): nothing may stick out past the right edge.
   */
  look(page: Page, name: string): Promise<void>;
  /** Nothing on the page sticks out past the right edge of a phone's screen (the window is narrowed to it, then put back). */
  fitsPhone(page: Page, name: string): Promise<void>;
  /** Opens the language menu of the header (USWDS language selector) and returns the link to that language. */
  languageLink(page: Page, label: string, nav?: Locator): Promise<Locator>;
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
  const fitsPhone = async (page: Page, name: string) => {
    const size = page.viewportSize() ?? PHONE;
    if (size.width > PHONE.width) await page.setViewportSize({ width: PHONE.width, height: size.height });
    const problems = await overflowing(page);
    if (size.width > PHONE.width) await page.setViewportSize(size);
    if (problems.length) throw new Error(`${prefix}${name} (${page.url()}) is wider than a ${PHONE.width}px phone:\n${problems.join('\n')}`);
  };
  return {
    axeOnce,
    fitsPhone,
    async look(page, name) {
      expect(page.url().startsWith(opts.serverUrl())).toBe(true);
      await axeOnce(page, `${prefix}${name}`);
      if (!shot.has(name)) {
        shot.add(name);
        await screenshot(page, `${prefix}${name}`);
      }
      await fitsPhone(page, name);
    },
    async languageLink(page, label, nav = page.locator('nav.onedoor-lang')) {
      const button = nav.locator('button.usa-language__link');
      if (await button.isVisible() && (await button.getAttribute('aria-expanded')) !== 'true') await button.click();
      return nav.getByRole('link', { name: label, exact: true });
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
