// The `reflink` provider: a volume that is a loop device on an image file on XFS or btrfs is cut by FICLONE of that
// file (extents shared until either side is written): the whole clone before the hold, caught up again after the
// writers froze, then in the hold only the ranges written since (by their extent maps, FICLONERANGE, every volume of
// the set at once). The clone is exposed as a read-only loop device.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cloneFile, reflinkCatchUp, type CatchUp } from '../../../native/index.js';
import type { ExposedSnapshot, ProviderSnapshotRecord, ShadowVolume, SnapshotProvider } from '../../../sdk/index.js';
import { mountHolding } from '../volumes.js';
import { mountableXfsCopy } from '../xfs-mountable.js';
import { attachReadOnly, loopGeometry, releaseLoop, type LoopGeometry } from './loop-exposure.js';

const REFLINK_FILESYSTEMS = ['xfs', 'btrfs'];

/** Each clone's extent map as its last catch-up left it (only catch-ups write a clone before the hold): one FIEMAP less. */
const cloneMaps = new Map<string, Float64Array>();

interface ReflinkSnapshot extends ProviderSnapshotRecord {
  backingFile: string;
  clonePath: string;
  recoveredPath: string;
  geometry: LoopGeometry;
}

/**
 * Brings the clone up to the image file's present, off the JavaScript thread (a set's clones catch up in parallel):
 * the ranges whose extents differ are re-cloned. Undefined when the clone was missing or of another size and was made
 * again whole. `remap` keeps the clone's new map for the next catch-up.
 */
async function catchUp(snapshot: ReflinkSnapshot, remap: boolean): Promise<CatchUp | undefined> {
  const { backingFile, clonePath } = snapshot;
  if (!existsSync(clonePath) || statSync(clonePath).size !== statSync(backingFile).size) {
    cloneFile(backingFile, clonePath);
    cloneMaps.delete(clonePath);
    return undefined;
  }
  // The image file is synced first (FIEMAP_FLAG_SYNC): the loop device's writes get their blocks before mapping.
  const result = await reflinkCatchUp(backingFile, clonePath, cloneMaps.get(clonePath), remap);
  if (result.cloneMap !== undefined) cloneMaps.set(clonePath, result.cloneMap);
  else cloneMaps.delete(clonePath);
  return result;
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
    // The whole clone is made here, outside the hold (its cost grows with the file's extent count), and caught up
    // with what was written while it was made; the hold then only re-clones what was written since.
    const snapshot = planned as ReflinkSnapshot;
    cloneFile(snapshot.backingFile, snapshot.clonePath);
    cloneMaps.delete(snapshot.clonePath);
    await catchUp(snapshot, true);
  },

  async settle(_volume, planned) {
    // Again after the writers froze, still outside the hold, so the hold's pass only meets the last moments' writes.
    await catchUp(planned as ReflinkSnapshot, true);
  },

  async commit(_volume, planned) {
    const snapshot = planned as ReflinkSnapshot;
    const result = await catchUp(snapshot, false);
    if (result === undefined) return snapshot;
    return { ...snapshot, reclonedRanges: result.ranges, reclonedBytes: String(result.bytes) };
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
