// Test support (no production code imports it): a synchronous file reader, the copy-used-blocks-only judge and file hashes.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { prng } from '../../../test/helpers/index.js';
import { usedRuns, type ByteReader, type UsedBlockMap } from './used-block-map.js';

export interface FileByteReader extends Disposable {
  readonly read: ByteReader;
  readonly sizeBytes: number;
}

/** Reads an image file synchronously, as the engine's reader will; throws on reads past the end. */
export function fileByteReader(path: string): FileByteReader {
  const fd = openSync(path, 'r');
  const stat = fstatSync(fd);
  if (!stat.isFile()) throw new Error(`${path} is not an image file; detach the loop device and read its backing file`);
  const sizeBytes = stat.size;
  return {
    sizeBytes,
    read(offsetBytes, lengthBytes) {
      if (offsetBytes < 0 || offsetBytes + lengthBytes > sizeBytes) throw new RangeError(`Read of ${lengthBytes} bytes at ${offsetBytes} is past the end (${sizeBytes} bytes)`);
      const buffer = new Uint8Array(lengthBytes);
      let done = 0;
      while (done < lengthBytes) {
        const n = readSync(fd, buffer, done, lengthBytes - done, offsetBytes + done);
        if (n === 0) throw new RangeError(`Short read at ${offsetBytes + done}`);
        done += n;
      }
      return buffer;
    },
    [Symbol.dispose]() {
      closeSync(fd);
    },
  };
}

/** Copies only the blocks the map marks used from `source` onto a fresh zeroed (sparse) file `target` of the same size. */
export async function copyUsedBlocksOnly(source: string, map: UsedBlockMap, target: string, volumeSizeBytes: number): Promise<number> {
  const input = await open(source, 'r');
  const output = await open(target, 'wx');
  let copied = 0;
  try {
    await output.truncate(volumeSizeBytes);
    const chunk = Buffer.alloc(8 * 1024 * 1024);
    for (const run of usedRuns(map)) {
      let offset = run.startBlock * map.blockSize;
      const end = Math.min(volumeSizeBytes, (run.startBlock + run.blockCount) * map.blockSize);
      while (offset < end) {
        const length = Math.min(chunk.length, end - offset);
        const { bytesRead } = await input.read(chunk, 0, length, offset);
        await output.write(chunk, 0, bytesRead, offset);
        offset += length;
        copied += bytesRead;
      }
    }
  } finally {
    await input.close();
    await output.close();
  }
  return copied;
}

/** SHA-256 of every regular file under a directory, keyed by its relative path. */
export async function fileHashes(root: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) hashes.set(relative(root, path), createHash('sha256').update(await readFile(path)).digest('hex'));
    }
  };
  await walk(root);
  return new Map([...hashes].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Writes a seeded tree of files (empty, tiny, block-sized, large, sparse) under `root`, then deletes every third
 * file (`doomed`; left in place with keepDoomed, for filesystems filled from a staging tree) so the filesystem has holes.
 */
export async function fillWithFiles(
  root: string,
  seed: number,
  options: { files: number; maxFileBytes: number; directories?: number; sparse?: boolean; keepDoomed?: boolean },
): Promise<{ kept: string[]; doomed: string[] }> {
  const random = prng(seed);
  const directories = options.directories ?? 4;
  for (let d = 0; d < directories; d++) await mkdir(join(root, `dir${d}`, 'sub'), { recursive: true });
  const written: string[] = [];
  for (let i = 0; i < options.files; i++) {
    const shape = random();
    const size = shape < 0.1 ? 0 : shape < 0.3 ? 1 + Math.floor(random() * 100) : shape < 0.5 ? 4096 * (1 + Math.floor(random() * 4)) : Math.floor(random() * options.maxFileBytes);
    const path = join(root, `dir${i % directories}`, i % 3 === 0 ? 'sub' : '', `file-${i}.bin`);
    if (options.sparse && i % 7 === 3) {
      // A hole in the middle: only the two ends take blocks.
      const handle = await open(path, 'w');
      await handle.write(randomBytes(5000), 0, 5000, 0);
      await handle.write(randomBytes(5000), 0, 5000, 3 * 1024 * 1024);
      await handle.close();
    } else {
      await writeFile(path, randomBytes(size));
    }
    written.push(path);
  }
  const kept = written.filter((_, i) => i % 3 !== 1);
  const doomed = written.filter((_, i) => i % 3 === 1);
  if (!options.keepDoomed) for (const path of doomed) await rm(path);
  return { kept, doomed };
}

/** Parses e2fsck's summary line `N/M files ..., U/T blocks`: the checker's own count of used blocks. */
export function e2fsckUsedBlocks(output: string): { used: number; total: number } {
  const match = /(\d+)\/(\d+) blocks/.exec(output);
  if (!match) throw new Error(`e2fsck printed no 'used/total blocks' summary: ${output}`);
  return { used: Number(match[1]), total: Number(match[2]) };
}
