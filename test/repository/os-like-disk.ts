// Test disks with OS-like content: a GPT disk with one ext4 partition holding "packages" (folders of text-like and
// binary files of mixed sizes), generated from seeds. Two disks share every package but those listed as different,
// which get other contents (same sizes: another version of the package), so ~90% of the files match.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prng, run, sparseImage, type SparseImage } from '../helpers/index.js';

const WORDS = 'the of and to in is that for it as with was on be by this are or from at which an have not all but were can had one their has been more will would there if its also into other these than some when only so may such new about many time first after over like most then used any where between each two through'.split(' ');

function fileBytes(random: () => number, size: number, binary: boolean): Buffer {
  const out = Buffer.alloc(size);
  if (binary) {
    // Machine code and tables: random runs with repeats, compressible ~2x.
    for (let i = 0; i < size; i++) out[i] = random() < 0.5 && i >= 64 ? out[i - 64]! : Math.floor(random() * 256);
    return out;
  }
  let at = 0;
  while (at < size) at += out.write(`${WORDS[Math.floor(random() * WORDS.length)]}${random() < 0.1 ? '\n' : ' '}`, at);
  return out;
}

/** Writes the package tree; `different` packages get contents from another seed. */
export async function writePackageTree(root: string, packages: number, different: ReadonlySet<number>): Promise<number> {
  let bytes = 0;
  for (let p = 0; p < packages; p++) {
    const shape = prng(1000 + p);
    const content = prng(different.has(p) ? 900_000 + p : 2000 + p);
    const dir = join(root, 'usr', 'lib', `package-${p}`);
    await mkdir(dir, { recursive: true });
    const files = 8 + Math.floor(shape() * 16);
    for (let f = 0; f < files; f++) {
      const size = Math.floor(4096 + shape() ** 3 * 500_000);
      const data = fileBytes(content, size, shape() < 0.4);
      await writeFile(join(dir, `file-${f}${f % 3 === 0 ? '.so' : '.txt'}`), data);
      bytes += size;
    }
  }
  return bytes;
}

/** A sparse disk image: GPT, one partition from 1 MiB to the end, ext4 made from the tree (mke2fs -d, no mount). */
export async function osLikeDisk(scratch: string, name: string, sizeBytes: number, packages: number, different: ReadonlySet<number>): Promise<SparseImage & { contentBytes: number }> {
  const image = await sparseImage(sizeBytes);
  const tree = join(scratch, `${name}-tree`);
  const fs = join(scratch, `${name}.ext4`);
  try {
    const contentBytes = await writePackageTree(tree, packages, different);
    await run('sfdisk', ['--quiet', image.path], { input: 'label: gpt\nstart=2048, type=L\n' });
    const { stdout } = await run('sfdisk', ['--json', image.path]);
    const part = (JSON.parse(stdout) as { partitiontable: { partitions: { start: number; size: number }[] } }).partitiontable.partitions[0]!;
    await run('truncate', ['-s', String(part.size * 512), fs]);
    await run('mkfs.ext4', ['-q', '-F', '-d', tree, fs]);
    await run('dd', [`if=${fs}`, `of=${image.path}`, 'bs=1M', `seek=${part.start * 512}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
    return Object.assign(image, { contentBytes });
  } catch (error) {
    await image[Symbol.asyncDispose]();
    throw error;
  } finally {
    await rm(tree, { recursive: true, force: true });
    await rm(fs, { force: true });
  }
}
