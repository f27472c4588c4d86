// Filesystems full of seeded random files inside a disk image's byte range, and the judges of a moved partition: the
// filesystem's own checker and the SHA-256 of every file, read through a loop device over that range.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loopDevice, mount, prng, run, tempDir, type TestFsType } from '../helpers/index.js';

export type FileHashes = Record<string, string>;

/** The SHA-256 of every file under `root`, by relative path (lost+found left out). */
export async function walk(root: string, dir = root, out: FileHashes = {}): Promise<FileHashes> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'lost+found') await walk(root, path, out);
    } else if (entry.isFile()) out[relative(root, path)] = createHash('sha256').update(await readFile(path)).digest('hex');
  }
  return out;
}

/** Writes `count` files of random bytes (seeded) into `dir`, 4 KiB to `maxBytes` each, in two folders. */
export async function randomFiles(dir: string, seed: number, count: number, maxBytes: number): Promise<void> {
  const random = prng(seed);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, i % 2 ? 'odd' : 'even');
    await mkdir(sub, { recursive: true });
    const bytes = Buffer.alloc(4096 + Math.floor(random() * (maxBytes - 4096)));
    for (let j = 0; j < bytes.length; j += 4) bytes.writeUInt32LE(Math.floor(random() * 2 ** 32), j - (j + 4 > bytes.length ? j + 4 - bytes.length : 0));
    await writeFile(join(sub, `file-${i}.bin`), bytes);
  }
}

/** Makes `fs` over [startBytes, startBytes+sizeBytes) of `image`, fills it with seeded files, returns their hashes. */
export async function filesystemWithFiles(image: string, startBytes: number, sizeBytes: number, fs: TestFsType, seed: number, files = 12, maxFileBytes = 512 * 1024): Promise<FileHashes> {
  await using content = await tempDir();
  await randomFiles(content.path, seed, files, maxFileBytes);
  await using loop = await loopDevice(image, { offsetBytes: startBytes, sizeLimitBytes: sizeBytes });
  if (fs === 'ext4') await run('mkfs.ext4', ['-q', '-F', '-d', content.path, loop.path]);
  else if (fs === 'xfs' && sizeBytes < 300 * 1024 * 1024) {
    // Small XFS keeps the tests quick; mkfs.xfs wants --unsupported below 300 MB (xfs_repair judges it as any other).
    await run('mkfs.xfs', ['-f', '-q', '--unsupported', loop.path]);
    await using mounted = await mount(loop.path);
    await run('cp', ['-a', `${content.path}/.`, mounted.mountpoint]);
  } else if (fs === 'vfat') {
    // vfat cannot be mounted here: mtools writes the files.
    await run('mkfs.vfat', [loop.path]);
    await run('mcopy', ['-s', '-i', loop.path, join(content.path, 'even'), join(content.path, 'odd'), '::/']);
  } else {
    const { mkfs } = await import('../helpers/index.js');
    await mkfs(loop.path, fs);
    await using mounted = await mount(loop.path, { ...(fs === 'ntfs' ? { type: 'ntfs-3g' } : {}) });
    await run('cp', ['-a', `${content.path}/.`, mounted.mountpoint]);
  }
  return await walk(content.path);
}

/** The filesystem checker's verdict and every file's hash, on [startBytes, +sizeBytes) of `image`. */
export async function judgeFilesystem(image: string, startBytes: number, sizeBytes: number, fs: TestFsType): Promise<{ clean: boolean; output: string; hashes: FileHashes }> {
  await using loop = await loopDevice(image, { offsetBytes: startBytes, sizeLimitBytes: sizeBytes });
  const check = fs === 'ext4' ? await run('e2fsck', ['-fn', loop.path], { allowFailure: true })
    : fs === 'xfs' ? await run('xfs_repair', ['-n', loop.path], { allowFailure: true })
    : fs === 'btrfs' ? await run('btrfs', ['check', '--readonly', loop.path], { allowFailure: true })
    : fs === 'ntfs' ? await run('ntfsfix', ['-n', loop.path], { allowFailure: true })
    : await run('fsck.fat', ['-n', loop.path], { allowFailure: true });
  if (fs === 'vfat') {
    await using out = await tempDir();
    await run('mcopy', ['-s', '-n', '-i', loop.path, '::/even', '::/odd', out.path]);
    return { clean: check.code === 0, output: check.stdout + check.stderr, hashes: await walk(out.path) };
  }
  await using mounted = await mount(loop.path, { options: ['ro'], ...(fs === 'ntfs' ? { type: 'ntfs-3g' } : {}) });
  return { clean: check.code === 0, output: check.stdout + check.stderr, hashes: await walk(mounted.mountpoint) };
}

/** SHA-256 of a whole file (a disk image), read in pieces: no image-sized buffer. */
export async function fileSha(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** SHA-256 of [startBytes, +sizeBytes) of a file. */
export async function rangeSha(file: string, startBytes: number, sizeBytes: number): Promise<string> {
  await using handle = await open(file, 'r');
  const bytes = Buffer.alloc(sizeBytes);
  const { bytesRead } = await handle.read(bytes, 0, sizeBytes, startBytes);
  return createHash('sha256').update(bytes.subarray(0, bytesRead)).digest('hex');
}

/**
 * The same judges for ext4 without a loop device or a mount (fast enough for many trials): e2fsck -fn and debugfs's
 * rdump read the filesystem straight from the image at `startBytes` (e2fsprogs' `?offset=` device option).
 */
export async function judgeExt4InImage(image: string, startBytes: number): Promise<{ clean: boolean; output: string; hashes: FileHashes }> {
  const device = `${image}?offset=${startBytes}`;
  const check = await run('e2fsck', ['-fn', device], { allowFailure: true });
  await using out = await tempDir();
  await run('debugfs', ['-R', `rdump / ${out.path}`, device]);
  return { clean: check.code === 0, output: check.stdout + check.stderr, hashes: await walk(out.path) };
}
