// `image restore`: verify the whole image first (nothing is written from a damaged, tampered or wrongly keyed image),
// check the target (size, sector size, not mounted), then write every chunk back where it came from.
import { open, stat } from 'node:fs/promises';
import { blockDeviceGeometry, flushBlockDevice } from '../../../native/index.js';
import type { RunContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import type { ImageReader } from '../image/index.js';
import { MANIFEST_KIND, MANIFEST_VERSION, type BackupManifest } from './backup-manifest.js';
import { mountsOf } from './mount-state.js';
import { includedRanges, sliceRanges, type SourceRange } from './packed-stream.js';

export function manifestOf(reader: ImageReader, source: string): BackupManifest {
  const manifest = reader.manifest as Partial<BackupManifest> | null;
  if (!manifest || manifest.kind !== MANIFEST_KIND || manifest.version !== MANIFEST_VERSION || !Array.isArray(manifest.streams) || !manifest.source) {
    throw new ShadowError('IMAGE_CORRUPT', `${source} holds no Shadowdisk backup manifest (kind '${String(manifest?.kind)}', version ${String(manifest?.version)})`);
  }
  return manifest as BackupManifest;
}

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

/** Every check that must pass before a byte is written. */
export async function checkRestore(reader: ImageReader, imagePath: string, target: string, run: RunContext): Promise<RestorePlan> {
  const manifest = manifestOf(reader, imagePath);
  run.progress({ phase: 'verify', done: 0, total: 1 });
  await reader.verify((p) => run.progress({ phase: 'verify', done: p.bytesDone, total: p.bytesTotal }));
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

export async function writeChunks(reader: ImageReader, plan: RestorePlan, run: RunContext): Promise<number> {
  const ranges = new Map<number, SourceRange[]>(plan.manifest.streams.map((s) => [s.id, includedRanges(s)]));
  const total = reader.chunks.reduce((n, c) => n + c.plainLength, 0);
  const handle = await open(plan.target, 'r+');
  let done = 0;
  try {
    for (const chunk of reader.chunks) {
      run.signal.throwIfAborted();
      const streamRanges = ranges.get(chunk.streamId);
      if (!streamRanges) throw new ShadowError('IMAGE_CORRUPT', `Chunk ${chunk.index} belongs to stream ${chunk.streamId}, which the manifest does not list`);
      const plain = await reader.readChunk(chunk.index);
      let at = 0;
      for (const range of sliceRanges(streamRanges, chunk.offsetBytes, chunk.plainLength)) {
        await handle.write(plain, at, range.lengthBytes, range.offsetBytes);
        at += range.lengthBytes;
      }
      done += chunk.plainLength;
      run.progress({ phase: 'restore', done, total });
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (plan.isBlockDevice) flushBlockDevice(plan.target);
  return done;
}
