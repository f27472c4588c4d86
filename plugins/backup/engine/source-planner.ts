// Decides what a backup holds: the table sectors, the boot gap before the first partition, and each partition's used
// blocks (or, for a filesystem the handlers cannot read, every non-zero block).
import type { PluginContext, RunContext } from '../../../sdk/index.js';
import { isShadowError, ShadowError } from '../../../sdk/index.js';
import { allBlocksUsed, usedBlockMap, usedBytes, type UsedBlockMap } from '../used-blocks/used-block-map.js';
import type { BackupManifest, StreamManifest } from './backup-manifest.js';
import { MANIFEST_KIND, MANIFEST_VERSION } from './backup-manifest.js';
import { encodeBitmap } from './packed-stream.js';
import { isAllZero } from '../image/chunk-codec.js';
import type { SourceReader } from './source-reader.js';

const ZERO_SCAN_BLOCK = 4096;
const SCAN_WINDOW = 4 * 1024 * 1024;

interface PartShow {
  table: 'mbr' | 'gpt' | 'none';
  geometry: { sectorSize: number; sectorCount: number };
  tableRanges: { lba: number; count: number }[];
  layout: { partitions: { number: number; startLba: number; sizeSectors: number; mbr?: { role: string } }[] } | null;
  sfdiskDump: string | null;
}

export async function planBackup(ctx: PluginContext, source: SourceReader, run: RunContext): Promise<BackupManifest> {
  const shown = (await ctx.commands.executeCommand('shadowdisk.partition.part-show', { positionals: [source.path] })).data as PartShow;
  const { sectorSize } = shown.geometry;
  const sizeBytes = shown.geometry.sectorCount * sectorSize;
  const streams: StreamManifest[] = [];
  if (shown.table === 'none' || !shown.layout) {
    streams.push(await volumeStream(0, 'volume', source, 0, sizeBytes, run));
    return manifest(source.path, 'volume', sizeBytes, sectorSize, null, streams);
  }
  const tableExtents = shown.tableRanges.map((r) => ({ offsetBytes: r.lba * sectorSize, lengthBytes: r.count * sectorSize }));
  streams.push(extentStream(0, 'table', 'partition table', 'table sectors', tableExtents, sizeBytes));
  const partitions = shown.layout.partitions.filter((p) => p.mbr?.role !== 'extended');
  const firstStart = Math.min(...partitions.map((p) => p.startLba * sectorSize), sizeBytes);
  const frontEnd = Math.max(sectorSize, ...tableExtents.filter((e) => e.offsetBytes < firstStart).map((e) => e.offsetBytes + e.lengthBytes));
  if (firstStart > frontEnd) streams.push(await scannedStream(1, 'gap', source, frontEnd, firstStart - frontEnd, sectorSize, 'boot gap', run));
  for (const p of partitions) {
    run.signal.throwIfAborted();
    const stream = await volumeStream(streams.length, 'partition', source, p.startLba * sectorSize, p.sizeSectors * sectorSize, run);
    streams.push({ ...stream, partition: p.number });
  }
  return manifest(source.path, 'disk', sizeBytes, sectorSize, { kind: shown.table, layout: shown.layout, sfdiskDump: shown.sfdiskDump }, streams);
}

function manifest(path: string, kind: 'disk' | 'volume', sizeBytes: number, sectorSize: number, table: BackupManifest['table'], streams: StreamManifest[]): BackupManifest {
  return { kind: MANIFEST_KIND, version: MANIFEST_VERSION, createdAt: new Date().toISOString(), source: { path, kind, sizeBytes, sectorSize }, table, streams };
}

function extentStream(id: number, kind: StreamManifest['kind'], filesystem: string, method: string, extents: { offsetBytes: number; lengthBytes: number }[], sizeBytes: number): StreamManifest {
  return { id, kind, startBytes: 0, sizeBytes, filesystem, method, blockSize: 512, extents, packedBytes: extents.reduce((n, e) => n + e.lengthBytes, 0) };
}

/** A filesystem's used blocks from its own structures; every non-zero block when it cannot be read. */
async function volumeStream(id: number, kind: StreamManifest['kind'], source: SourceReader, startBytes: number, sizeBytes: number, run: RunContext): Promise<StreamManifest> {
  let map: UsedBlockMap;
  try {
    map = usedBlockMap(source.byteReader(startBytes, sizeBytes), sizeBytes);
  } catch (error) {
    if (!isShadowError(error)) throw error;
    run.log.warn(`Copying every non-zero block of the volume at byte ${startBytes}: ${error.message}`);
    map = allBlocksUsed(sizeBytes, 'unknown', 'all blocks');
  }
  if (map.method === 'all blocks' || map.filesystem === 'unknown') return scannedStream(id, kind, source, startBytes, sizeBytes, ZERO_SCAN_BLOCK, map.filesystem, run);
  return { id, kind, startBytes, sizeBytes, filesystem: map.filesystem, method: map.method, blockSize: map.blockSize, bitmap: encodeBitmap(map.bitmap), packedBytes: usedBytes(map) };
}

/** Reads the region once and keeps the blocks that are not all zero. */
async function scannedStream(id: number, kind: StreamManifest['kind'], source: SourceReader, startBytes: number, sizeBytes: number, blockSize: number, filesystem: string, run: RunContext): Promise<StreamManifest> {
  const blocks = Math.ceil(sizeBytes / blockSize);
  const bitmap = new Uint8Array(Math.ceil(blocks / 8));
  const window = new Uint8Array(SCAN_WINDOW);
  let packedBytes = 0;
  for (let offset = 0; offset < sizeBytes; offset += SCAN_WINDOW) {
    run.signal.throwIfAborted();
    const length = Math.min(SCAN_WINDOW, sizeBytes - offset);
    await source.readInto(window.subarray(0, length), startBytes + offset);
    for (let b = 0; b < length; b += blockSize) {
      const block = window.subarray(b, Math.min(b + blockSize, length));
      if (isAllZero(block)) continue;
      const index = (offset + b) / blockSize;
      bitmap[index >> 3]! |= 1 << (index & 7);
      packedBytes += block.length;
    }
    run.progress({ phase: `scan ${kind}`, done: offset + length, total: sizeBytes });
  }
  if (blocks === 0) throw new ShadowError('INVALID_ARGUMENT', `The ${kind} at byte ${startBytes} is empty`);
  return { id, kind, startBytes, sizeBytes, filesystem, method: 'all blocks, zero blocks elided', blockSize, bitmap: encodeBitmap(bitmap), packedBytes, zeroElided: true };
}
