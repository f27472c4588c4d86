// The `hotcore` provider: a volume attached through hot processing is cut by the engine's copy-before-write switch
// (`snapshot-create` on its control socket, while the coordinator holds the filesystem frozen); the engine's
// `snapshot` file is exposed as a read-only loop device and recorded on the attachment, so `hot snapshot list` sees it.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Attachments, EngineClient } from '../../hot-processing/index.js';
import { ShadowError, type ExposedSnapshot, type ProviderSnapshotRecord, type SnapshotProvider } from '../../../sdk/index.js';
import { mountableXfsCopy } from '../xfs-mountable.js';
import { attachReadOnly, releaseLoop } from './loop-exposure.js';

interface HotcoreSnapshot extends ProviderSnapshotRecord {
  origin: string;
  controlPath: string;
  snapshotFile: string;
  recoveredPath: string;
  engineSnapshotId?: number;
}

export function hotcoreProvider(stateDir: string): SnapshotProvider {
  const attachments = new Attachments(join(stateDir, 'plugins', 'shadowdisk.hot-processing'));
  const attachmentOf = (device: string | undefined) => attachments.list().find((a) => a.device === device);
  return {
    async supports(volume) {
      const attachment = attachmentOf(volume.device);
      if (attachment === undefined) return { reason: `${volume.name} is not attached through hot processing ('hot attach')` };
      if (attachment.snapshot !== undefined) return { reason: `${attachment.device} has hot snapshot ${attachment.snapshot.id} already (one per volume); delete it first` };
      return { priority: 30 };
    },

    async plan(volume, setId, index, storageDir) {
      const attachment = attachmentOf(volume.device);
      if (attachment === undefined) throw new ShadowError('NOT_FOUND', `${volume.name} is no longer attached`);
      return { origin: attachment.origin, controlPath: attachment.controlPath, snapshotFile: join(attachment.mountDir, 'snapshot'), recoveredPath: join(storageDir, `${setId}-${index}.mountable`) } satisfies HotcoreSnapshot;
    },

    async prepareCommit(_volume, planned) {
      // The diff store and maps made ready before the writers freeze: the hold only switches.
      await new EngineClient((planned as HotcoreSnapshot).controlPath).prepareSnapshot();
    },

    async commit(_volume, planned) {
      const snapshot = planned as HotcoreSnapshot;
      const cut = await new EngineClient(snapshot.controlPath).createSnapshot();
      return { ...snapshot, engineSnapshotId: cut.id ?? 0 };
    },

    async expose(planned, volume) {
      const snapshot = planned as HotcoreSnapshot;
      const device = attachReadOnly(snapshot.snapshotFile, undefined, true);
      const attachment = attachments.byOrigin(snapshot.origin);
      if (attachment !== undefined) attachments.save({ ...attachment, snapshot: { id: snapshot.engineSnapshotId ?? 0, device, createdAt: new Date().toISOString() } });
      if (volume.fsType !== 'xfs') return { device, deviceFile: snapshot.snapshotFile };
      const mountDevice = await mountableXfsCopy(snapshot.snapshotFile, undefined, snapshot.recoveredPath);
      return { device, deviceFile: snapshot.snapshotFile, mountDevice, mountDeviceFile: snapshot.recoveredPath };
    },

    async remove(planned, exposed: ExposedSnapshot | undefined) {
      const snapshot = planned as HotcoreSnapshot;
      releaseLoop(exposed?.mountDevice, snapshot.recoveredPath);
      releaseLoop(exposed?.device, snapshot.snapshotFile);
      rmSync(snapshot.recoveredPath, { force: true });
      const client = new EngineClient(snapshot.controlPath);
      const state = await client.status(5000).then((s) => s.snapshot.state, () => 'unreachable');
      if (state === 'active' || state === 'failed') await client.deleteSnapshot();
      // A store prepared for a set aborted before its cut.
      else if (state === 'none' && snapshot.engineSnapshotId === undefined) await client.dropPrepared().catch(() => undefined);
      const attachment = attachments.byOrigin(snapshot.origin);
      if (attachment?.snapshot !== undefined) {
        const { snapshot: _gone, ...rest } = attachment;
        attachments.save(rest);
      }
    },
  };
}
