// `image restore`: verify the whole image first (nothing is written from a damaged, tampered or wrongly keyed image),
// check the target (size, sector size, not mounted), then write every chunk back where it came from.
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { blockDeviceGeometry, flushBlockDevice } from '../../../native/index.js';
import type { RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import type { BackupManifest, StreamManifest } from './backup-manifest.js';
import { mountsOf } from './mount-state.js';
import { includedRanges, sliceRanges, type SourceRange } from './packed-stream.js';
import type { ChainLink } from './image-chain.js';
import { isStored } from './segments.js';


export async function targetGeometry(target: string): Promise<{ sizeBytes: number; sectorSize: number; isBlockDevice: boolean }> {
  const info = await stat(target).catch(() => {
    throw new ShadowError('NOT_FOUND', `Restore target '${target}' does not exist; give a block device or an existing image file`);
  });
  if (info.isBlockDevice()) {
    const g = blockDeviceGeometry(target);
    return { sizeBytes: Number(g.sizeBytes), sectorSize: g.logicalSectorSize, isBlockDevice: true };
  }
  if (!info.isFile()) throw new ShadowError('INVALID_ARGUMENT', `Restore target '${target}' is neither a block device nor a file`);
  return { sizeBytes: info.size, sectorSize: 512, isBlockDevice: false };
}

export interface RestorePlan {
  manifest: BackupManifest;
  target: string;
  targetBytes: number;
  isBlockDevice: boolean;
}

/** Every check that must pass before a byte is written: every link verified whole, the target big enough and free. */
export async function checkRestore(links: readonly ChainLink[], target: string, run: RunContext): Promise<RestorePlan> {
  const manifest = links[0]!.manifest;
  for (const [i, link] of links.entries()) {
    run.progress({ phase: links.length > 1 ? `verify ${i + 1}/${links.length}` : 'verify', done: 0, total: 1 });
    await link.reader.verify((p) => run.progress({ phase: links.length > 1 ? `verify ${i + 1}/${links.length}` : 'verify', done: p.bytesDone, total: p.bytesTotal }));
  }
  const geometry = await targetGeometry(target);
  if (geometry.sizeBytes < manifest.source.sizeBytes) {
    throw new ShadowError('SIZE_MISMATCH', `Target ${target} has ${geometry.sizeBytes} bytes but the image's ${manifest.source.kind} had ${manifest.source.sizeBytes}; restore to a target of the same size or larger`);
  }
  if (manifest.source.kind === 'disk' && geometry.isBlockDevice && geometry.sectorSize !== manifest.source.sectorSize) {
    throw new ShadowError('SIZE_MISMATCH', `Target ${target} has ${geometry.sectorSize}-byte sectors but the image's disk had ${manifest.source.sectorSize}-byte sectors; its partition table would point at the wrong places`);
  }
  const mounted = mountsOf(target);
  if (mounted.length > 0) {
    throw new ShadowError('TARGET_BUSY', `Cannot restore onto ${target}: ${mounted.map((m) => `${m.device} is mounted on ${m.mountpoint}`).join('; ')}. Nothing was written`);
  }
  return { manifest, target, targetBytes: geometry.sizeBytes, isBlockDevice: geometry.isBlockDevice };
}

/**
 * Writes the newest state the chain holds. Table sectors and the boot gap come from the newest image; each block a
 * filesystem uses now comes from the newest link that stores it, and blocks it no longer uses are not written at all,
 * so the result equals a full restore of the same state.
 */
export async function writeChain(links: readonly ChainLink[], plan: RestorePlan, run: RunContext): Promise<number> {
  const total = links.reduce((n, l) => n + l.reader.chunks.reduce((m, c) => m + c.plainLength, 0), 0);
  const handle = await openTarget(plan.target, plan.isBlockDevice);
  let done = 0;
  let written = 0;
  try {
    for (const stream of plan.manifest.streams) {
      const newest = links[0]!;
      const wanted = stream.extents ? undefined : blockSet(stream);
      const writtenBlocks = new Uint8Array(wanted?.length ?? 0);
      for (const link of stream.extents ? [newest] : links) {
        const own = link.manifest.streams.find((s) => s.id === stream.id)!;
        const segments = link.segments.get(stream.id);
        const ranges = includedRanges(own, segments && link.manifest.segments ? { segmentBytes: link.manifest.segments.bytes, isStored: (i) => isStored(segments, i) } : undefined);
        for (const chunk of link.reader.chunks) {
          if (chunk.streamId !== stream.id) continue;
          run.signal.throwIfAborted();
          const plain = await link.reader.readChunk(chunk.index);
          let at = 0;
          for (const piece of sliceRanges(ranges, chunk.offsetBytes, chunk.plainLength)) {
            for (const part of wanted ? newBlocksOf(piece, stream, wanted, writtenBlocks) : [{ ...piece, skip: 0 }]) {
              await handle.write(plain, at + part.skip, part.lengthBytes, part.offsetBytes);
              written += part.lengthBytes;
            }
            at += piece.lengthBytes;
          }
          done += chunk.plainLength;
          run.progress({ phase: 'restore', done, total });
        }
      }
      if (wanted && stream.zeroElided) written += await zeroExcluded(handle, stream, wanted);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (plan.isBlockDevice) flushBlockDevice(plan.target);
  return written;
}

/** Writes zeros over the blocks of a zero-elided stream that the image does not hold: they were zero at backup time. */
async function zeroExcluded(handle: FileHandle, stream: StreamManifest, wanted: Uint8Array): Promise<number> {
  const zeros = new Uint8Array(1024 * 1024);
  const blocks = Math.ceil(stream.sizeBytes / stream.blockSize);
  let written = 0;
  for (let block = 0; block < blocks; ) {
    if ((wanted[block >> 3]! >> (block & 7)) & 1) {
      block++;
      continue;
    }
    const first = block;
    while (block < blocks && !((wanted[block >> 3]! >> (block & 7)) & 1)) block++;
    let offset = first * stream.blockSize;
    const end = Math.min(block * stream.blockSize, stream.sizeBytes);
    while (offset < end) {
      const length = Math.min(zeros.length, end - offset);
      await handle.write(zeros, 0, length, stream.startBytes + offset);
      offset += length;
      written += length;
    }
  }
  return written;
}

/** Zeros the sectors where a partition table can hide (the first and last MiB), so no stale GPT survives a restore. */
export async function wipeTableAreas(target: string, sizeBytes: number, isBlockDevice: boolean): Promise<void> {
  const handle = await openTarget(target, isBlockDevice);
  try {
    const area = Math.min(1024 * 1024, sizeBytes);
    const zeros = new Uint8Array(area);
    await handle.write(zeros, 0, area, 0);
    await handle.write(zeros, 0, area, sizeBytes - area);
  } finally {
    await handle.close();
  }
}

/**
 * Block devices are opened exclusively: the kernel then refuses (EBUSY) a device that is mounted, used as swap or held
 * by another device, closing the gap between the busy check and the first write.
 */
async function openTarget(target: string, isBlockDevice: boolean): Promise<FileHandle> {
  try {
    return await open(target, isBlockDevice ? constants.O_RDWR | constants.O_EXCL : 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EBUSY') throw new ShadowError('TARGET_BUSY', `Cannot restore onto ${target}: it is in use (mounted, swap or held by another device). Nothing was written`);
    throw ShadowError.from(error, 'IO_ERROR');
  }
}

function blockSet(stream: StreamManifest): Uint8Array {
  return Buffer.from(stream.bitmap ?? '', 'base64');
}

/** The runs of `piece` whose blocks the final state uses and no newer link wrote, marking them written. */
function newBlocksOf(piece: SourceRange, stream: StreamManifest, wanted: Uint8Array, writtenBlocks: Uint8Array): (SourceRange & { skip: number })[] {
  const out: { offsetBytes: number; lengthBytes: number; skip: number }[] = [];
  const size = stream.blockSize;
  const end = piece.offsetBytes + piece.lengthBytes;
  for (let offset = piece.offsetBytes; offset < end; ) {
    const block = Math.floor((offset - stream.startBytes) / size);
    const blockEnd = Math.min(end, stream.startBytes + (block + 1) * size);
    const bit = 1 << (block & 7);
    const take = (wanted[block >> 3]! & bit) !== 0 && (writtenBlocks[block >> 3]! & bit) === 0;
    if (take) {
      writtenBlocks[block >> 3]! |= bit;
      const last = out.at(-1);
      if (last && last.offsetBytes + last.lengthBytes === offset) last.lengthBytes += blockEnd - offset;
      else out.push({ offsetBytes: offset, lengthBytes: blockEnd - offset, skip: offset - piece.offsetBytes });
    }
    offset = blockEnd;
  }
  return out;
}
