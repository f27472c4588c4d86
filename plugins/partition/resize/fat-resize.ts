// vfat resized by fatresize (libparted's FAT resizer) without letting libparted near the partition table: it runs on
// a private loop device over the filesystem alone, which libparted takes for a whole device holding one filesystem
// (its "loop" label, no table to write). Before anything is written the same request runs on a scratch copy of the
// filesystem's metadata, so what fatresize would refuse or ask about (a FAT16<->FAT32 conversion) is refused up front;
// afterwards the hidden sectors (libparted writes its device's start, 0), the volume serial and label are put back.
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachLoop, detachLoop } from '../../../native/index.js';
import type { RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { runTool } from '../../../sdk/node.js';
import { keepFatIdentity, parseFatBootSector, type FatBootSector } from './fat-boot-sector.js';
import { fatresizeRequest, type FatresizeRequest } from './fatresize-request.js';

const formatMiB = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

async function deviceGeometry(device: string, run: RunContext): Promise<{ sectorSize: number; sizeBytes: number }> {
  const [sectorSize, sizeBytes] = (await runTool('blockdev', ['--getss', '--getsize64', device], { signal: run.signal })).stdout.trim().split('\n').map(Number);
  return { sectorSize: sectorSize!, sizeBytes: sizeBytes! };
}

function readBytes(device: string, offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  const fd = openSync(device, 'r');
  try {
    readSync(fd, bytes, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

function bootSectorOf(device: string): FatBootSector {
  const boot = parseFatBootSector(readBytes(device, 0, 4096));
  if (!boot) throw new ShadowError('IO_ERROR', `${device} holds no FAT boot sector that can be read; run 'fsck.fat -n ${device}'`);
  if (boot.fatBits === 12) throw new ShadowError('UNSUPPORTED', `The vfat filesystem on ${device} is FAT12, and fatresize resizes FAT16 and FAT32 only. Nothing was written`);
  return boot;
}

/** Runs fatresize on a private loop device over the first `sizeBytes` of `backing`; stdin is closed, so a question cancels. */
async function fatresizeOn<T>(backing: string, sizeBytes: number, sectorSize: number, args: readonly string[], run: RunContext, read: (output: string, exitCode: number) => T): Promise<T> {
  const loop = attachLoop(backing, { sizeLimitBytes: BigInt(sizeBytes), blockSize: sectorSize });
  try {
    // The partition number comes after the device: fatresize otherwise derives one from the device's name.
    const result = await runTool('fatresize', [...args, loop, '-n', '1'], { signal: run.signal, okCodes: [...Array(256).keys()] });
    run.log.info(`${result.commandLine} (exit ${result.exitCode})`);
    return read(`${result.stdout}\n${result.stderr}`, result.exitCode);
  } finally {
    detachLoop(loop);
  }
}

/** The smallest size libparted can shrink the vfat filesystem on `device` to, in bytes. */
export async function fatMinimumSizeBytes(device: string, run: RunContext): Promise<number> {
  bootSectorOf(device);
  const { sectorSize, sizeBytes } = await deviceGeometry(device, run);
  return fatresizeOn(device, sizeBytes, sectorSize, ['-i'], run, (output, exitCode) => {
    const minimum = Number(/^Min size: (\d+)$/m.exec(output)?.[1]);
    if (exitCode !== 0 || !minimum) throw new ShadowError('IO_ERROR', `fatresize --info gives no minimum size for ${device}: ${output.trim().split('\n').slice(-2).join(' ')}`);
    return minimum;
  });
}

function requestFor(device: string, deviceSectors: number, toBytes: number, sectorSize: number): FatresizeRequest {
  const request = fatresizeRequest(deviceSectors, Math.floor(toBytes / sectorSize), sectorSize);
  if (!request) throw new ShadowError('UNSUPPORTED', `fatresize cannot make the vfat filesystem on ${device} end inside ${formatMiB(toBytes)}. Nothing was written`);
  return request;
}

/** fatresize's refusal as an error; `after` says what became of the filesystem (a trial writes nothing of it). */
function refusal(output: string, what: string, after: string): ShadowError {
  const converting = /converting to (FAT\d+)/.exec(output);
  if (converting) return new ShadowError('UNSUPPORTED', `Resizing ${what} would convert its FAT type to ${converting[1]} (the cluster count leaves its type's range), which breaks boot loaders and the partition type; choose a size that keeps the type, or back it up and format it. ${after}`);
  return new ShadowError('UNSUPPORTED', `fatresize cannot resize ${what} to that size: ${output.trim().split('\n').filter((l) => !/^(fatresize |part\(|Could not get geometry)/.test(l)).slice(-2).join(' ') || 'no reason given'}. ${after}`);
}

/**
 * Before anything is written: the resize of the vfat filesystem on `device` to `toBytes` runs on a sparse scratch file
 * holding its boot sectors and FATs only (the data area reads as zeros), and must succeed, keep the FAT type and fit.
 */
export async function checkFatResize(device: string, toBytes: number, run: RunContext, minimumBytes?: number): Promise<void> {
  const before = bootSectorOf(device);
  const { sectorSize, sizeBytes } = await deviceGeometry(device, run);
  const runBytes = Math.max(sizeBytes, toBytes);
  const request = requestFor(device, Math.floor(runBytes / sectorSize), toBytes, sectorSize);
  if (minimumBytes !== undefined && request.sectors * sectorSize < minimumBytes) {
    throw new ShadowError('SIZE_MISMATCH', `The vfat filesystem on ${device} needs at least ${formatMiB(minimumBytes)} (${minimumBytes} bytes), and fatresize rounds ${formatMiB(toBytes)} down to ${formatMiB(request.sectors * sectorSize)}; choose a larger size. Nothing was written`, { details: { minimumBytes } });
  }
  const scratch = await mkdtemp(join(tmpdir(), 'shadowdisk-fat-trial-'));
  try {
    const file = join(scratch, 'metadata.img');
    const metadata = readBytes(device, 0, before.metadataSectors * before.bytesPerSector);
    const fd = openSync(file, 'w');
    try {
      writeSync(fd, metadata, 0, metadata.length, 0);
    } finally {
      closeSync(fd);
    }
    await truncate(file, runBytes);
    await fatresizeOn(file, runBytes, sectorSize, ['-s', String(request.sizeBytes)], run, (output, exitCode) => {
      if (exitCode !== 0) throw refusal(output, `the vfat filesystem on ${device}`, 'Nothing was written');
    });
    const after = parseFatBootSector(readBytes(file, 0, 4096));
    if (!after || after.fatBits !== before.fatBits || after.totalSectors * after.bytesPerSector > toBytes) {
      throw new ShadowError('UNSUPPORTED', `A trial resize of the vfat filesystem on ${device} gave ${after ? `FAT${after.fatBits} of ${after.totalSectors * after.bytesPerSector} bytes` : 'no FAT'} where FAT${before.fatBits} within ${toBytes} bytes was asked. Nothing was written`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Resizes the (unmounted) vfat filesystem on `device` to end within `toBytes` (its device's size when absent). */
export async function resizeFat(device: string, toBytes: number | undefined, run: RunContext): Promise<void> {
  const before = bootSectorOf(device);
  const original = readBytes(device, 0, before.bytesPerSector);
  const { sectorSize, sizeBytes } = await deviceGeometry(device, run);
  const wanted = Math.min(toBytes ?? sizeBytes, sizeBytes);
  const request = requestFor(device, Math.floor(sizeBytes / sectorSize), wanted, sectorSize);
  await fatresizeOn(device, sizeBytes, sectorSize, ['-s', String(request.sizeBytes)], run, (output, exitCode) => {
    if (exitCode !== 0) throw refusal(output, `the vfat filesystem on ${device}`, `Check it with 'fsck.fat -n ${device}' (fatresize asks before it writes, so a question left it as it was)`);
  });
  const fd = openSync(device, 'r+');
  try {
    const after = parseFatBootSector(readBytes(device, 0, 4096));
    if (!after || after.fatBits !== before.fatBits || after.totalSectors * after.bytesPerSector > wanted) {
      throw new ShadowError('IO_ERROR', `fatresize left ${device} with ${after ? `FAT${after.fatBits} of ${after.totalSectors * after.bytesPerSector} bytes` : 'no FAT boot sector'} where FAT${before.fatBits} within ${wanted} bytes was asked; check it with 'fsck.fat -n ${device}'`);
    }
    // libparted wrote a new boot sector (and FAT32's backup): its device's start (0) as hidden sectors, no label.
    for (const at of after.backupBootSector ? [0, after.backupBootSector] : [0]) {
      const sector = readBytes(device, at * after.bytesPerSector, after.bytesPerSector);
      if (parseFatBootSector(sector) && keepFatIdentity(sector, original, after.fatBits, before.fatBits)) writeSync(fd, sector, 0, sector.length, at * after.bytesPerSector);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
