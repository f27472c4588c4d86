// Page object of the Views screen: contributed views by id, rendered from their declarations.
import type { Locator, Page } from 'playwright-core';

export class ViewsPage {
  constructor(readonly page: Page) {}

  async open(viewId: string, title: string): Promise<Locator> {
    await this.page.locator(`.view-list button[data-view="${viewId}"]`).click();
    const view = this.page.getByRole('region', { name: title });
    await view.waitFor();
    return view;
  }
}
