// `disk copy`: a GPT disk with ext4, vfat, a raw partition and a non-empty boot gap copied onto loop devices of the
// same size and larger, judged by sgdisk, each filesystem's checker and file hashes; refusals leave targets unchanged.
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ShadowdiskHost } from '../../core/node/index.js';
import { loopDevice, mkfs, mount, run, sparseImage } from '../helpers/index.js';
import { judgePartitions, makeDisk, MiB, partitionExtent, sha256File, tableDump, withHost, type DiskSpec } from './backup-disk.js';

const copy = (host: ShadowdiskHost, source: string, target: string, options: Record<string, string | boolean> = {}) =>
  host.executeCommand('shadowdisk.backup.disk-copy', { positionals: [source, target], options });

const SPEC: DiskSpec = { table: 'gpt', sizeMiB: 128, partitions: [
  { number: 1, line: ',56MiB,L', fs: 'ext4' }, { number: 2, line: ',40MiB,U', fs: 'vfat' }, { number: 3, line: ',16MiB,L' },
] };

async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, offset);
    return buffer;
  } finally {
    await handle.close();
  }
}

/** Writes `bytes` at `offset` of a file without truncating it. */
async function writeAt(path: string, offset: number, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
}

/** A file on the vfat partition (through mtools: vfat cannot be mounted here) and data no filesystem describes on the raw one. */
async function addData(disk: string, scratch: string): Promise<void> {
  const fat = await partitionExtent(disk, 2);
  const note = join(scratch, 'notes.txt');
  await writeFile(note, 'copied cluster by cluster\n'.repeat(20_000));
  await run('mcopy', ['-i', `${disk}@@${fat.start}`, note, '::notes.txt']);
  const raw = await partitionExtent(disk, 3);
  await writeAt(disk, raw.start + 2 * MiB, Buffer.alloc(MiB, 'raw data '));
  await writeAt(disk, raw.start + 9 * MiB + 4096, Buffer.alloc(4096, 0x5a));
}

describe('disk copy', () => {
  it('copies a GPT disk onto a loop device of the same size and onto a larger one, used blocks only', async () => {
    await using disk = await makeDisk(SPEC);
    await withHost(async (host, scratch) => {
      await addData(disk.path, scratch);
      await using source = await loopDevice(disk.path, { readOnly: true });
      const raw = await partitionExtent(disk.path, 3);
      for (const extraMiB of [0, 64]) {
        await using target = await sparseImage((SPEC.sizeMiB + extraMiB) * MiB);
        // Old contents where the raw partition goes: its zero blocks must come out zero, not stay as they were.
        await writeAt(target.path, raw.start, Buffer.alloc(raw.size, 0xa5));
        await using loop = await loopDevice(target.path);

        if (extraMiB === 0) {
          const before = await sha256File(target.path);
          const dry = await copy(host, source.path, loop.path, { 'dry-run': true });
          expect(dry.data).toMatchObject({ dryRun: true, sourceBytes: SPEC.sizeMiB * MiB });
          expect((dry.data as { regions: { kind: string; filesystem: string }[] }).regions.map((r) => `${r.kind} ${r.filesystem}`))
            .toEqual(['table partition table', 'gap boot gap', 'partition ext4', 'partition vfat', 'partition unknown']);
          expect(dry.text).toContain('nothing was written');
          expect(await sha256File(target.path)).toBe(before);
        }

        const result = await copy(host, source.path, loop.path, { yes: true });
        const data = result.data as { copyBytes: number; gptBackupMoved: boolean };
        // Used blocks only: the filesystems' used blocks and the raw partition's non-zero blocks, not the whole disk.
        expect(data.copyBytes).toBeLessThan((SPEC.sizeMiB * MiB) / 4);
        expect(data.gptBackupMoved).toBe(extraMiB > 0);

        const same = async (offset: number, length: number) => (await readAt(target.path, offset, length)).equals(await readAt(disk.path, offset, length));
        expect(await same(0, 440)).toBe(true);
        // The boot gap (from LBA 34: on a larger disk the primary GPT header points at the moved backup).
        expect(await same(34 * 512, MiB - 34 * 512)).toBe(true);
        expect(await same(raw.start, raw.size)).toBe(true);
        expect(await tableDump(loop.path)).toBe(await tableDump(disk.path));
        expect((await run('sgdisk', ['-v', loop.path])).stdout).toContain('No problems found');
        // The kernel's partition nodes describe the copied table.
        expect((await run('e2fsck', ['-fn', `${loop.path}p1`], { allowFailure: true })).code).toBe(0);
        await judgePartitions(SPEC, disk.path, target.path);
      }
    });
  }, 120_000);

  it('refuses a smaller target, a mounted target and the source itself, leaving each target unchanged', async () => {
    await using disk = await makeDisk({ table: 'gpt', sizeMiB: 64, partitions: [{ number: 1, line: ',40MiB,L', fs: 'ext4' }] });
    await withHost(async (host) => {
      const attempt = (source: string, target: string, options: Record<string, string | boolean> = { yes: true }) => copy(host, source, target, options).catch((e: unknown) => e);
      const sourceHash = await sha256File(disk.path);

      await using small = await sparseImage(48 * MiB);
      await writeAt(small.path, 0, Buffer.alloc(MiB, 7));
      const smallHash = await sha256File(small.path);
      expect(await attempt(disk.path, small.path)).toMatchObject({ code: 'SIZE_MISMATCH' });
      expect(await sha256File(small.path)).toBe(smallHash);

      await using busyImage = await sparseImage(64 * MiB);
      await using busy = await loopDevice(busyImage.path);
      await mkfs(busy.path, 'ext4');
      const busyHash = await sha256File(busyImage.path);
      {
        await using mounted = await mount(busy.path, { options: ['ro'] });
        expect(await attempt(disk.path, busy.path)).toMatchObject({ code: 'TARGET_BUSY', message: expect.stringContaining(mounted.mountpoint) });
      }
      expect(await sha256File(busyImage.path)).toBe(busyHash);

      expect(await attempt(disk.path, disk.path)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('the same file') });
      await using sourceLoop = await loopDevice(disk.path);
      expect(await attempt(disk.path, sourceLoop.path)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`of the file ${disk.path}`) });
      await run('partx', ['--add', sourceLoop.path]);
      expect(await attempt(sourceLoop.path, `${sourceLoop.path}p1`)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('is a partition of') });
      expect(await sha256File(disk.path)).toBe(sourceHash);

      // Nobody to ask and no --yes: nothing is written.
      await using unconfirmed = await sparseImage(64 * MiB);
      const blank = await sha256File(unconfirmed.path);
      expect(await attempt(disk.path, unconfirmed.path, {})).toMatchObject({ code: 'ABORTED' });
      expect(await sha256File(unconfirmed.path)).toBe(blank);
    });
  }, 60_000);
});
