// Page object of the backup wizard: fill source and image, start, and record every progress update the page shows
// (timed in the page itself by a MutationObserver, so the test's own polling adds no delay).
import type { Locator, Page } from 'playwright-core';

export interface ProgressSample {
  atMs: number;
  phase: string;
  percent: string;
  rate: string;
  eta: string;
}

/** What the page's window holds for the recorder (the test's tsconfig has no DOM types). */
interface PageGlobals {
  progressSamples: ProgressSample[];
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, boolean>): void };
}

export class BackupPage {
  constructor(readonly page: Page) {}

  get wizard(): Locator {
    return this.page.getByRole('form', { name: 'backup wizard' });
  }

  /** Starts a backup of `source` into an image file, or into a repository (`{ repo, passFile }`). */
  async start(source: string, image: string | { repo: string; passFile: string }): Promise<void> {
    await this.wizard.locator('input[name=source]').fill(source);
    if (typeof image === 'string') {
      await this.wizard.getByLabel('an image file').check();
      await this.wizard.locator('input[name=image]').fill(image);
    } else {
      await this.wizard.getByLabel('a repository').check();
      await this.wizard.locator('input[name=repo]').fill(image.repo);
      await this.wizard.locator('input[name="passphrase-file"]').fill(image.passFile);
    }
    await this.wizard.evaluate((form) => {
      const samples: ProgressSample[] = [];
      const page = globalThis as unknown as PageGlobals;
      page.progressSamples = samples;
      let seen: string | null = null;
      new page.MutationObserver(() => {
        const live = form.querySelector('.live');
        const updates = live?.getAttribute('data-updates') ?? null;
        if (!live || updates === seen) return;
        seen = updates;
        const text = (sel: string) => live.querySelector(sel)?.textContent ?? '';
        samples.push({ atMs: performance.now(), phase: text('.phase'), percent: text('.percent'), rate: text('.rate'), eta: text('.eta') });
      }).observe(form, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    const previous = this.wizard.locator('[data-outcome]');
    const hadOutcome = (await previous.count()) > 0;
    await this.wizard.getByRole('button', { name: 'Start backup' }).click();
    // The last run's outcome goes when this one starts; finish() must not read it.
    if (hadOutcome) await previous.waitFor({ state: 'detached' });
  }

  /** Restores a repository's snapshot onto `target` from the restore wizard, confirming; returns the outcome. */
  async restoreFromRepository(repo: string, passFile: string, snapshot: string, target: string, timeoutMs = 120_000): Promise<{ outcome: string; text: string }> {
    await this.page.getByRole('tab', { name: 'Restore' }).click();
    const wizard = this.page.getByRole('form', { name: 'restore wizard' });
    await wizard.getByLabel('a repository').check();
    await wizard.locator('input[name=repo]').fill(repo);
    await wizard.locator('input[name="passphrase-file"]').fill(passFile);
    await wizard.locator('input[name=snapshot]').fill(snapshot);
    await wizard.locator('input[name=target]').fill(target);
    await wizard.getByRole('button', { name: 'Start restore' }).click();
    const dialog = this.page.getByRole('alertdialog', { name: `Restore onto ${target}?` });
    await dialog.getByText(`snapshot ${snapshot} of ${repo}`).waitFor();
    await dialog.getByRole('button', { name: 'Restore' }).click();
    const outcome = wizard.locator('[data-outcome]');
    await outcome.waitFor({ timeout: timeoutMs });
    return { outcome: (await outcome.getAttribute('data-outcome'))!, text: await outcome.innerText() };
  }

  /** Waits for the outcome; returns the updates the page showed. */
  async finish(timeoutMs = 120_000): Promise<{ samples: ProgressSample[]; outcome: string; text: string }> {
    const outcome = this.wizard.locator('[data-outcome]');
    await outcome.waitFor({ timeout: timeoutMs });
    const samples = await this.page.evaluate(() => (globalThis as unknown as PageGlobals).progressSamples);
    return { samples, outcome: (await outcome.getAttribute('data-outcome'))!, text: await outcome.innerText() };
  }
}
