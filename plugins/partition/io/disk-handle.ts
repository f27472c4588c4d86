// The I/O edge of the partition plugin: a disk (block device or image file) opened for sector reads and writes.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync, constants } from 'node:fs';
import { blockDeviceGeometry, flushBlockDevice } from '../../../native/index.js';
import { ShadowError } from '../../../sdk/index.js';
import type { DiskGeometry } from '../table/layout.js';
import type { SectorReader, SectorWrite } from '../table/sector-io.js';

export class DiskHandle implements Disposable {
  private closed = false;

  private constructor(readonly path: string, private readonly fd: number, readonly geometry: DiskGeometry, readonly isBlockDevice: boolean, readonly writable: boolean) {}

  /** Opens a disk; image files are taken to have `imageSectorSize`-byte sectors (512 unless told). */
  static open(path: string, mode: 'r' | 'r+', imageSectorSize = 512): DiskHandle {
    let fd: number;
    try {
      fd = openSync(path, mode === 'r+' ? constants.O_RDWR : constants.O_RDONLY);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ShadowError(code === 'ENOENT' ? 'NOT_FOUND' : code === 'EACCES' || code === 'EPERM' ? 'PERMISSION_DENIED' : 'IO_ERROR', `Cannot open '${path}': ${(error as Error).message}`, { cause: error });
    }
    try {
      const stat = fstatSync(fd);
      if (stat.isBlockDevice()) {
        const g = blockDeviceGeometry(path);
        return new DiskHandle(path, fd, { sectorSize: g.logicalSectorSize, sectorCount: Number(g.sizeBytes / BigInt(g.logicalSectorSize)) }, true, mode === 'r+');
      }
      if (!stat.isFile()) throw new ShadowError('INVALID_ARGUMENT', `'${path}' is neither a block device nor an image file`);
      if (stat.size % imageSectorSize !== 0) {
        throw new ShadowError('SIZE_MISMATCH', `Image file '${path}' is ${stat.size} bytes, not a whole number of ${imageSectorSize}-byte sectors`);
      }
      return new DiskHandle(path, fd, { sectorSize: imageSectorSize, sectorCount: stat.size / imageSectorSize }, false, mode === 'r+');
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  readonly read: SectorReader = (lba, count) => {
    const { sectorSize, sectorCount } = this.geometry;
    if (lba < 0 || count < 0 || lba + count > sectorCount) {
      throw new ShadowError('TABLE_CORRUPT', `Sectors ${lba}–${lba + count - 1} lie past the end of '${this.path}' (${sectorCount} sectors); the disk is truncated or the table points outside it`);
    }
    const buffer = new Uint8Array(count * sectorSize);
    let done = 0;
    while (done < buffer.length) {
      const n = readSync(this.fd, buffer, done, buffer.length - done, lba * sectorSize + done);
      if (n === 0) throw new ShadowError('IO_ERROR', `Short read from '${this.path}' at sector ${lba}`);
      done += n;
    }
    return buffer;
  };

  /** Writes every sector write, then flushes to stable storage (and drops the block device's stale buffers). */
  write(writes: readonly SectorWrite[]): void {
    if (!this.writable) throw new ShadowError('INTERNAL', `'${this.path}' was opened read-only`);
    const { sectorSize, sectorCount } = this.geometry;
    for (const w of writes) {
      if (w.bytes.length % sectorSize !== 0 || w.lba < 0 || w.lba + w.bytes.length / sectorSize > sectorCount) {
        throw new ShadowError('INTERNAL', `Refusing a write of ${w.bytes.length} bytes at sector ${w.lba} of '${this.path}' (${sectorCount} sectors of ${sectorSize} bytes)`);
      }
    }
    for (const w of writes) {
      let done = 0;
      while (done < w.bytes.length) done += writeSync(this.fd, w.bytes, done, w.bytes.length - done, w.lba * sectorSize + done);
    }
    fsyncSync(this.fd);
    if (this.isBlockDevice) flushBlockDevice(this.path);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
