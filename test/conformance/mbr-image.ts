// I/O edges for the MBR conformance tests: a synchronous sector reader over an image file or block device, sector
// writes onto one, file hashes, and a scratch directory on tmpfs (sfdisk and parted fsync; tmpfs makes that free).
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShadowError } from '../../sdk/index.js';
import type { SectorReader, SectorWrite } from '../../plugins/partition/table/sector-io.js';

export interface OpenReader extends Disposable {
  readonly read: SectorReader;
}

/** A SectorReader over a file or device opened read-only; reads past the end throw TABLE_CORRUPT as memoryReader does. */
export function openReader(path: string, sectorSize: number, sectorCount: number): OpenReader {
  const fd = openSync(path, 'r');
  return {
    read(lba, count) {
      if (lba < 0 || lba + count > sectorCount) {
        throw new ShadowError('TABLE_CORRUPT', `Sectors ${lba}–${lba + count - 1} lie past the end of the disk (${sectorCount} sectors of ${sectorSize} bytes); the disk is truncated or the table points outside it`);
      }
      const out = new Uint8Array(count * sectorSize);
      const got = readSync(fd, out, 0, out.length, lba * sectorSize);
      if (got !== out.length) throw new ShadowError('TABLE_CORRUPT', `Short read at sector ${lba}: ${got} of ${out.length} bytes; the disk is truncated`);
      return out;
    },
    [Symbol.dispose]() {
      closeSync(fd);
    },
  };
}

/** Writes sectors onto a file or device and fsyncs it (through the device, so its page cache stays coherent). */
export function writeSectors(path: string, sectorSize: number, writes: readonly SectorWrite[]): void {
  const fd = openSync(path, 'r+');
  try {
    for (const w of writes) writeSync(fd, w.bytes, 0, w.bytes.length, w.lba * sectorSize);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface ScratchDir extends AsyncDisposable {
  readonly path: string;
}

/** A scratch directory on /dev/shm when present (sfdisk and parted fsync every write), else in the temp dir. */
export async function scratchDir(prefix = 'shadowdisk-mbr-'): Promise<ScratchDir> {
  const path = await mkdtemp(join(process.env.SHADOWDISK_TEST_SHM ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), prefix));
  return {
    path,
    async [Symbol.asyncDispose]() {
      await rm(path, { recursive: true, force: true });
    },
  };
}
