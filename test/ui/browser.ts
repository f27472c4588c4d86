// Debian's Chromium through playwright-core for UI tests: one browser per test file, console errors and page errors
// collected from every page (a test suite fails on any), closed on dispose.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Screenshots the tests write (looked at by people; one is copied into docs/). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-output/ui/', import.meta.url));

export interface TestBrowser extends AsyncDisposable {
  readonly browser: Browser;
  /** Console errors and uncaught page errors seen so far, with the page URL. */
  readonly consoleErrors: string[];
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  screenshot(page: Page, name: string): Promise<string>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const consoleErrors: string[] = [];
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    browser,
    consoleErrors,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${page.url()}: ${m.text()}`));
      page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
      return { context, page };
    },
    async screenshot(page, name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      // Toasts fade on their own; hidden (not removed: the app owns those nodes) so they do not cover the screen.
      await page.locator('.toast').evaluateAll((els) => els.forEach((e) => ((e as unknown as { style: { visibility: string } }).style.visibility = 'hidden')));
      await page.screenshot({ path });
      return path;
    },
    async [Symbol.asyncDispose]() {
      await browser.close();
    },
  };
}
