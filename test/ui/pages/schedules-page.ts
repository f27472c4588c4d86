// Page object of the Schedules screen: the new-schedule form with its cron helper, and the schedules table.
import type { Locator, Page } from 'playwright-core';

export class SchedulesPage {
  constructor(readonly page: Page) {}

  get editor(): Locator {
    return this.page.getByRole('form', { name: 'New schedule' });
  }

  async create(fields: { id: string; taskTitle: string; cron: string; timezone: string; params: string }): Promise<string> {
    await this.page.getByRole('button', { name: 'New schedule…' }).click();
    await this.editor.locator('select[name=task] option', { hasText: fields.taskTitle }).waitFor({ state: 'attached' });
    await this.editor.locator('input[name=id]').fill(fields.id);
    await this.editor.locator('select[name=task]').selectOption({ label: fields.taskTitle });
    await this.editor.locator('input[name=cron]').fill(fields.cron);
    const cronText = await this.editor.getByTestId('cron-text').innerText();
    await this.editor.locator('input[name=timezone]').fill(fields.timezone);
    await this.editor.locator('textarea[name=params]').fill(fields.params);
    await this.editor.getByRole('button', { name: 'Save schedule' }).click();
    await this.editor.waitFor({ state: 'hidden' });
    return cronText;
  }

  row(id: string): Locator {
    return this.page.locator(`tr[data-schedule="${id}"]`);
  }
}
