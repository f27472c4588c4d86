// Shared pieces of the disk-tools tests: a host on a fresh state directory, a partitioned loop device with its
// partition nodes (partx: this kernel scans no tables itself), and libblkid's judges.
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { loopDevice, loopPartitionNodes, run, sparseImage, tempStateDir, type LoopDevice, type SparseImage } from '../helpers/index.js';

export const MiB = 1024 * 1024;

export async function withHost<T>(use: (host: ShadowdiskHost, stateDir: string) => Promise<T>): Promise<T> {
  await using state = await tempStateDir();
  await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
  return await use(host, state.path);
}

export interface PartitionedDisk extends AsyncDisposable {
  image: SparseImage;
  loop: LoopDevice;
  /** Partition nodes, in order: /dev/loopNp1, ... */
  partitions: string[];
}

/** A sparse image of `sizeMiB` with an sfdisk script applied, on a loop device with its partition nodes added. */
export async function partitionedDisk(sizeMiB: number, sfdiskScript: string, loopOptions: { directIo?: boolean } = {}): Promise<PartitionedDisk> {
  const image = await sparseImage(sizeMiB * MiB);
  try {
    await run('sfdisk', ['--quiet', image.path], { input: sfdiskScript });
    const loop = await loopDevice(image.path, loopOptions);
    try {
      await run('partx', ['--add', loop.path]);
      const partitions = (await loopPartitionNodes(loop.path)).sort().map((name) => `/dev/${name}`);
      return {
        image, loop, partitions,
        async [Symbol.asyncDispose]() {
          try {
            await loop[Symbol.asyncDispose]();
          } finally {
            await image[Symbol.asyncDispose]();
          }
        },
      };
    } catch (error) {
      await loop[Symbol.asyncDispose]();
      throw error;
    }
  } catch (error) {
    await image[Symbol.asyncDispose]();
    throw error;
  }
}

/** What `wipefs --no-act` (libblkid) lists on a device: `type@offset` each. */
export async function wipefsList(device: string): Promise<string[]> {
  const { stdout } = await run('wipefs', ['--no-act', '--json', device]);
  if (stdout.trim() === '') return [];
  return (JSON.parse(stdout) as { signatures: { type: string; offset: string }[] }).signatures.map((s) => `${s.type}@${s.offset}`);
}

/**
 * What `blkid -p` (low-level probing) finds on a device: its TYPE and PTTYPE lines; none when it finds nothing (exit
 * 2) or only the entry of the partition in its parent's table (PART_ENTRY_*, which a wipe of the partition keeps).
 */
export async function blkidFinds(device: string): Promise<string[]> {
  const result = await run('blkid', ['-p', '-o', 'export', device], { allowFailure: true });
  if (result.code !== 0 && result.code !== 2) throw new Error(`blkid -p ${device} failed (exit ${result.code}): ${result.stderr}`);
  return result.stdout.split('\n').filter((line) => /^(TYPE|PTTYPE|SEC_TYPE)=/.test(line));
}

export async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}
