// `hot snapshot create|list|delete`: a copy-before-write snapshot of an attached volume, cut while the filesystem on
// it (if one is mounted) is frozen, and exposed as a read-only loop device on the engine's `snapshot` file.
import { attachLoop, detachLoop, withFrozenFilesystem } from '../../native/index.js';
import type { CommandArgs, CommandResult } from '../../sdk/index.js';
import { formatBytes, renderTable, ShadowError } from '../../sdk/index.js';
import type { Attachment, Attachments } from './attachments.js';
import { EngineClient, type EngineSnapshotStatus } from './engine-client.js';
import { isHeldExclusively, loopBacks, mountpointsOf } from './device-use.js';
import { positional } from './command-args.js';

export async function createSnapshot(attachments: Attachments, args: CommandArgs): Promise<CommandResult> {
  const attachment = attachments.find(positional(args, 0, 'the attached device'));
  if (attachment.snapshot !== undefined) {
    throw new ShadowError('TARGET_BUSY', `${attachment.device} has snapshot ${attachment.snapshot.id} already (${attachment.snapshot.device}); delete it first with 'hot snapshot delete ${attachment.device}'`);
  }
  const client = new EngineClient(attachment.controlPath);
  // Only the first mount of the device needs freezing: every mount of one block device shares one superblock.
  const [mountpoint] = mountpointsOf(attachment.device);
  const cut = (): Promise<EngineSnapshotStatus> => client.createSnapshot();
  await client.prepareSnapshot(); // the diff store made ready before the freeze: the frozen moment only switches
  const snapshot = await (mountpoint === undefined ? cut() : withFrozenFilesystem(mountpoint, cut)).catch(async (error: unknown) => {
    await client.dropPrepared().catch(() => undefined);
    throw error;
  });
  let device: string;
  try {
    device = attachLoop(`${attachment.mountDir}/snapshot`, { readOnly: true, directIo: true });
  } catch (error) {
    await client.deleteSnapshot().catch(() => undefined);
    throw ShadowError.from(error, 'IO_ERROR');
  }
  const record = { id: snapshot.id ?? 0, device, createdAt: new Date(snapshot.createdAtMs ?? Date.now()).toISOString() };
  attachments.save({ ...attachment, snapshot: record });
  return {
    data: { origin: attachment.origin, device: attachment.device, snapshot: { ...record, frozen: mountpoint ?? null } },
    text: `Snapshot ${record.id} of ${attachment.origin}${mountpoint ? ` (cut with ${mountpoint} frozen)` : ''}: read-only device ${device}`,
  };
}

/** Detaches the snapshot's loop device if it is still ours; refuses while it is mounted. */
export async function detachSnapshotDevice(attachment: Attachment): Promise<void> {
  const snapshot = attachment.snapshot;
  if (snapshot === undefined) return;
  if (!loopBacks(snapshot.device, `${attachment.mountDir}/snapshot`)) return;
  if (isHeldExclusively(snapshot.device)) {
    const where = mountpointsOf(snapshot.device);
    throw new ShadowError('TARGET_BUSY', `Snapshot device ${snapshot.device} is ${where.length ? `mounted on ${where.join(', ')}` : 'in use'}; unmount it first`);
  }
  detachLoop(snapshot.device);
}

export async function deleteSnapshot(attachments: Attachments, args: CommandArgs): Promise<CommandResult> {
  const attachment = attachments.find(positional(args, 0, 'the attached device or its snapshot device'));
  const client = new EngineClient(attachment.controlPath);
  const engineSnapshot = (await client.status()).snapshot;
  if (attachment.snapshot === undefined && engineSnapshot.state === 'none') {
    throw new ShadowError('NOT_FOUND', `${attachment.device} has no snapshot; take one with 'hot snapshot create ${attachment.device}'`);
  }
  await detachSnapshotDevice(attachment);
  if (engineSnapshot.state !== 'none') await client.deleteSnapshot();
  const { snapshot: _gone, ...rest } = attachment;
  attachments.save(rest);
  return { data: { device: attachment.device, deleted: attachment.snapshot?.id ?? engineSnapshot.id ?? null }, text: `Snapshot of ${attachment.origin} deleted` };
}

export async function listSnapshots(attachments: Attachments, args: CommandArgs): Promise<CommandResult> {
  const snapshots = [];
  for (const a of attachments.list()) {
    const engine = await new EngineClient(a.controlPath).status(2000).catch(() => undefined);
    const state = engine?.snapshot;
    if (a.snapshot === undefined && (state === undefined || state.state === 'none')) continue;
    snapshots.push({
      origin: a.origin,
      device: a.device,
      snapshotDevice: a.snapshot?.device ?? null,
      id: a.snapshot?.id ?? state?.id ?? null,
      createdAt: a.snapshot?.createdAt ?? null,
      state: state?.state ?? 'unknown',
      diffStoreBytes: state?.diffStoreBytes ?? null,
      error: state?.error ?? null,
    });
  }
  if (args.options['json'] === true) return { data: { snapshots } };
  const text = snapshots.length === 0 ? 'No snapshots' : renderTable(['Device', 'Snapshot', 'Id', 'State', 'Diff store', 'Created'],
    snapshots.map((s) => [s.device, s.snapshotDevice, s.id, s.error ? `${s.state}: ${s.error.code}` : s.state, s.diffStoreBytes === null ? null : formatBytes(s.diffStoreBytes), s.createdAt]));
  return { data: { snapshots }, text };
}
