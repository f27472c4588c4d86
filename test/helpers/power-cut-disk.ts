// A disk that can lose power: the testdisk FUSE server over a backing file, and a direct-I/O loop device over the
// served file. Writes count from the server's start; only what was flushed survives a cut (docs/testing.md).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testdiskExecutable } from '../../native/testdisk.js';
import { fuseMount, type FuseMount } from './fuse-mount.js';
import { loopDevice, type LoopDevice } from './loop-device.js';

export interface TestDiskStatus {
  sizeBytes: number;
  writes: number;
  flushes: number;
  dirtyBlocks: number;
  cutAtWrite: number;
  cut: boolean;
  blocksKeptAtCut: number;
  blocksDroppedAtCut: number;
  readErrors: number;
  failReads: string[];
}

export interface PowerCutDiskOptions {
  /** Keep each unflushed block at random at a cut (seeded), instead of dropping them all. */
  cutPersist?: 'none' | 'random';
  seed?: number;
  /** 512-byte sector ranges whose reads fail with EIO: [firstLba, count]. */
  failReads?: readonly (readonly [number, number])[];
  maxWriteBytes?: number;
}

export interface PowerCutDisk extends AsyncDisposable {
  /** The loop device over the served disk. */
  readonly device: string;
  readonly backingFile: string;
  status(): Promise<TestDiskStatus>;
  /** Arms a cut at the `writes`-th write request from now (that write is lost). */
  cutAfterWrites(writes: number): Promise<void>;
  cutNow(): Promise<void>;
  failReads(ranges: readonly (readonly [number, number])[]): Promise<void>;
  /** Resolves once the server has stopped (after a cut). */
  stopped(timeoutMs?: number): Promise<void>;
  /** The server's stderr so far. */
  log(): string;
}

const rangesText = (ranges: readonly (readonly [number, number])[]) => (ranges.length ? ranges.map(([lba, count]) => `${lba}+${count}`).join(',') : 'none');

export async function powerCutDisk(backingFile: string, options: PowerCutDiskOptions = {}): Promise<PowerCutDisk> {
  const args = ['--backing', backingFile, '--cut-persist', options.cutPersist ?? 'none', '--seed', String(options.seed ?? 1)];
  if (options.failReads?.length) args.push('--fail-reads', rangesText(options.failReads));
  if (options.maxWriteBytes) args.push('--max-write', String(options.maxWriteBytes));
  let stderr = '';
  const fuse: FuseMount = await fuseMount(testdiskExecutable(), [...args, '--mount']);
  fuse.server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let loop: LoopDevice;
  try {
    loop = await loopDevice(join(fuse.mountpoint, 'disk'), { directIo: true });
  } catch (error) {
    await fuse[Symbol.asyncDispose]();
    throw error;
  }
  const control = join(fuse.mountpoint, 'control');
  const exited = new Promise<void>((resolve) => {
    if (fuse.server.exitCode !== null || fuse.server.signalCode !== null) resolve();
    else fuse.server.once('exit', () => resolve());
  });
  return {
    device: loop.path,
    backingFile,
    status: async () => JSON.parse(await readFile(control, 'utf8')) as TestDiskStatus,
    cutAfterWrites: (writes) => writeFile(control, `cut-after-writes ${writes}\n`),
    // The server stops right after answering the command, so closing the control file may find it gone
    // (ENOTCONN once unmounted, ECONNABORTED while the kernel is still tearing the connection down).
    cutNow: () => writeFile(control, 'cut\n').catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTCONN' && error.code !== 'ECONNABORTED') throw error;
    }),
    failReads: (ranges) => writeFile(control, `fail-reads ${rangesText(ranges)}\n`),
    async stopped(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`testdisk did not stop within ${timeoutMs} ms: ${stderr}`)), timeoutMs)))]);
      clearTimeout(timer);
    },
    log: () => stderr,
    async [Symbol.asyncDispose]() {
      // The loop device first (it holds the served file), then the server and its mount.
      try {
        await loop[Symbol.asyncDispose]();
      } finally {
        await fuse[Symbol.asyncDispose]();
      }
    },
  };
}
