// A scheduled backup of a shadow set: two mounted ext4 volumes (loop devices on an XFS pool, the reflink provider)
// taken to one instant at each run, one chain per volume, the set deleted after; the incrementals restore.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, mount, run, sparseImage } from '../helpers/index.js';
import { fileHashes, MiB } from '../backup/backup-disk.js';
import { pool, vssHost } from '../vss/vss-host.js';
import { schedulerHarness } from './harness.js';

describe('scheduled shadow-set backups', () => {
  it('images every volume of a shadow set at each run, a chain per volume, and the incrementals restore to the volumes at the cut', async () => {
    await using p = await pool(512 * MiB);
    await using vss = await vssHost();
    const a = await p.volume('a', 64 * MiB, 'ext4');
    const b = await p.volume('b', 64 * MiB, 'ext4');
    await using h = await schedulerHarness('2026-06-01T00:00:00Z', { host: vss.host });
    const dir = join(p.path, 'images');
    h.add('set', { task: 'shadowdisk.scheduler.backup', cron: '0 1 * * *', timezone: 'UTC', params: JSON.stringify({ source: { shadowSet: [a.mountpoint, b.mountpoint] }, dir, name: 'pair', fullEvery: 3 }) });
    const cuts: Record<string, string>[][] = [];
    for (const day of [1, 2]) {
      for (const v of [a, b]) await writeFile(join(v.mountpoint, `day-${day}.txt`), `${v.mountpoint} day ${day}\n`.repeat(5000 * day));
      await run('sync', []);
      cuts.push([await fileHashes(a.mountpoint), await fileHashes(b.mountpoint)]);
      h.clock.set(`2026-06-0${day}T01:00:00Z`);
      const [record] = await h.services.scheduler.tick().done;
      expect(record, record?.log).toMatchObject({ status: 'succeeded' });
      // Written after the cut: must not be in the images of this day.
      for (const v of [a, b]) await writeFile(join(v.mountpoint, `after-${day}.txt`), 'too late\n');
    }
    expect(((await vss.command('list')) as { sets: unknown[] }).sets).toEqual([]);
    const listed = (await h.host.executeCommand('shadowdisk.backup.image-list', { positionals: [dir] })).data as { images: { file: string; kind: string }[] };
    const names = (volume: string) => volume.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
    expect(listed.images.map((i) => [i.file, i.kind]).sort()).toEqual([
      [`pair.${names(a.mountpoint)}-20260601T010000Z.sdimg`, 'full'], [`pair.${names(a.mountpoint)}-20260602T010000Z.sdimg`, 'incremental'],
      [`pair.${names(b.mountpoint)}-20260601T010000Z.sdimg`, 'full'], [`pair.${names(b.mountpoint)}-20260602T010000Z.sdimg`, 'incremental'],
    ].sort());
    for (const [index, volume] of [a, b].entries()) {
      await using target = await sparseImage(64 * MiB);
      await h.host.executeCommand('shadowdisk.backup.image-restore', { positionals: [join(dir, `pair.${names(volume.mountpoint)}-20260602T010000Z.sdimg`), target.path], options: { yes: true } });
      await run('e2fsck', ['-fn', target.path]);
      await using loop = await loopDevice(target.path, { readOnly: true });
      await using restored = await mount(loop.path, { options: ['ro'] });
      expect(await fileHashes(restored.mountpoint)).toEqual(cuts[1]![index]);
    }
  });
});
