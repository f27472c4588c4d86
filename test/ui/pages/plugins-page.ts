// Page object of the Plugins screen: install from a package file (permissions shown before consent), disable, uninstall.
import type { Locator, Page } from 'playwright-core';

export class PluginsPage {
  constructor(readonly page: Page) {}

  /** Checks the file, returns what the consent dialog says, then installs. */
  async install(file: string): Promise<string> {
    const form = this.page.getByRole('form', { name: 'Install a plugin' });
    await form.locator('input[name=file]').fill(file);
    await form.getByRole('button', { name: 'Check…' }).click();
    const dialog = this.page.getByRole('alertdialog', { name: 'Install this plugin?' });
    await dialog.waitFor();
    const shown = await dialog.innerText();
    await dialog.getByRole('button', { name: 'Install' }).click();
    await dialog.waitFor({ state: 'hidden' });
    return shown;
  }

  row(id: string): Locator {
    return this.page.locator(`tr[data-plugin="${id}"]`);
  }
}
