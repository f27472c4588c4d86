// The `btrfs` provider: a read-only subvolume snapshot of the mounted subvolume, inside it under
// .shadowdisk-snapshots/. btrfs needs a transaction to snapshot, which a frozen filesystem would never grant, so this
// volume is not frozen: its snapshot is itself atomic, and it is cut while the set's other filesystems are held.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ProviderSnapshotRecord, SnapshotProvider } from '../../../sdk/index.js';
import { runTool } from '../../../sdk/node.js';

interface BtrfsSnapshot extends ProviderSnapshotRecord {
  source: string;
  path: string;
}

export const btrfsProvider: SnapshotProvider = {
  commitsUnfrozen: true,

  async supports(volume) {
    if (volume.fsType !== 'btrfs' || volume.mountpoint === undefined) return { reason: `${volume.name} is not a mounted btrfs filesystem` };
    return { priority: 20 };
  },

  async plan(volume, setId, index) {
    const dir = join(volume.mountpoint!, '.shadowdisk-snapshots');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return { source: volume.mountpoint!, path: join(dir, `${setId}-${index}`) } satisfies BtrfsSnapshot;
  },

  async commit(_volume, planned) {
    const snapshot = planned as BtrfsSnapshot;
    await runTool('btrfs', ['subvolume', 'snapshot', '-r', snapshot.source, snapshot.path]);
    return snapshot;
  },

  async expose(planned) {
    return { path: (planned as BtrfsSnapshot).path };
  },

  async remove(planned) {
    const snapshot = planned as BtrfsSnapshot;
    if (existsSync(snapshot.path)) await runTool('btrfs', ['subvolume', 'delete', snapshot.path]);
  },
};
