// FAT filesystems without mounting (vfat cannot be mounted here): made with mkfs.vfat as on a partition (hidden
// sectors set) and filled with mtools, judged by fsck.fat -n, the boot sector, the volume serial and every file's hash.
import { mkdir, open, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseFatBootSector } from '../../plugins/partition/resize/fat-boot-sector.js';
import { loopDevice, prng, run, tempDir } from '../helpers/index.js';
import { walk as walkHashes, type FileHashes } from './move-fixtures.js';

const MiB = 1024 * 1024;

/** Seeded files of 1 byte to `maxBytes` in nested folders (a/, a/b/, a/b/c/, top level). */
async function nestedFiles(dir: string, seed: number, count: number, maxBytes: number): Promise<void> {
  const random = prng(seed);
  const folders = ['', 'a', 'a/b', 'a/b/c', 'docs'];
  for (let i = 0; i < count; i++) {
    const folder = join(dir, folders[i % folders.length]!);
    await mkdir(folder, { recursive: true });
    const bytes = Buffer.alloc(4 + 4 * Math.floor((random() ** 2 * maxBytes) / 4) + (i % 4));
    for (let j = 0; j + 4 <= bytes.length; j += 4) bytes.writeUInt32LE(Math.floor(random() * 2 ** 32), j);
    await writeFile(join(folder, `f${i}.bin`), bytes);
  }
}

/** FAT12, 16 or 32 with files over [start, +size) of `image`; hidden sectors are its start, as mkfs on a partition sets them. */
export async function fatWithFiles(image: string, startBytes: number, sizeBytes: number, fatBits: 12 | 16 | 32, seed: number, clusterSectors?: number): Promise<FileHashes> {
  await using content = await tempDir();
  await nestedFiles(content.path, seed, 20, Math.min(2 * MiB, sizeBytes / 32));
  await using loop = await loopDevice(image, { offsetBytes: startBytes, sizeLimitBytes: sizeBytes });
  await run('mkfs.vfat', ['-F', String(fatBits), ...(clusterSectors ? ['-s', String(clusterSectors)] : []), '-h', String(startBytes / 512), '-n', `FAT${fatBits}DATA`, loop.path]);
  await run('mcopy', ['-s', '-i', loop.path, ...(await readdir(content.path)).map((n) => join(content.path, n)), '::/']);
  return await walkHashes(content.path);
}

/** fsck.fat -n's verdict, the boot sector, and every file's hash, on [start, +size) of `image`. */
export async function judgeFat(image: string, startBytes: number, sizeBytes: number) {
  await using loop = await loopDevice(image, { offsetBytes: startBytes, sizeLimitBytes: sizeBytes });
  const check = await run('fsck.fat', ['-n', loop.path], { allowFailure: true });
  await using out = await tempDir();
  await run('mcopy', ['-s', '-n', '-i', loop.path, '::/*', out.path]);
  const handle = await open(loop.path, 'r');
  const sector = Buffer.alloc(512);
  await handle.read(sector, 0, 512, 0).finally(() => handle.close());
  const serial = (await run('fatlabel', ['-i', loop.path])).stdout.trim();
  // fsck.fat -n reports a boot sector that differs from FAT32's backup but still exits 0: that counts as unclean here.
  const output = check.stdout + check.stderr;
  return { clean: check.code === 0 && !output.includes('differences between boot sector and its backup'), output, boot: parseFatBootSector(sector)!, serial, hashes: await walkHashes(out.path) };
}
