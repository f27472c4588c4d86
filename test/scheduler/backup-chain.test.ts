// A scheduled backup of a real ext4 volume on a loop device, ten days on an injected clock: full images and
// incrementals as the chain length says, retention after each run, and every kept incremental restores.
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, mkfs, mount, run, sparseImage, tempDir } from '../helpers/index.js';
import { fileHashes, MiB } from '../backup/backup-disk.js';
import { schedulerHarness } from './harness.js';

const DAY = 86_400_000;

describe('scheduled image backups', () => {
  it('makes a full image then incrementals on schedule, keeps exactly what retention says, and every kept incremental restores', async () => {
    await using h = await schedulerHarness('2026-05-31T12:00:00Z');
    await using scratch = await tempDir();
    await using volume = await sparseImage(64 * MiB);
    await using loop = await loopDevice(volume.path);
    await mkfs(loop.path, 'ext4');
    const dir = join(scratch.path, 'images');
    // keepLast 1 and the newest of each of the last 2 ISO weeks; chains of 4 (a full and 3 incrementals).
    h.add('nightly', {
      task: 'shadowdisk.scheduler.backup', cron: '0 2 * * *', timezone: 'UTC', 'keep-last': '1', weekly: '2',
      params: JSON.stringify({ source: loop.path, dir, name: 'sys', fullEvery: 4 }),
    });
    const contentsAt = new Map<string, Record<string, string>>();
    const kinds: string[] = [];
    for (let day = 1; day <= 10; day++) {
      {
        await using mounted = await mount(loop.path);
        await writeFile(join(mounted.mountpoint, `day-${day}.txt`), `day ${day}\n`.repeat(1000 * day));
        if (day % 3 === 0) await writeFile(join(mounted.mountpoint, 'day-1.txt'), `rewritten on day ${day}\n`);
        contentsAt.set(`sys-202606${String(day).padStart(2, '0')}T020000Z.sdimg`, await fileHashes(mounted.mountpoint));
      }
      h.clock.set(Date.parse('2026-06-01T02:00:00Z') + (day - 1) * DAY);
      const [record] = await h.services.scheduler.tick().done;
      expect(record, `day ${day}`).toMatchObject({ status: 'succeeded', errorCode: null });
      expect(record!.bytes).toBeGreaterThan(0);
      kinds.push(/Full backup/.test(record!.log) ? 'F' : 'I');
    }
    expect(kinds.join('')).toBe('FIIIFIIIFI');
    // 2026-06-01 is a Monday. Kept: the last (06-10), the newest of ISO week 24 (06-10) and of week 23 (06-07), and
    // the chains they need: 06-09 (full under 06-10), 06-05 (full) and 06-06 under 06-07. 06-08, an incremental
    // nothing kept needs, and the first chain are gone.
    const kept = readdirSync(dir).sort();
    expect(kept).toEqual(['sys-20260605T020000Z.sdimg', 'sys-20260606T020000Z.sdimg', 'sys-20260607T020000Z.sdimg', 'sys-20260609T020000Z.sdimg', 'sys-20260610T020000Z.sdimg']);
    const listed = (await h.host.executeCommand('shadowdisk.backup.image-list', { positionals: [dir] })).data as { images: { file: string; kind: string; parent: { state: string } | null }[] };
    expect(listed.images.filter((i) => i.kind === 'incremental').every((i) => i.parent?.state === 'found')).toBe(true);

    // The verify task type checks every kept image; each kept incremental restores to the volume as it was that day.
    h.add('check', { task: 'shadowdisk.scheduler.verify', cron: '0 4 * * *', params: JSON.stringify({ dir, name: 'sys' }) });
    const verified = await h.commands.runNow({ positionals: ['check'], options: {} }, { signal: new AbortController().signal, progress: () => undefined, log: { info: () => undefined, warn: () => undefined, error: () => undefined } });
    expect(verified.data).toMatchObject({ status: 'succeeded' });
    expect((verified.data as { log: string }).log.match(/is intact/g)).toHaveLength(5);
    for (const file of listed.images.filter((i) => i.kind === 'incremental').map((i) => i.file)) {
      await using target = await sparseImage(64 * MiB);
      await h.host.executeCommand('shadowdisk.backup.image-restore', { positionals: [join(dir, file), target.path], options: { yes: true } });
      await run('e2fsck', ['-fn', target.path]);
      await using restoredLoop = await loopDevice(target.path, { readOnly: true });
      await using restored = await mount(restoredLoop.path, { options: ['ro'] });
      expect(await fileHashes(restored.mountpoint), file).toEqual(contentsAt.get(file));
    }
  });
});
