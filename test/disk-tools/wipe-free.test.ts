// `disk wipe-free`: a deleted file's bytes are gone from a mounted ext4's free space, the live file is unchanged and
// e2fsck finds the filesystem clean.
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopDevice, mkfs, mount, run, sparseImage } from '../helpers/index.js';
import { MiB, withHost } from './disk-fixtures.js';

const SECRET = Buffer.from('SHADOWDISK-DELETED-SECRET-');

describe('disk wipe-free', () => {
  it('erases a deleted file from the free space of a mounted ext4 and leaves the live file alone', async () => {
    await using image = await sparseImage(48 * MiB);
    await using loop = await loopDevice(image.path);
    await mkfs(loop.path, 'ext4');
    await withHost(async (host) => {
      await using mounted = await mount(loop.path);
      const keep = Buffer.alloc(3 * MiB, 'kept data ');
      await writeFile(join(mounted.mountpoint, 'keep.bin'), keep);
      await writeFile(join(mounted.mountpoint, 'secret.bin'), Buffer.alloc(4 * MiB, SECRET));
      await run('sync', []);
      await rm(join(mounted.mountpoint, 'secret.bin'));
      await run('sync', []);
      expect((await readFile(image.path)).includes(SECRET)).toBe(true);

      const result = (await host.executeCommand('shadowdisk.disk-tools.wipe-free', { positionals: [mounted.mountpoint], options: { yes: true } })).data as { filledBytes: number; freeBytes: number };
      expect(result.filledBytes).toBeGreaterThan(result.freeBytes * 0.9);
      await run('sync', []);
      expect((await readFile(image.path)).includes(SECRET)).toBe(false);
      expect(createHash('sha256').update(await readFile(join(mounted.mountpoint, 'keep.bin'))).digest('hex')).toBe(createHash('sha256').update(keep).digest('hex'));
      await expect(host.executeCommand('shadowdisk.disk-tools.wipe-free', { positionals: [join(mounted.mountpoint, 'lost+found')], options: { yes: true } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
    expect((await run('e2fsck', ['-fn', loop.path], { allowFailure: true })).code).toBe(0);
  });
});
