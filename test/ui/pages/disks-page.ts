// Page object of the Disks screen: disk selection, the disk map's segments, the partition table and pending operations.
import type { Locator, Page } from 'playwright-core';

export interface MapSegment {
  number: number;
  startLba: number;
  sizeSectors: number;
}

export class DisksPage {
  constructor(readonly page: Page) {}

  /** Refresh (the disk list is read when the screen opens), then select the disk. */
  async selectDisk(path: string): Promise<void> {
    await this.page.getByRole('region', { name: 'Disks', exact: true }).getByRole('button', { name: 'Refresh' }).click();
    await this.page.locator(`.disk-row[data-disk="${path}"] .disk-name`).click();
    await this.details(path).waitFor();
  }

  details(path: string): Locator {
    return this.page.getByRole('region', { name: `Disk ${path}` });
  }

  get pending(): Locator {
    return this.page.getByRole('region', { name: 'Pending operations' });
  }

  pendingSteps(): Locator {
    return this.pending.locator('ol.steps > li');
  }

  get preview(): Locator {
    return this.pending.getByLabel('Preview of the table after the plan');
  }

  /** The partitions the selected disk's map draws, as numbers, start sectors and sizes. */
  async mapSegments(path: string): Promise<MapSegment[]> {
    return this.details(path).locator('.diskbar .segment.part').evaluateAll((els) => els.map((el) => ({
      number: Number(el.getAttribute('data-partition')),
      startLba: Number(el.getAttribute('data-start-lba')),
      sizeSectors: Number(el.getAttribute('data-size-sectors')),
    })));
  }

  async undo(): Promise<void> {
    await this.pending.getByRole('button', { name: 'Undo' }).click();
  }

  async togglePreview(): Promise<void> {
    await this.pending.getByRole('button', { name: 'Preview' }).click();
  }

  /** Apply, then confirm in the dialog; waits until the plan is empty again. */
  async applyAndConfirm(): Promise<void> {
    await this.pending.getByRole('button', { name: 'Apply' }).click();
    const dialog = this.page.getByRole('alertdialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await this.pending.locator('.count', { hasText: /^0$/ }).waitFor({ timeout: 30_000 });
  }
}
