// Page object of the app shell: opening with the token, the command palette driven from the keyboard, screens, toasts.
import { expect } from 'vitest';
import type { Locator, Page } from 'playwright-core';

export class AppPage {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.locator('.topbar .brand').waitFor();
  }

  get palette(): Locator {
    return this.page.getByRole('dialog', { name: 'Command palette' });
  }

  get paletteInput(): Locator {
    return this.palette.locator('.palette-input');
  }

  paletteOptions(): Locator {
    return this.palette.getByRole('option');
  }

  async openPalette(): Promise<void> {
    await this.page.keyboard.press('Control+Shift+P');
    await expect.poll(() => this.palette.isVisible()).toBe(true);
    await expect.poll(() => this.paletteInput.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
  }

  /** Ctrl+Shift+P, type the query, Enter; then, when the command takes arguments, type them and Enter. Keyboard only. */
  async runFromPalette(query: string, expectedCommandId: string, args?: string): Promise<void> {
    await this.openPalette();
    await this.page.keyboard.type(query);
    await expect.poll(() => this.paletteOptions().first().getAttribute('data-command')).toBe(expectedCommandId);
    await this.page.keyboard.press('Enter');
    if (args !== undefined) {
      await this.palette.locator('.palette-chosen').waitFor();
      await this.page.keyboard.press('Control+A');
      await this.page.keyboard.type(args);
      await this.page.keyboard.press('Enter');
    }
    await this.palette.waitFor({ state: 'hidden' });
  }

  async goTo(screen: string): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen, exact: true }).click();
  }

  /** Waits until no command is in flight (the UI has reloaded what it shows). */
  async settle(): Promise<void> {
    await this.page.waitForLoadState('networkidle');
    await this.page.waitForTimeout(150);
  }

  errorToasts(): Locator {
    return this.page.locator('.toast.error');
  }
}
