// The `reflink` provider: a volume that is a loop device on an image file on XFS or btrfs is cut by FICLONE of that
// file (extents shared until either side is written): the whole clone before the hold, then in the hold only the
// ranges written since (by their extent maps, FICLONERANGE). The clone is exposed as a read-only loop device.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cloneFile, cloneRange, fileExtents, type FileExtent } from '../../../native/index.js';
import type { ExposedSnapshot, ProviderSnapshotRecord, ShadowVolume, SnapshotProvider } from '../../../sdk/index.js';
import { mountHolding } from '../volumes.js';
import { mountableXfsCopy } from '../xfs-mountable.js';
import { changedRanges, type ByteRange } from './extent-delta.js';
import { attachReadOnly, loopGeometry, releaseLoop, type LoopGeometry } from './loop-exposure.js';

const REFLINK_FILESYSTEMS = ['xfs', 'btrfs'];

/** The extent map of each clone as prepareCommit made it (nothing writes a clone before the hold), to skip one FIEMAP in it. */
const cloneMaps = new Map<string, FileExtent[]>();

interface ReflinkSnapshot extends ProviderSnapshotRecord {
  backingFile: string;
  clonePath: string;
  recoveredPath: string;
  geometry: LoopGeometry;
}

/**
 * Brings the clone up to the image file's present: re-clones the ranges whose extents differ (undefined when the clone
 * was missing or of another size and was made again whole).
 */
function catchUp(snapshot: ReflinkSnapshot): ByteRange[] | undefined {
  const sizeBytes = BigInt(statSync(snapshot.backingFile).size);
  if (!existsSync(snapshot.clonePath) || BigInt(statSync(snapshot.clonePath).size) !== sizeBytes) {
    cloneFile(snapshot.backingFile, snapshot.clonePath);
    return undefined;
  }
  // FIEMAP_FLAG_SYNC writes back the image file's dirty pages (the loop device's writes) before mapping.
  const cloneMap = cloneMaps.get(snapshot.clonePath) ?? fileExtents(snapshot.clonePath);
  const ranges = changedRanges(fileExtents(snapshot.backingFile), cloneMap, sizeBytes);
  for (const range of ranges) cloneRange(snapshot.backingFile, range.offsetBytes, range.lengthBytes, snapshot.clonePath, range.offsetBytes);
  return ranges;
}

export const reflinkProvider: SnapshotProvider = {
  async supports(volume: ShadowVolume) {
    if (volume.device === undefined || !/^\/dev\/loop\d+$/.test(volume.device)) return { reason: `${volume.name} is not a loop device on an image file` };
    let backingFile: string;
    try {
      backingFile = loopGeometry(volume.device).backingFile;
    } catch {
      return { reason: `${volume.device} is not bound to a file` };
    }
    const holder = existsSync(backingFile) ? mountHolding(backingFile) : undefined;
    if (holder === undefined || !REFLINK_FILESYSTEMS.includes(holder.fsType)) {
      return { reason: `the image file ${backingFile} lies on ${holder?.fsType ?? 'no mounted filesystem'}, which cannot clone files (needs XFS or btrfs)` };
    }
    return { priority: 10 };
  },

  async plan(volume, setId, index) {
    const { backingFile, ...geometry } = loopGeometry(volume.device!);
    // The clone must live on the image file's own filesystem: a folder beside it.
    const dir = join(dirname(backingFile), '.shadowdisk-snapshots');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stem = `${setId}-${index}-${basename(backingFile)}`;
    return { backingFile, clonePath: join(dir, stem), recoveredPath: join(dir, `${stem}.mountable`), geometry } satisfies ReflinkSnapshot;
  },

  async prepareCommit(_volume, planned) {
    // The whole clone is made here, outside the hold (its cost grows with the file's extent count); the hold then
    // only re-clones what was written since, found by comparing the two extent maps.
    const snapshot = planned as ReflinkSnapshot;
    cloneFile(snapshot.backingFile, snapshot.clonePath);
    cloneMaps.set(snapshot.clonePath, fileExtents(snapshot.clonePath));
  },

  async settle(_volume, planned) {
    // A first catch-up outside the hold: what was written between the whole clone and the writers' freeze is re-cloned
    // now, so the hold's pass only meets the last moments' writes.
    const snapshot = planned as ReflinkSnapshot;
    if (catchUp(snapshot) !== undefined) cloneMaps.set(snapshot.clonePath, fileExtents(snapshot.clonePath));
  },

  async commit(_volume, planned) {
    const snapshot = planned as ReflinkSnapshot;
    const ranges = catchUp(snapshot);
    cloneMaps.delete(snapshot.clonePath);
    if (ranges === undefined) return snapshot;
    return { ...snapshot, reclonedRanges: ranges.length, reclonedBytes: String(ranges.reduce((sum, r) => sum + r.lengthBytes, 0n)) };
  },

  async expose(planned, volume) {
    const snapshot = planned as ReflinkSnapshot;
    const device = attachReadOnly(snapshot.clonePath, snapshot.geometry);
    if (volume.fsType !== 'xfs') return { device, deviceFile: snapshot.clonePath };
    try {
      const mountDevice = await mountableXfsCopy(snapshot.clonePath, snapshot.geometry, snapshot.recoveredPath);
      return { device, deviceFile: snapshot.clonePath, mountDevice, mountDeviceFile: snapshot.recoveredPath };
    } catch (error) {
      releaseLoop(device, snapshot.clonePath);
      throw error;
    }
  },

  async remove(planned, exposed: ExposedSnapshot | undefined) {
    const snapshot = planned as ReflinkSnapshot;
    cloneMaps.delete(snapshot.clonePath);
    releaseLoop(exposed?.mountDevice, snapshot.recoveredPath);
    releaseLoop(exposed?.device, snapshot.clonePath);
    rmSync(snapshot.recoveredPath, { force: true });
    rmSync(snapshot.clonePath, { force: true });
  },
};
