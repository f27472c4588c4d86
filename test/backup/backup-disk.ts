// Test disks for image round trips and disk copies (a partitioned image file with real filesystems holding real
// files), and the judges that compare a restored or copied disk with its original.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { loopDevice, mkfs, mount, run, sparseImage, tempDir, tempStateDir, type SparseImage, type TestFsType } from '../helpers/index.js';

export const MiB = 1024 * 1024;

export interface DiskSpec {
  table: 'gpt' | 'dos';
  sizeMiB: number;
  /** sfdisk lines after the label, and the filesystem per partition number (undefined: leave it raw). */
  partitions: { line: string; fs?: TestFsType; number: number }[];
}

/** Makes the disk with sfdisk, a filesystem per partition, files in the mountable ones, and bytes in the boot gap. */
export async function makeDisk(spec: DiskSpec): Promise<SparseImage> {
  const image = await sparseImage(spec.sizeMiB * MiB);
  await run('sfdisk', ['--quiet', image.path], { input: `label: ${spec.table}\n${spec.partitions.map((p) => p.line).join('\n')}\n` });
  // Bootstrap code and a "bootloader" in the gap before the first partition, as GRUB leaves them.
  const bytes = await readFile(image.path);
  const boot = Buffer.from(createHash('sha512').update('boot code').digest()).subarray(0, 64);
  boot.copy(bytes, 0);
  Buffer.from(createHash('sha256').update('core.img').digest('hex').repeat(64)).copy(bytes, spec.table === 'dos' ? 512 * 8 : 512 * 40);
  await writeFile(image.path, bytes);
  for (const p of spec.partitions) {
    if (!p.fs) continue;
    const { start, size } = await partitionExtent(image.path, p.number);
    await using loop = await loopDevice(image.path, { offsetBytes: start, sizeLimitBytes: size });
    await mkfs(loop.path, p.fs, { label: `part${p.number}` });
    if (p.fs === 'swap' || p.fs === 'vfat' || p.fs === 'ntfs') continue;
    await using mounted = await mount(loop.path);
    await writeFile(join(mounted.mountpoint, 'random.bin'), createHash('sha256').update(String(p.number)).digest().toString('hex').repeat(40_000));
    await run('cp', ['-r', new URL('../../core', import.meta.url).pathname, mounted.mountpoint]);
    await run('rm', ['-rf', join(mounted.mountpoint, 'core', 'node')]);
  }
  return image;
}

export async function partitionExtent(image: string, number: number): Promise<{ start: number; size: number }> {
  const { stdout } = await run('sfdisk', ['--json', image]);
  const table = (JSON.parse(stdout) as { partitiontable: { partitions: { node: string; start: number; size: number }[] } }).partitiontable;
  const p = table.partitions.find((x) => x.node.endsWith(String(number)))!;
  return { start: p.start * 512, size: p.size * 512 };
}

/** SHA-256 of every file under a mounted filesystem, by relative path. */
export async function fileHashes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out[relative(root, path)] = createHash('sha256').update(await readFile(path)).digest('hex');
    }
  };
  await walk(root);
  return out;
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

export async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** A host on a fresh state directory, with a scratch folder, both gone afterwards. */
export async function withHost<T>(use: (host: ShadowdiskHost, scratch: string) => Promise<T>): Promise<T> {
  await using state = await tempStateDir();
  await using scratch = await tempDir();
  await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
  return await use(host, scratch.path);
}

const CHECKERS: Record<string, string[]> = { ext4: ['e2fsck', '-fn'], ext3: ['e2fsck', '-fn'], xfs: ['xfs_repair', '-n'], btrfs: ['btrfs', 'check', '--readonly'], vfat: ['fsck.fat', '-n'], ntfs: ['ntfsfix', '--no-action'] };

/** Each partition of `restored` judged against `original`: its own checker clean, and equal files (or bytes). */
export async function judgePartitions(spec: DiskSpec, original: string, restored: string): Promise<void> {
  for (const p of spec.partitions) {
    if (!p.fs) continue;
    const src = await partitionExtent(original, p.number);
    await using a = await loopDevice(original, { offsetBytes: src.start, sizeLimitBytes: src.size, readOnly: true });
    await using b = await loopDevice(restored, { offsetBytes: src.start, sizeLimitBytes: src.size });
    if (p.fs === 'swap') {
      expect((await run('blkid', ['-p', '-s', 'LABEL', '-o', 'value', b.path])).stdout.trim()).toBe(`part${p.number}`);
      continue;
    }
    const [tool, ...args] = CHECKERS[p.fs]!;
    const check = await run(tool!, [...args, b.path], { allowFailure: true });
    expect(check.code, `${p.fs} partition ${p.number}: ${check.stdout}${check.stderr}`).toBe(0);
    if (p.fs === 'vfat' || p.fs === 'ntfs') {
      // Not mountable here (vfat) or FUSE-only (ntfs): the used region must match byte for byte instead.
      expect(await run('cmp', [a.path, b.path], { allowFailure: true }).then((r) => r.code)).toBe(0);
      continue;
    }
    // Both copies carry the same filesystem UUID; XFS refuses that without nouuid.
    const options = p.fs === 'xfs' ? ['ro', 'nouuid'] : ['ro'];
    await using ma = await mount(a.path, { options });
    await using mb = await mount(b.path, { options });
    expect(await fileHashes(mb.mountpoint)).toEqual(await fileHashes(ma.mountpoint));
  }
}

/** `sfdisk --dump` without the fields that depend on the disk's size or name, for comparing tables across disks. */
export async function tableDump(path: string): Promise<string> {
  return (await run('sfdisk', ['--dump', path])).stdout.split('\n').filter((l) => !/^(device|last-lba):/.test(l)).map((l) => l.replace(/^\S+?(\d+) :/, '$1 :')).join('\n');
}
