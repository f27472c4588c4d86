// A scheduled hot backup: the backup task type images a volume attached through hotcore while it stays in use; the
// second run is an incremental read through the changed-block map, and it restores to the volume at its cut.
import { createHash, randomFillSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocAligned, DirectFile } from '../../native/index.js';
import { prng, sparseImage } from '../helpers/index.js';
import { hotAttach, hotHost } from '../hot/hot-volume.js';
import { schedulerHarness } from './harness.js';

const MiB = 1024 * 1024;
const BLOCK = 4096;

async function writeRandomBlocks(device: string, count: number, seed: number): Promise<void> {
  using file = DirectFile.open(device, 'r+');
  const random = prng(seed);
  const block = allocAligned(BLOCK);
  for (let i = 0; i < count; i++) {
    randomFillSync(block);
    await file.write(block, BigInt(Math.floor(random() * (64 * MiB / BLOCK)) * BLOCK));
  }
}

async function deviceHash(device: string): Promise<string> {
  const hash = createHash('sha256');
  using file = DirectFile.open(device, 'r');
  const window = allocAligned(4 * MiB);
  for (let at = 0; at < 64 * MiB; at += window.length) {
    await file.read(window, BigInt(at));
    hash.update(window);
  }
  return hash.digest('hex');
}

describe('scheduled hot backups', () => {
  it('backs up an attached volume in use: a full image, then an incremental from the changed-block map that restores to the volume', async () => {
    await using hot = await hotHost();
    await using image = await sparseImage(64 * MiB, { dir: hot.scratch });
    await using volume = await hotAttach(hot, image.path);
    await using h = await schedulerHarness('2026-06-01T00:00:00Z', { host: hot.host });
    const dir = join(hot.scratch, 'images');
    h.add('hot', { task: 'shadowdisk.scheduler.backup', cron: '0 * * * *', timezone: 'UTC', params: JSON.stringify({ source: volume.device, dir, name: 'vol', fullEvery: 5, hot: true }) });
    await writeRandomBlocks(volume.device, 2000, 1);
    h.clock.set('2026-06-01T01:00:00Z');
    const [full] = await h.services.scheduler.tick().done;
    expect(full).toMatchObject({ status: 'succeeded' });
    expect(full!.log).toContain('Full backup of');
    expect(full!.log).toContain('Hot backup compared every segment');
    await writeRandomBlocks(volume.device, 40, 2);
    h.clock.set('2026-06-01T02:00:00Z');
    const [incremental] = await h.services.scheduler.tick().done;
    expect(incremental).toMatchObject({ status: 'succeeded' });
    expect(incremental!.log).toMatch(/Incremental backup of .* on vol-20260601T010000Z\.sdimg/);
    expect(incremental!.log).toMatch(/Hot backup read the \d+ block\(s\) the changed-block map names/);
    await using target = await sparseImage(64 * MiB, { dir: hot.scratch, name: 'restored.img' });
    await hot.host.executeCommand('shadowdisk.backup.image-restore', { positionals: [join(dir, 'vol-20260601T020000Z.sdimg'), target.path], options: { yes: true } });
    expect(createHash('sha256').update(await readFile(target.path)).digest('hex')).toBe(await deviceHash(volume.device));
  });
});
