// The web UI's first contentful paint on localhost (Chromium's paint timing, target at most 1 s) beside a bare page
// served by plain node:http on the same machine, and the UI bundle's size without Monaco (target at most 500 KiB gzipped).
// Run: npm run bench:ui [-- --runs 10]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { renderTable } from '../sdk/index.js';
import { packageRoot } from '../core/node/index.js';
import { readLiveServerRecord } from '../core/node/server/index.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const root = packageRoot();
const uiRoot = join(root, 'dist', 'ui');

/** FCP of a fresh browser context opening `url`, once the page shows `ready`. */
async function paint(browser: Browser, url: string, ready: string): Promise<number> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.locator(ready).first().waitFor();
    return await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN);
  } finally {
    await context.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const max = (xs: number[]) => Math.max(...xs);

const state = mkdtempSync('/tmp/shadowdisk-bench-ui-');
const backend = spawn(join(root, 'node_modules', '.bin', 'node'), [join(root, 'bin', 'shadowdisk.js'), 'serve'], { env: { ...process.env, SHADOWDISK_HOME: state }, stdio: 'ignore' });
const bare = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>bare</title><p id="ready">Hello</p>'));
let browser: Browser | undefined;
try {
  let record = readLiveServerRecord(state);
  for (let i = 0; i < 300 && !record; i++) {
    await new Promise((r) => setTimeout(r, 100));
    record = readLiveServerRecord(state);
  }
  if (!record) throw new Error('shadowdisk serve did not start within 30 s');
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  await paint(browser, record.url, '.topbar');
  const ours: number[] = [];
  const reference: number[] = [];
  for (let i = 0; i < runs; i++) {
    ours.push(await paint(browser, record.url, '.disk-list'));
    reference.push(await paint(browser, bareUrl, '#ready'));
  }
  // The app as a browser loads it; the script editor page and Monaco load only when the Script screen opens.
  const files = readdirSync(uiRoot, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
    .filter((f) => !f.includes('/monaco/') && !/\/(editor\.(html|js|css)|sdk-script\.d\.ts)$/.test(f));
  const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  const gzipped = files.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  console.log(renderTable(['MEASURE', 'SHADOWDISK UI', 'BARE PAGE (node:http)', 'RATIO', 'TARGET'], [
    [`FCP median (${runs} runs)`, `${median(ours).toFixed(0)} ms`, `${median(reference).toFixed(0)} ms`, (median(ours) / median(reference)).toFixed(2), '<= 1000 ms'],
    ['FCP worst', `${max(ours).toFixed(0)} ms`, `${max(reference).toFixed(0)} ms`, (max(ours) / max(reference)).toFixed(2), ''],
    [`bundle, ${files.length} files (no Monaco)`, `${(bytes / 1024).toFixed(1)} KiB`, '', '', ''],
    ['bundle gzipped', `${(gzipped / 1024).toFixed(1)} KiB`, '', '', '<= 500 KiB'],
  ]));
} finally {
  await browser?.close();
  bare.close();
  backend.kill('SIGTERM');
  await new Promise((resolve) => backend.once('exit', resolve));
  rmSync(state, { recursive: true, force: true });
}
