// Moves a partition's bytes on its disk under a write-ahead journal kept in the state directory, one step at a time:
// read the step's source, save it first if the destination overlaps it, record the step with the source checksum,
// write, flush the device, and let the next record (or the last) say it is done. A run that stops anywhere, power cut
// included, is resumed from the record by `resumeMove` with the same code.
import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, readSync, writeSync } from 'node:fs';
import { allocAligned } from '../../../native/index.js';
import type { RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { isNtfsBootSector, ntfsBackupBootOffset, setNtfsHiddenSectors } from './boot-sector-fix.js';
import { parseFatBootSector } from '../resize/fat-boot-sector.js';
import type { DiskIo } from './disk-io.js';
import { chunkCount, moveChunk, type MoveChunk, type MoveSpec } from './move-schedule.js';

/** A move's journal record: where it stands, durable before the work after it starts. */
export interface MoveProgress extends MoveSpec {
  /** The partition's number in the target layout, for messages. */
  readonly partition: number;
  readonly newStartLba: number;
  readonly sectorSize: number;
  /** A copy: the source stays a partition of its own. */
  readonly copy?: boolean;
  /** Steps written and flushed. */
  doneChunks: number;
  /** The step being written: its source checksum, and whether its source bytes are in the save file. */
  current?: { index: number; srcSha256: string; saved: boolean };
  /** The last step finished, and the checksum its destination reads back as. */
  lastDone?: { index: number; dstSha256: string };
  /** Copy done and boot sectors fixed. */
  finished: boolean;
}

export interface MoveContext {
  io: DiskIo;
  /** Where the source is read when it is on another disk (a copy with `srcDisk`); `io` otherwise. */
  srcIo?: DiskIo;
  /** Where a step's source is saved when its destination overlaps it (in the state directory, off the disk). */
  saveFile: string;
  /** Durably records the progress (the journal). */
  persist(progress: MoveProgress): void;
  run: RunContext;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Runs (or resumes) a move until its data is at the destination and its boot sectors are fixed. */
export async function runMove(start: MoveProgress, ctx: MoveContext): Promise<MoveProgress> {
  let progress: MoveProgress = structuredClone(start);
  const count = chunkCount(progress);
  const buffer = takeBuffer(progress.stepBytes);
  const phase = `move partition ${progress.partition}`;
  const report = (done: number) => ctx.run.progress({ phase, done: Math.min(done, progress.lengthBytes), total: progress.lengthBytes });
  report(progress.doneChunks * progress.stepBytes);
  if (progress.lastDone) await verifyDestination(progress, moveChunk(progress, progress.lastDone.index), buffer, ctx);

  // Resuming inside a step: its source is in the save file or still in place; either must match the record.
  if (progress.current) {
    const chunk = moveChunk(progress, progress.current.index);
    const data = buffer.subarray(0, chunk.lengthBytes);
    if (progress.current.saved) readSaveFile(ctx.saveFile, data);
    else await (ctx.srcIo ?? ctx.io).read(data, chunk.srcBytes);
    if (sha256(data) !== progress.current.srcSha256) {
      throw new ShadowError('IMAGE_CORRUPT', `Cannot resume the move of partition ${progress.partition}: the ${progress.current.saved ? `copy saved in ${ctx.saveFile}` : `source of step ${chunk.index + 1}`} no longer matches its journal checksum. Nothing more was written`);
    }
    progress = await writeStep(progress, chunk, data, ctx);
  }

  // Step k+1's source is read (and hashed) while step k is written: no step writes another's unread source.
  const buffers = [buffer, progress.doneChunks + 1 < count ? takeBuffer(progress.stepBytes) : buffer];
  const readStep = (index: number) => readAndHash(ctx.srcIo ?? ctx.io, buffers[index % 2]!, moveChunk(progress, index));
  let next = progress.doneChunks < count ? readStep(progress.doneChunks) : undefined;
  try {
    for (let index = progress.doneChunks; index < count; index++) {
      if (ctx.run.signal.aborted) {
        throw new ShadowError('ABORTED', `The move of partition ${progress.partition} was cancelled after step ${index} of ${count}; its journal is kept: run 'shadowdisk recover' to finish it`, { cause: ctx.run.signal.reason });
      }
      const chunk = moveChunk(progress, index);
      const { data, srcSha256 } = await next!;
      next = index + 1 < count ? readStep(index + 1) : undefined;
      // Not awaited until its turn; a failure surfaces there (and must not count as unhandled meanwhile).
      next?.catch(() => undefined);
      if (chunk.saveFirst) writeSaveFile(ctx.saveFile, data);
      progress = { ...progress, current: { index, srcSha256, saved: chunk.saveFirst } };
      ctx.persist(progress);
      // Progress as the step's pieces land, so a slow disk still reports well within a second.
      progress = await writeStep(progress, chunk, data, ctx, (bytes) => report(index * progress.stepBytes + bytes));
      report((index + 1) * progress.stepBytes);
    }
  } finally {
    await next?.catch(() => undefined);
    for (const b of new Set(buffers)) giveBuffer(b);
  }
  if (!progress.finished) {
    await fixBootSectors(progress, ctx.io);
    progress = { ...progress, finished: true };
    delete progress.current;
    ctx.persist(progress);
  }
  report(progress.lengthBytes);
  return progress;
}

/** Reads a step's source in pieces, hashing each piece as soon as it and those before it are in. */
async function readAndHash(io: DiskIo, buffer: Buffer, chunk: MoveChunk): Promise<{ data: Buffer; srcSha256: string }> {
  const data = buffer.subarray(0, chunk.lengthBytes);
  const hash = createHash('sha256');
  let hashed = 0;
  await io.read(data, chunk.srcBytes, (upTo) => {
    if (upTo > hashed) hash.update(data.subarray(hashed, upTo));
    hashed = Math.max(hashed, upTo);
  });
  if (hashed < data.length) hash.update(data.subarray(hashed));
  return { data, srcSha256: hash.digest('hex') };
}

// Step buffers are reused across moves: fresh multi-MiB buffers page-fault at a few hundred MiB/s on these VMs.
const spareBuffers: Buffer[] = [];

function takeBuffer(stepBytes: number): Buffer {
  const size = Math.max(stepBytes, 4096);
  const found = spareBuffers.findIndex((b) => b.length >= size);
  return found >= 0 ? spareBuffers.splice(found, 1)[0]! : allocAligned(size);
}

function giveBuffer(buffer: Buffer): void {
  if (spareBuffers.length < 2) spareBuffers.push(buffer);
}

async function writeStep(progress: MoveProgress, chunk: MoveChunk, data: Buffer, ctx: MoveContext, written?: (bytes: number) => void): Promise<MoveProgress> {
  await ctx.io.write(data, chunk.dstBytes, written);
  await ctx.io.flush();
  const next: MoveProgress = { ...progress, doneChunks: chunk.index + 1, lastDone: { index: chunk.index, dstSha256: progress.current!.srcSha256 } };
  delete next.current;
  return next;
}

/** A finished step must read back as written: a device that lost flushed writes cannot be trusted to go on. */
async function verifyDestination(progress: MoveProgress, chunk: MoveChunk, buffer: Buffer, ctx: MoveContext): Promise<void> {
  const data = buffer.subarray(0, chunk.lengthBytes);
  await ctx.io.read(data, chunk.dstBytes);
  if (sha256(data) !== progress.lastDone!.dstSha256) {
    throw new ShadowError('IMAGE_CORRUPT', `Cannot resume the move of partition ${progress.partition}: step ${chunk.index + 1} was flushed but its destination at byte ${chunk.dstBytes} no longer reads as written; the disk lost data it had confirmed. Nothing more was written`);
  }
}

async function fixBootSectors(progress: MoveProgress, io: DiskIo): Promise<void> {
  const size = Math.max(512, io.alignment, progress.sectorSize);
  const sector = allocAligned(size);
  await io.read(sector, progress.dstBytes);
  if (!isNtfsBootSector(sector)) {
    await fixFatHiddenSectors(progress, io, sector);
    return;
  }
  const backupAt = ntfsBackupBootOffset(sector);
  const changed = setNtfsHiddenSectors(sector, progress.newStartLba, progress.sectorSize);
  if (changed) await io.write(sector, progress.dstBytes);
  if (backupAt > 0 && backupAt + size <= progress.lengthBytes && backupAt % size === 0) {
    const backup = allocAligned(size);
    await io.read(backup, progress.dstBytes + backupAt);
    if (isNtfsBootSector(backup) && setNtfsHiddenSectors(backup, progress.newStartLba, progress.sectorSize)) await io.write(backup, progress.dstBytes + backupAt);
  }
  await io.flush();
}

/**
 * A FAT boot sector (and FAT32's backup) names its partition's start in hidden sectors, which boot code reads; moved,
 * it names the new start. Left alone when 0 (made on a device of its own, as mkfs.vfat on a loop device does).
 */
async function fixFatHiddenSectors(progress: MoveProgress, io: DiskIo, sector: Buffer): Promise<void> {
  const boot = parseFatBootSector(sector);
  if (!boot || boot.hiddenSectors === 0) return;
  const value = (progress.newStartLba * progress.sectorSize) / boot.bytesPerSector;
  if (!Number.isInteger(value) || value > 0xffffffff || value === boot.hiddenSectors) return;
  const size = sector.length;
  for (const at of boot.backupBootSector ? [0, boot.backupBootSector * boot.bytesPerSector] : [0]) {
    // Read and written in whole blocks of the device's alignment: the backup may sit inside one.
    const blockAt = at - (at % size);
    if (blockAt + size > progress.lengthBytes) continue;
    const block = allocAligned(size);
    await io.read(block, progress.dstBytes + blockAt);
    const inner = at - blockAt;
    if (!parseFatBootSector(block.subarray(inner, inner + boot.bytesPerSector))) continue;
    block.writeUInt32LE(value, inner + 28);
    await io.write(block, progress.dstBytes + blockAt);
  }
  await io.flush();
}

function writeSaveFile(path: string, data: Buffer): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    for (let done = 0; done < data.length;) done += writeSync(fd, data, done, data.length - done);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readSaveFile(path: string, into: Buffer): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new ShadowError('IMAGE_CORRUPT', `The move's saved copy ${path} is missing (${(error as Error).message}); the journal needs it to finish`, { cause: error });
  }
  try {
    for (let done = 0; done < into.length;) {
      const n = readSync(fd, into, done, into.length - done, done);
      if (n === 0) throw new ShadowError('IMAGE_CORRUPT', `The move's saved copy ${path} is shorter than its journal says (${done} of ${into.length} bytes)`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}
