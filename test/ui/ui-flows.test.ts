// The web UI in Debian's Chromium against a real `shadowdisk serve` and real loop devices: the token, the palette from the
// keyboard, a GPT queued, previewed, undone and applied (judged by sfdisk), a backup with live progress (judged by
// image verify), an installed plugin's command and view, a schedule made in the UI; no console errors; screenshots.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopDevice, mkfs, mount, run, sparseImage, tempDir, type TempDir } from '../helpers/index.js';
import { npmPack, traversableStateDir } from '../plugins/plugin-packages.js';
import { cli, startBackend, type Backend } from './backend-process.js';
import { launchBrowser, type TestBrowser } from './browser.js';
import { AppPage } from './pages/app-page.js';
import { BackupPage } from './pages/backup-page.js';
import { DisksPage } from './pages/disks-page.js';
import { PluginsPage } from './pages/plugins-page.js';
import { SchedulesPage } from './pages/schedules-page.js';
import { ViewsPage } from './pages/views-page.js';

const MiB = 1024 * 1024;
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

const notesPlugin = {
  name: 'notes',
  publisher: 'acme',
  contributes: {
    commands: [
      { id: 'acme.notes.hello', title: 'Say hello from an isolated plugin', category: 'Notes' },
      { id: 'acme.notes.list', title: 'List notes', category: 'Notes' },
      { id: 'acme.notes.label-disk', title: 'Label the selected disk', category: 'Notes', enablement: "diskSelected && screen == 'disks'", usage: '<disk>' },
    ],
    views: [{ id: 'acme.notes.table', title: 'Notes', kind: 'table', dataCommand: 'acme.notes.list' }],
  },
  files: {
    'index.js': `export function activate(ctx) {
  ctx.commands.registerCommand('acme.notes.hello', () => ({ data: { pid: process.pid }, text: 'Hello from pid ' + process.pid }));
  ctx.commands.registerCommand('acme.notes.list', () => ({ data: { notes: [{ id: 1, text: 'first note', pid: process.pid }, { id: 2, text: 'second note', pid: process.pid }] } }));
  ctx.commands.registerCommand('acme.notes.label-disk', (args) => ({ data: { disk: args.positionals[0] }, text: 'Labelled ' + args.positionals[0] }));
}
`,
  },
};

let state: TempDir;
let scratch: TempDir;
let backend: Backend;
let browser: TestBrowser;
let page: Page;
let app: AppPage;
/** Requests for Monaco's files: none until the Script screen opens. */
const monacoRequests: string[] = [];

beforeAll(async () => {
  state = await traversableStateDir();
  scratch = await tempDir();
  const file = await npmPack(scratch.path, notesPlugin);
  expect(JSON.parse((await cli(state.path, ['plugin', 'install', file, '--yes', '--json'])).stdout)).toMatchObject({ id: 'acme.notes' });
  backend = await startBackend(state.path);
  browser = await launchBrowser();
  ({ page } = await browser.newPage());
  app = new AppPage(page);
  page.on('request', (r) => /\/monaco\/|\/editor\.(html|js)/.test(r.url()) && monacoRequests.push(r.url()));
  await app.open(backend.url);
}, 120_000);

afterAll(async () => {
  await browser?.[Symbol.asyncDispose]();
  await backend?.[Symbol.asyncDispose]();
  await scratch?.[Symbol.asyncDispose]();
  await state?.[Symbol.asyncDispose]();
});

describe('web UI in Chromium', () => {
  it('answers 401 to a browser without the token, and the token URL leaves it in a cookie, not in the address', async () => {
    const stranger = await browser.browser.newContext();
    try {
      const p = await stranger.newPage();
      for (const path of ['/', '/app.js', '/?token=not-the-token']) {
        const response = await p.goto(`${backend.origin}${path}`);
        expect(response!.status(), path).toBe(401);
      }
    } finally {
      await stranger.close();
    }
    expect(page.url()).toBe(`${backend.origin}/`);
    const cookies = await page.context().cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'shadowdisk_token', value: backend.token, httpOnly: true, sameSite: 'Strict' })]);
  });

  it('works the palette from the keyboard alone: fuzzy match, keybinding labels, Escape, recently used first', async () => {
    await app.openPalette();
    const first = app.paletteOptions().first();
    await page.keyboard.type('shw all cmds');
    expect(await first.getAttribute('data-command')).toBe('shadowdisk.workbench.commands');
    expect(await first.locator('kbd').innerText()).toBe('Ctrl+Shift+P');
    await page.keyboard.press('Escape');
    await app.palette.waitFor({ state: 'hidden' });

    await app.runFromPalette('notes say hello', 'acme.notes.hello');
    await page.locator('.toast', { hasText: 'Hello from pid' }).waitFor();
    await app.openPalette();
    expect(await app.paletteOptions().first().getAttribute('data-command')).toBe('acme.notes.hello');
    expect(await app.paletteOptions().first().locator('.tag').innerText()).toBe('recently used');
    await page.keyboard.press('ArrowDown');
    expect(await app.paletteOptions().nth(1).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('Escape');
  });

  it('creates a GPT and two partitions through the palette, previews, undoes one, applies, and the disk map shows what sfdisk reads', async () => {
    await using image = await sparseImage(256 * MiB);
    await using loop = await loopDevice(image.path);
    const disks = new DisksPage(page);
    await app.goTo('Disks');
    await disks.selectDisk(loop.path);

    await app.runFromPalette('create partition table', 'shadowdisk.partition.part-create-table', `${loop.path} gpt`);
    await app.runFromPalette('create a partition', 'shadowdisk.partition.part-create', `${loop.path} --size 64MiB --name first`);
    await app.runFromPalette('create a partition', 'shadowdisk.partition.part-create', `${loop.path} --size 32MiB --name second`);
    await expect.poll(() => disks.pendingSteps().count()).toBe(3);
    await disks.togglePreview();
    await expect.poll(() => disks.preview.innerText()).toMatch(/name="second"/);
    expect(await disks.preview.innerText()).toMatch(/name="first"/);
    await browser.screenshot(page, 'disks-pending');

    await disks.undo();
    await expect.poll(() => disks.pendingSteps().count()).toBe(2);
    await expect.poll(() => disks.preview.innerText()).not.toMatch(/name="second"/);
    await disks.applyAndConfirm();
    expect(await app.errorToasts().count()).toBe(0);

    const judged = JSON.parse((await run('sfdisk', ['--json', loop.path])).stdout) as { partitiontable: { label: string; partitions: { node: string; start: number; size: number; name?: string }[] } };
    expect(judged.partitiontable.label).toBe('gpt');
    expect(judged.partitiontable.partitions).toHaveLength(1);
    expect(judged.partitiontable.partitions[0]).toMatchObject({ size: 64 * MiB / 512, name: 'first' });
    await expect.poll(() => disks.mapSegments(loop.path)).toEqual(judged.partitiontable.partitions.map((p, i) => ({ number: i + 1, startLba: p.start, sizeSectors: p.size })));
    await browser.screenshot(page, 'disks');
    await run('partx', ['--delete', loop.path], { allowFailure: true });
  });

  it('backs a partition up from the wizard with progress and ETA updated at least once a second (a first run cancelled from the job bar leaves no image), and the image passes image verify', async () => {
    await using image = await sparseImage(320 * MiB);
    await using loop = await loopDevice(image.path);
    await run('sfdisk', ['-q', loop.path], { input: 'label: gpt\n,280MiB\n' });
    await run('partx', ['--add', loop.path]);
    try {
      const partition = `${loop.path}p1`;
      await mkfs(partition, 'ext4');
      {
        await using mounted = await mount(partition);
        await run('sh', ['-c', `head -c ${200 * MiB} /dev/urandom > ${join(mounted.mountpoint, 'data')}`]);
      }
      // The disk map shows the filesystem and its used space as the superblock counts it.
      const disks = new DisksPage(page);
      await app.goTo('Disks');
      await disks.selectDisk(loop.path);
      const row = disks.details(loop.path).locator('tr[data-partition="1"]');
      await expect.poll(() => row.locator('td').nth(3).innerText()).toBe('ext4');
      const header = (await run('dumpe2fs', ['-h', partition])).stdout;
      const field = (key: string) => Number(header.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))![1]);
      const usedMiB = ((field('Block count') - field('Free blocks')) * field('Block size')) / MiB;
      expect(await row.locator('td').nth(7).innerText()).toBe(`${usedMiB.toFixed(usedMiB < 100 ? 1 : 0)} MiB`);
      await browser.screenshot(page, 'disks-filesystem');
      const target = join(scratch.path, 'part1.sdimg');
      await app.goTo('Backup & restore');
      const backup = new BackupPage(page);

      // A backup cancelled from the job bar stops, says so, and leaves no image.
      const cancelled = join(scratch.path, 'cancelled.sdimg');
      await backup.start(partition, cancelled);
      const job = page.locator('.jobbar .job', { hasText: 'Back up' });
      await job.getByRole('button', { name: 'Cancel' }).click();
      const stopped = await backup.finish();
      expect(stopped.outcome).toBe('failed');
      expect(stopped.text).toMatch(/cancel/i);
      expect(existsSync(cancelled)).toBe(false);
      await backup.start(partition, target);
      const { samples, outcome, text } = await backup.finish();
      expect(outcome, text).toBe('succeeded');
      const running = samples.filter((s) => s.phase !== 'starting');
      expect(running.length).toBeGreaterThanOrEqual(3);
      const gaps = running.slice(1).map((s, i) => s.atMs - running[i]!.atMs);
      expect(Math.max(...gaps), `gaps between updates (ms): ${gaps.map(Math.round).join(' ')}`).toBeLessThanOrEqual(1200);
      expect(running.some((s) => /^ETA \d+:\d\d$/.test(s.eta))).toBe(true);
      expect(running.some((s) => /\/s$/.test(s.rate))).toBe(true);
      const verified = await cli(state.path, ['image', 'verify', target, '--json'], true);
      expect(verified.code, verified.stdout).toBe(0);
      await browser.screenshot(page, 'backup');

      // The image's chain, and its files through the read-only browser.
      await app.goTo('Images');
      const folder = page.getByRole('form', { name: 'Image folder' });
      await folder.locator('input[name=dir]').fill(scratch.path);
      await folder.getByRole('button', { name: 'List images' }).click();
      await page.getByRole('list', { name: 'Image chains' }).getByRole('button', { name: 'part1.sdimg' }).click();
      const files = page.getByRole('table', { name: 'Files' });
      await files.waitFor({ timeout: 60_000 });
      const names = await files.locator('tbody tr td:first-child').allInnerTexts();
      expect(names.sort()).toEqual(['data', 'lost+found/']);
      expect(await files.locator('tbody tr', { hasText: /^data/ }).locator('td').nth(2).innerText()).toBe('200 MiB');
      await browser.screenshot(page, 'images');

      // The same partition as a snapshot in an image repository: listed with its passphrase file, then browsed.
      const repo = `file://${join(scratch.path, 'repo')}`;
      const passFile = join(scratch.path, 'repo.pass');
      writeFileSync(passFile, 'a passphrase the browser never sees\n');
      await cli(state.path, ['repo', 'init', repo, '--passphrase-file', passFile, '--kdf-cost', '10']);
      const snapshot = (JSON.parse((await cli(state.path, ['image', 'backup', partition, '--repo', repo, '--passphrase-file', passFile, '--json'])).stdout) as { snapshot: string }).snapshot;
      const repoForm = page.getByRole('form', { name: 'Image repository' });
      await repoForm.locator('input[name=repo]').fill(repo);
      await repoForm.locator('input[name="passphrase-file"]').fill(passFile);
      await repoForm.getByRole('button', { name: 'List snapshots' }).click();
      await page.getByRole('table', { name: 'Snapshots' }).getByRole('button', { name: snapshot.slice(0, 8) }).click();
      const snapshotFiles = page.getByRole('region', { name: new RegExp(`^Files in snapshot ${snapshot.slice(0, 8)} of file://`) }).getByRole('table', { name: 'Files' });
      await snapshotFiles.waitFor({ timeout: 60_000 });
      expect((await snapshotFiles.locator('tbody tr td:first-child').allInnerTexts()).sort()).toEqual(['data', 'lost+found/']);
      expect(await snapshotFiles.locator('tbody tr', { hasText: /^data/ }).locator('td').nth(2).innerText()).toBe('200 MiB');
      await browser.screenshot(page, 'images-repository');

      // The wizards with a repository: the partition backed up into it with live progress, then its newest snapshot
      // restored onto another disk, which e2fsck passes with the file in place.
      await app.goTo('Backup & restore');
      await backup.start(partition, { repo, passFile });
      const intoRepository = await backup.finish();
      expect(intoRepository.outcome, intoRepository.text).toBe('succeeded');
      expect(intoRepository.text).toMatch(/as snapshot [0-9a-f]{8}/);
      expect(intoRepository.samples.some((s) => s.phase !== 'starting')).toBe(true);
      const listed = JSON.parse((await cli(state.path, ['repo', 'list', repo, '--passphrase-file', passFile, '--json'])).stdout) as { snapshots: { id: string }[] };
      expect(listed.snapshots).toHaveLength(2);
      await using restoredImage = await sparseImage(300 * MiB);
      await using restoredLoop = await loopDevice(restoredImage.path);
      const restored = await backup.restoreFromRepository(repo, passFile, 'latest', restoredLoop.path);
      expect(restored.outcome, restored.text).toBe('succeeded');
      await run('e2fsck', ['-fn', restoredLoop.path]);
      expect((await run('debugfs', ['-R', 'stat /data', restoredLoop.path])).stdout).toMatch(new RegExp(`Size: ${200 * MiB}\\b`));
      await browser.screenshot(page, 'restore-repository');

      // The older snapshot forgotten from the Images screen, once confirmed.
      await app.goTo('Images');
      const listForm = page.getByRole('form', { name: 'Image repository' });
      await listForm.locator('input[name=repo]').fill(repo);
      await listForm.locator('input[name="passphrase-file"]').fill(passFile);
      await listForm.getByRole('button', { name: 'List snapshots' }).click();
      const rows = page.getByRole('table', { name: 'Snapshots' }).locator('tbody tr');
      await expect.poll(() => rows.count()).toBe(2);
      await rows.filter({ hasText: snapshot.slice(0, 8) }).getByRole('button', { name: 'Forget' }).click();
      await page.getByRole('alertdialog', { name: `Forget snapshot ${snapshot.slice(0, 8)}?` }).getByRole('button', { name: 'Forget' }).click();
      await expect.poll(() => rows.count()).toBe(1);
      const left = JSON.parse((await cli(state.path, ['repo', 'list', repo, '--passphrase-file', passFile, '--json'])).stdout) as { snapshots: { id: string }[] };
      expect(left.snapshots.map((s) => s.id)).toEqual(listed.snapshots.map((s) => s.id).filter((id) => id !== snapshot));
    } finally {
      await run('partx', ['--delete', loop.path], { allowFailure: true });
    }
  });

  it("lists an installed plugin's commands in the palette (greyed by its enablement clause until it holds) and renders its view", async () => {
    await app.goTo('Settings');
    await app.openPalette();
    await page.keyboard.type('label the selected disk');
    const option = app.paletteOptions().first();
    expect(await option.getAttribute('data-command')).toBe('acme.notes.label-disk');
    expect(await option.getAttribute('aria-disabled')).toBe('true');
    await page.keyboard.press('Enter');
    await app.palette.locator('.palette-hint').waitFor();
    await page.keyboard.press('Escape');

    const views = new ViewsPage(page);
    await app.goTo('Views');
    const view = await views.open('acme.notes.table', 'Notes');
    await expect.poll(() => view.locator('tbody tr').count()).toBe(2);
    expect(await view.locator('tbody').innerText()).toContain('second note');
    const backendPid = String(backend.process.pid);
    const pids = await view.locator('tbody tr td:nth-child(3)').allInnerTexts();
    expect(pids.every((p) => /^\d+$/.test(p) && p !== backendPid)).toBe(true);
    await browser.screenshot(page, 'views');
  });

  it('installs a plugin from a package file after showing its permissions, disables it and uninstalls it', async () => {
    const file = await npmPack(scratch.path, { name: 'tools', publisher: 'acme', permissions: ['network'], contributes: { commands: [{ id: 'acme.tools.ping', title: 'Ping' }] }, files: { 'index.js': 'export function activate() {}\n' } });
    await app.goTo('Plugins');
    const plugins = new PluginsPage(page);
    const consent = await plugins.install(file);
    expect(consent).toMatch(/Permissions asked: network/);
    expect(consent).toMatch(/Plugin acme\.tools 1\.0\.0/);
    const listed = async () => (JSON.parse((await cli(state.path, ['plugin', 'list', '--json'])).stdout) as { plugins: { id: string; enabled: boolean; permissions: string[] }[] }).plugins;
    expect((await listed()).find((p) => p.id === 'acme.tools')).toMatchObject({ enabled: true, permissions: ['network'] });
    await plugins.row('acme.tools').getByRole('button', { name: 'Disable' }).click();
    await plugins.row('acme.tools').getByRole('button', { name: 'Enable' }).waitFor();
    expect((await listed()).find((p) => p.id === 'acme.tools')).toMatchObject({ enabled: false });
    await browser.screenshot(page, 'plugins');
    await plugins.row('acme.tools').getByRole('button', { name: 'Uninstall' }).click();
    await plugins.row('acme.tools').waitFor({ state: 'detached' });
    expect((await listed()).map((p) => p.id)).toEqual(['acme.notes']);
  });

  it('makes a schedule with the cron helper that `shadowdisk schedule list --json` then lists', async () => {
    await app.goTo('Schedules');
    const schedules = new SchedulesPage(page);
    const params = JSON.stringify({ dir: join(scratch.path, 'verify-me') });
    const cronText = await schedules.create({ id: 'nightly-verify', taskTitle: 'Verify images', cron: '30 3 * * *', timezone: 'Europe/Berlin', params });
    expect(cronText).toBe('Every day at 03:30');
    await schedules.row('nightly-verify').waitFor();
    const listed = JSON.parse((await cli(state.path, ['schedule', 'list', '--json'])).stdout) as { schedules: { id: string; taskType: string; cron: string; timezone: string; params: unknown }[] };
    expect(listed.schedules).toHaveLength(1);
    expect(listed.schedules[0]).toMatchObject({ id: 'nightly-verify', taskType: 'shadowdisk.scheduler.verify', cron: '30 3 * * *', timezone: 'Europe/Berlin', params: JSON.parse(params) });
    await browser.screenshot(page, 'schedules');
  });

  it("loads Monaco only when the Script screen opens, completes the SDK's script types, and saves and dry-runs the script", async () => {
    expect(monacoRequests).toEqual([]);
    await app.goTo('Script');
    const editorFrame = page.frameLocator('iframe[title="Script editor"]');
    await editorFrame.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
    expect(monacoRequests.some((u) => u.includes('/monaco/vs/'))).toBe(true);
    await editorFrame.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('Control+Home');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('sd.');
    const suggestions = editorFrame.locator('.suggest-widget .monaco-list-row');
    await expect.poll(() => suggestions.allInnerTexts(), { timeout: 30_000 }).toEqual(expect.arrayContaining([expect.stringMatching(/^cli/), expect.stringMatching(/^executeCommand/), expect.stringMatching(/^dryRun/)]));
    await page.keyboard.press('Escape');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Backspace');
    await browser.screenshot(page, 'script');

    const file = join(scratch.path, 'list-disks.mjs');
    await page.getByLabel('Script file').fill(file);
    await page.getByRole('button', { name: 'Dry run' }).click();
    const output = page.getByLabel('Script output');
    await output.waitFor();
    expect(await output.getAttribute('data-outcome'), await output.innerText()).toBe('succeeded');
    expect(await output.innerText()).toMatch(/\/dev\//);
    expect(readFileSync(file, 'utf8')).toMatch(/^\/\/ A Shadowdisk script[\s\S]*export default async function \(sd\)/);
  });

  it('writes screenshots of the remaining screens and logs no console errors during the suite', async () => {
    for (const [screen, name] of [['Settings', 'settings'], ['Hot & shadow copies', 'status']] as const) {
      await app.goTo(screen);
      await app.settle();
      await browser.screenshot(page, name);
    }
    // Settings come from the plugins' configuration schemas.
    await app.goTo('Settings');
    expect(await page.locator('[data-setting="workbench.demoSizeMiB"] input').inputValue()).toBe('256');
    await app.goTo('Disks');
    await app.openPalette();
    await page.keyboard.type('part');
    await browser.screenshot(page, 'palette');
    await page.keyboard.press('Escape');
    expect(browser.consoleErrors).toEqual([]);
    expect(await app.errorToasts().allInnerTexts()).toEqual([]);
  });
});
