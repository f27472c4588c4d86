// The `reflink` provider: a volume that is a loop device on an image file on XFS or btrfs is cut by FICLONE of that
// file (instant, extents shared until either side is written); the clone is exposed as a read-only loop device.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cloneFile } from '../../../native/index.js';
import type { ExposedSnapshot, ProviderSnapshotRecord, ShadowVolume, SnapshotProvider } from '../../../sdk/index.js';
import { mountHolding } from '../volumes.js';
import { mountableXfsCopy } from '../xfs-mountable.js';
import { attachReadOnly, loopGeometry, releaseLoop, type LoopGeometry } from './loop-exposure.js';

const REFLINK_FILESYSTEMS = ['xfs', 'btrfs'];

interface ReflinkSnapshot extends ProviderSnapshotRecord {
  backingFile: string;
  clonePath: string;
  recoveredPath: string;
  geometry: LoopGeometry;
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

  async commit(_volume, planned) {
    const snapshot = planned as ReflinkSnapshot;
    cloneFile(snapshot.backingFile, snapshot.clonePath);
    return snapshot;
  },

  async expose(planned, volume) {
    const snapshot = planned as ReflinkSnapshot;
    const device = attachReadOnly(snapshot.clonePath, snapshot.geometry);
    if (volume.fsType !== 'xfs') return { device };
    try {
      return { device, mountDevice: await mountableXfsCopy(snapshot.clonePath, snapshot.geometry, snapshot.recoveredPath) };
    } catch (error) {
      releaseLoop(device, snapshot.clonePath);
      throw error;
    }
  },

  async remove(planned, exposed: ExposedSnapshot | undefined) {
    const snapshot = planned as ReflinkSnapshot;
    releaseLoop(exposed?.mountDevice, snapshot.recoveredPath);
    releaseLoop(exposed?.device, snapshot.clonePath);
    rmSync(snapshot.recoveredPath, { force: true });
    rmSync(snapshot.clonePath, { force: true });
  },
};
