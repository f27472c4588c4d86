// The backup task type on image files: a source that no longer fits its chain starts a new one.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, sparseImage, tempDir } from '../helpers/index.js';
import { schedulerHarness } from './harness.js';

const MiB = 1024 * 1024;

describe('the backup task type', () => {
  it('makes a full image when the source no longer fits the chain (PARENT_MISMATCH) instead of failing every run', async () => {
    await using h = await schedulerHarness('2026-06-01T00:00:00Z');
    await using scratch = await tempDir();
    await using small = await sparseImage(32 * MiB);
    await using large = await sparseImage(48 * MiB);
    for (const volume of [small, large]) await run('mkfs.ext4', ['-q', '-F', volume.path]);
    const dir = join(scratch.path, 'images');
    const params = (source: string) => JSON.stringify({ source, dir, name: 'v', fullEvery: 5 });
    h.add('grow', { task: 'shadowdisk.scheduler.backup', cron: '0 2 * * *', timezone: 'UTC', params: params(small.path) });
    h.clock.set('2026-06-01T02:00:00Z');
    expect((await h.services.scheduler.tick().done)[0]).toMatchObject({ status: 'succeeded' });
    // The volume is now another size: an incremental on the first image is refused by the backup plugin.
    h.commands.edit({ positionals: ['grow'], options: { params: params(large.path) } });
    h.clock.set('2026-06-02T02:00:00Z');
    const [second] = await h.services.scheduler.tick().done;
    expect(second).toMatchObject({ status: 'succeeded', errorCode: null });
    expect(second!.log).toMatch(/Incremental backup of .* on v-20260601T020000Z\.sdimg/);
    expect(second!.log).toMatch(/warn .*describe different disks or partition layouts; make a full backup after repartitioning; making a full image instead/);
    const listed = (await h.host.executeCommand('shadowdisk.backup.image-list', { positionals: [dir] })).data as { images: { file: string; kind: string }[] };
    expect(listed.images.map((i) => [i.file, i.kind])).toEqual([['v-20260601T020000Z.sdimg', 'full'], ['v-20260602T020000Z.sdimg', 'full']]);
  });
});
