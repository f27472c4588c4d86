// Backup, verify and restore of whole disks on image files and loop devices, judged by sfdisk, sgdisk, each
// filesystem's checker and file hashes.
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ShadowdiskHost } from '../../core/node/index.js';
import { isShadowError } from '../../sdk/index.js';
import { loopDevice, mkfs, mount, run, sparseImage } from '../helpers/index.js';
import { judgePartitions, makeDisk, MiB, sha256File, tableDump, withHost, type DiskSpec } from './backup-disk.js';

const image = (host: ShadowdiskHost, verb: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.backup.image-${verb}`, { positionals, options });

const GPT: DiskSpec = { table: 'gpt', sizeMiB: 640, partitions: [
  { number: 1, line: ',96MiB,L', fs: 'ext4' }, { number: 2, line: ',320MiB,L', fs: 'xfs' }, { number: 3, line: ',64MiB,U', fs: 'vfat' },
  { number: 4, line: ',32MiB,S', fs: 'swap' }, { number: 5, line: ',64MiB,L', fs: 'ntfs' },
] };
const MBR: DiskSpec = { table: 'dos', sizeMiB: 320, partitions: [
  { number: 1, line: ',64MiB,83', fs: 'ext3' }, { number: 2, line: ',,5' }, { number: 5, line: ',120MiB,83', fs: 'btrfs' }, { number: 6, line: ',32MiB,82', fs: 'swap' },
] };

describe('image backup and restore', () => {
  for (const spec of [GPT, MBR]) {
    it(`round-trips a ${spec.table === 'gpt' ? 'GPT' : 'MBR'} disk onto a blank disk of the same size and onto a larger one`, async () => {
      await using disk = await makeDisk(spec);
      await withHost(async (host, scratch) => {
        const file = join(scratch, 'disk.sdimg');
        const backup = await image(host, 'backup', [disk.path, file]);
        const data = backup.data as { packedBytes: number; imageBytes: number; streams: { kind: string; method: string }[] };
        expect(data.imageBytes).toBeLessThan((spec.sizeMiB * MiB) / 2);
        expect((await image(host, 'verify', [file])).data).toMatchObject({ ok: true });

        for (const extraMiB of [0, 64]) {
          await using target = await sparseImage((spec.sizeMiB + extraMiB) * MiB);
          await image(host, 'restore', [file, target.path], { yes: true });
          const original = await readFile(disk.path);
          const restored = await readFile(target.path);
          // Bootstrap code and the gap before the first partition come back byte for byte.
          expect(restored.subarray(0, 440).equals(original.subarray(0, 440))).toBe(true);
          // (From LBA 34: on a larger disk the primary GPT header now points at the moved backup.)
          expect(restored.subarray(34 * 512, MiB).equals(original.subarray(34 * 512, MiB))).toBe(true);
          expect(await tableDump(target.path)).toBe(await tableDump(disk.path));
          if (spec.table === 'gpt') expect((await run('sgdisk', ['-v', target.path])).stdout).toContain('No problems found');
          else expect((await run('sfdisk', ['--verify', target.path])).stdout).toContain('No errors detected');
          await judgePartitions(spec, disk.path, target.path);
        }
      });
    }, 240_000);
  }

  it('refuses a damaged, truncated or wrongly keyed image with a named error, writing nothing', async () => {
    await using disk = await makeDisk({ table: 'gpt', sizeMiB: 128, partitions: [{ number: 1, line: ',100MiB,L', fs: 'ext4' }] });
    await withHost(async (host, scratch) => {
      const file = join(scratch, 'disk.sdimg');
      const passphraseFile = join(scratch, 'pass');
      await writeFile(passphraseFile, 'correct horse battery staple\n');
      await image(host, 'backup', [disk.path, file], { 'passphrase-file': passphraseFile, 'kdf-cost': '12' });
      await using target = await sparseImage(128 * MiB);
      await writeFile(target.path, Buffer.alloc(4096, 7), { flag: 'r+' });
      const before = await sha256File(target.path);
      const attempt = (path: string, options: Record<string, string | boolean>) => image(host, 'restore', [path, target.path], { yes: true, ...options }).catch((e: unknown) => e);

      const wrong = join(scratch, 'wrong');
      await writeFile(wrong, 'Tr0ub4dor&3\n');
      expect(await attempt(file, { 'passphrase-file': wrong })).toMatchObject({ code: 'WRONG_PASSPHRASE' });
      const bytes = await readFile(file);
      const flipped = join(scratch, 'flipped.sdimg');
      const copy = Buffer.from(bytes);
      copy[Math.floor(copy.length / 2)]! ^= 0x01;
      await writeFile(flipped, copy);
      expect(isShadowError(await attempt(flipped, { 'passphrase-file': passphraseFile }))).toBe(true);
      expect(['IMAGE_TAMPERED', 'IMAGE_CORRUPT']).toContain(((await attempt(flipped, { 'passphrase-file': passphraseFile })) as { code: string }).code);
      const truncated = join(scratch, 'truncated.sdimg');
      await writeFile(truncated, bytes);
      await truncate(truncated, bytes.length - 1000);
      expect(await attempt(truncated, { 'passphrase-file': passphraseFile })).toMatchObject({ code: 'IMAGE_CORRUPT' });
      expect(await sha256File(target.path)).toBe(before);

      await image(host, 'restore', [file, target.path], { yes: true, 'passphrase-file': passphraseFile });
      expect(await sha256File(target.path)).not.toBe(before);
    });
  }, 120_000);

  it('restores a disk onto a loop device and brings the kernel partition nodes in line with the restored table', async () => {
    await using disk = await makeDisk({ table: 'gpt', sizeMiB: 96, partitions: [{ number: 1, line: ',40MiB,L', fs: 'ext4' }, { number: 2, line: ',40MiB,L', fs: 'ext4' }] });
    await withHost(async (host, scratch) => {
      const file = join(scratch, 'disk.sdimg');
      await image(host, 'backup', [disk.path, file]);
      await using target = await sparseImage(128 * MiB);
      await using loop = await loopDevice(target.path);
      const result = await image(host, 'restore', [file, loop.path], { yes: true });
      expect(result.data).toMatchObject({ gptBackupMoved: true });
      expect((await run('e2fsck', ['-fn', `${loop.path}p2`], { allowFailure: true })).code).toBe(0);
      expect((await run('blkid', ['-p', '-s', 'LABEL', '-o', 'value', `${loop.path}p2`])).stdout.trim()).toBe('part2');
      expect((await run('sgdisk', ['-v', loop.path])).stdout).toContain('No problems found');
    });
  }, 120_000);

  it('refuses to back up a source mounted read-write and to restore onto a mounted target', async () => {
    await using disk = await sparseImage(64 * MiB);
    await using loop = await loopDevice(disk.path);
    await mkfs(loop.path, 'ext4');
    await withHost(async (host, scratch) => {
      const file = join(scratch, 'vol.sdimg');
      {
        await using mounted = await mount(loop.path);
        expect(await image(host, 'backup', [loop.path, file]).catch((e: unknown) => e)).toMatchObject({ code: 'TARGET_BUSY', message: expect.stringContaining(`mounted read-write on ${mounted.mountpoint}`) });
      }
      {
        await using readOnly = await mount(loop.path, { options: ['ro'] });
        await image(host, 'backup', [loop.path, file]);
        void readOnly;
      }
      await using mounted = await mount(loop.path);
      expect(await image(host, 'restore', [file, loop.path], { yes: true }).catch((e: unknown) => e)).toMatchObject({ code: 'TARGET_BUSY' });
      void mounted;
    });
  });
});
