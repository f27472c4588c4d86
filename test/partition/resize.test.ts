// part resize: each filesystem shrunk (before the table) or grown (after it, online when mounted) with its own tool;
// judged by its checker, its size, and every file's SHA-256; impossible resizes refused with nothing written.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { isShadowError } from '../../sdk/index.js';
import { loopDevice, mount, run, sparseImage, tempStateDir, type TestFsType } from '../helpers/index.js';
import { filesystemWithFiles, judgeFilesystem } from './move-fixtures.js';
import { canResizeExtOnline } from '../../plugins/partition/resize/fs-resize.js';

const MiB = 1024 * 1024;
const part = (host: ShadowdiskHost, verb: string, positionals: string[], options: Record<string, string | boolean> = {}) =>
  host.executeCommand(`shadowdisk.partition.part-${verb}`, { positionals, options });
const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** Size of the filesystem on [start, +size) of `image` as its own tools report it, in bytes. */
async function filesystemBytes(image: string, startBytes: number, sizeBytes: number, fs: TestFsType): Promise<number> {
  await using loop = await loopDevice(image, { offsetBytes: startBytes, sizeLimitBytes: sizeBytes });
  if (fs === 'ext4') {
    const out = (await run('dumpe2fs', ['-h', loop.path])).stdout;
    return Number(/Block count:\s+(\d+)/.exec(out)![1]) * Number(/Block size:\s+(\d+)/.exec(out)![1]);
  }
  if (fs === 'ntfs') return Number(/Current volume size: (\d+) bytes/.exec((await run('ntfsresize', ['--info', '--force', loop.path])).stdout)![1]);
  if (fs === 'btrfs') return Number(/total_bytes\s+(\d+)/.exec((await run('btrfs', ['inspect-internal', 'dump-super', loop.path])).stdout)![1]);
  const out = (await run('xfs_db', ['-r', '-c', 'sb 0', '-c', 'p dblocks blocksize', loop.path])).stdout;
  return Number(/dblocks = (\d+)/.exec(out)![1]) * Number(/blocksize = (\d+)/.exec(out)![1]);
}

async function gptDisk(sizeMiB: number, partitionMiB: number, fs: TestFsType) {
  const image = await sparseImage(sizeMiB * MiB);
  await run('sfdisk', ['--quiet', image.path], { input: `label: gpt\nstart=2048,size=${partitionMiB * 2048},type=L\n` });
  const hashes = await filesystemWithFiles(image.path, MiB, partitionMiB * MiB, fs, 7, 10, 256 * 1024);
  return { image, hashes };
}

/** A host, and a loop device over a GPT disk whose partition 1 holds `fs` with files; all released together. */
async function resizeSetup(fs: TestFsType, fromMiB: number) {
  const stack = new AsyncDisposableStack();
  try {
    const state = stack.use(await tempStateDir());
    const host = stack.use(await createHost({ stateDir: state.path, logSink: () => undefined }));
    const { image, hashes } = await gptDisk(512, fromMiB, fs);
    stack.use(image);
    const disk = stack.use(await loopDevice(image.path));
    await part(host, 'rescan', [disk.path]);
    return { host, image, hashes, disk, [Symbol.asyncDispose]: () => stack.disposeAsync() };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

describe('part resize', () => {
  for (const [fs, fromMiB, shrinkMiB, growMiB] of [['ext4', 64, 40, 96], ['btrfs', 384, 300, 400], ['ntfs', 64, 40, 96]] as const) {
    it(`shrinks then grows ${fs} offline; checker clean, filesystem size follows, files unchanged`, { timeout: 90_000 }, async () => {
      await using setup = await resizeSetup(fs, fromMiB);
      const { host, image, hashes, disk } = setup;
      for (const toMiB of [shrinkMiB, growMiB]) {
        await part(host, 'resize', [disk.path, '1', `${toMiB}MiB`]);
        await part(host, 'apply', [disk.path], { yes: true });
        expect((await run('sgdisk', ['-v', disk.path])).stdout).toContain('No problems found');
        const judged = await judgeFilesystem(image.path, MiB, toMiB * MiB, fs);
        expect(judged.clean, judged.output).toBe(true);
        expect(judged.hashes).toEqual(hashes);
        const size = await filesystemBytes(image.path, MiB, toMiB * MiB, fs);
        expect(size).toBeLessThanOrEqual(toMiB * MiB);
        expect(size).toBeGreaterThan((toMiB - 2) * MiB);
      }
    });
  }

  it('grows mounted XFS and btrfs online (ext4 too where the process has CAP_SYS_RESOURCE), and refuses a mounted shrink', { timeout: 90_000 }, async () => {
    for (const [fs, fromMiB, toMiB] of [['ext4', 64, 128], ['xfs', 64, 96], ['btrfs', 300, 360]] as const) {
      await using setup = await resizeSetup(fs, fromMiB);
      const { host, image, hashes, disk } = setup;
      {
        await using mounted = await mount(`${disk.path}p1`);
        const dfBytes = async () => Number((await run('df', ['-B1', '--output=size', mounted.mountpoint])).stdout.trim().split('\n')[1]!);
        const dfBefore = await dfBytes();
        await part(host, 'resize', [disk.path, '1', `${fromMiB - 8}MiB`]);
        const refused = await part(host, 'apply', [disk.path], { yes: true }).catch((e: unknown) => e);
        expect(isShadowError(refused, 'TARGET_BUSY'), String(refused)).toBe(true);
        await part(host, 'plan-clear', [disk.path]);
        await part(host, 'resize', [disk.path, '1', `${toMiB}MiB`]);
        if (fs === 'ext4' && !canResizeExtOnline()) {
          // This machine's root lacks CAP_SYS_RESOURCE (the kernel's EXT4_IOC_RESIZE_FS needs it): refused up front.
          const denied = await part(host, 'apply', [disk.path], { yes: true }).catch((e: unknown) => e);
          expect(isShadowError(denied, 'PERMISSION_DENIED'), String(denied)).toBe(true);
          expect((await run('sfdisk', ['--json', disk.path])).stdout).toContain(`"size": ${fromMiB * 2048}`);
          continue;
        }
        await part(host, 'apply', [disk.path], { yes: true });
        expect(await dfBytes(), `${fs} seen by df after the online grow`).toBeGreaterThan(dfBefore + (toMiB - fromMiB - 8) * MiB);
      }
      if (fs === 'ext4' && !canResizeExtOnline()) continue;
      expect(await filesystemBytes(image.path, MiB, toMiB * MiB, fs)).toBeGreaterThan((toMiB - 2) * MiB);
      const judged = await judgeFilesystem(image.path, MiB, toMiB * MiB, fs);
      expect(judged.clean, judged.output).toBe(true);
      expect(judged.hashes).toEqual(hashes);
    }
  });

  it('refuses a shrink below the minimum (ext4, vfat) and a shrink of XFS before writing anything', { timeout: 60_000 }, async () => {
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using image = await sparseImage(512 * MiB);
    await run('sfdisk', ['--quiet', image.path], { input: 'label: gpt\nstart=2048,size=65536,type=L\nstart=67584,size=131072,type=L\nstart=722944,size=65536,type=L\n' });
    await filesystemWithFiles(image.path, MiB, 32 * MiB, 'ext4', 3, 12, 1024 * 1024);
    await filesystemWithFiles(image.path, 33 * MiB, 64 * MiB, 'xfs', 4, 2, 8192);
    await filesystemWithFiles(image.path, 353 * MiB, 32 * MiB, 'vfat', 5, 2, 8192);
    const before = await sha(image.path);
    await using disk = await loopDevice(image.path);
    await part(host, 'rescan', [disk.path]);
    for (const [n, size, code, message] of [['1', '4MiB', 'SIZE_MISMATCH', /needs at least/], ['2', '60MiB', 'UNSUPPORTED', /XFS can only grow/], ['3', '4MiB', 'SIZE_MISMATCH', /vfat filesystem needs at least/]] as const) {
      await part(host, 'resize', [disk.path, n, size]);
      const refused = await part(host, 'apply', [disk.path], { yes: true }).catch((e: unknown) => e);
      expect(isShadowError(refused, code), String(refused)).toBe(true);
      expect((refused as Error).message).toMatch(message);
      await part(host, 'plan-clear', [disk.path]);
    }
    expect(await sha(image.path)).toBe(before);
  });
});
