// `hot backup <device> <image>|--repo URL [image backup options]`: a snapshot of an attached volume (its filesystem frozen for the
// cut), imaged by the backup plugin's `image backup`, then dropped. The changed-block generation turns at the same cut,
// so an --incremental whose parent is this volume's previous hot backup reads only the blocks written since; any other
// parent, or a map the engine does not trust, makes the backup compare every segment instead, and the result says why.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { attachLoop, withFrozenFilesystem } from '../../native/index.js';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';
import type { Attachment, Attachments } from './attachments.js';
import { positional } from './command-args.js';
import { mountpointsOf } from './device-use.js';
import { EngineClient, type EngineSnapshotStatus } from './engine-client.js';
import { detachSnapshotDevice } from './snapshot-commands.js';

const PASSED_ON = ['incremental', 'differential', 'passphrase-file', 'level', 'chunk-mib'] as const;

export async function hotBackup(ctx: PluginContext, attachments: Attachments, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  const attachment = attachments.find(positional(args, 0, 'the attached device'));
  const repo = args.options['repo'];
  if (typeof repo === 'string') return hotRepositoryBackup(ctx, attachments, attachment, repo, args, run);
  const image = resolve(positional(args, 1, 'the image file to write'));
  const mapFile = `${attachments.changedBlocksFileFor(attachment.origin)}.taken`;
  try {
    return await withSnapshotDevice(attachments, attachment, (client) => client.createSnapshotWithChangedBlocks(mapFile), async ({ snapshot, changedBlocks }, snapshotDevice, mountpoint) => {
      const parent = args.options['incremental'];
      const last = attachment.lastHotBackup;
      let mapNotUsed: string | null = null;
      if (typeof parent !== 'string') mapNotUsed = args.options['differential'] !== undefined ? 'a differential backup compares against its full image, not the last backup' : 'a full backup reads every used block';
      else if (!changedBlocks.trusted) mapNotUsed = 'the changed-block map is incomplete (the engine was restarted after a crash, or this is the first generation of the attachment)';
      else if (last === undefined || resolve(parent) !== last.image || last.generation !== changedBlocks.generation) mapNotUsed = `the parent is not this volume's previous hot backup${last ? ` (${last.image})` : ''}`;
      // The image names the volume it is of, not the snapshot's loop device it was read through.
      const options: Record<string, string | boolean> = { 'source-name': attachment.origin };
      for (const name of PASSED_ON) if (args.options[name] !== undefined) options[name] = args.options[name]!;
      if (mapNotUsed === null) Object.assign(options, { 'changed-blocks': mapFile, 'changed-block-size': String(changedBlocks.blockSize) });
      else run.log.info(`Not using the changed-block map: ${mapNotUsed}`);
      const backup = await ctx.commands.executeCommand('shadowdisk.backup.image-backup', { positionals: [snapshotDevice, image], options }, run);
      const current = attachments.find(attachment.device);
      attachments.save({ ...current, lastHotBackup: { image, generation: changedBlocks.nextGeneration, at: new Date().toISOString() } });
      const used = { used: mapNotUsed === null, generation: changedBlocks.generation, changedBlocks: changedBlocks.changedBlocks, ...(mapNotUsed ? { reason: mapNotUsed } : {}) };
      return {
        data: { origin: attachment.origin, device: attachment.device, snapshotId: snapshot.id, image, changedBlockMap: used, backup: backup.data },
        text: `Hot backup of ${attachment.origin} (snapshot ${String(snapshot.id)}${mountpoint ? `, ${mountpoint} frozen for the cut` : ''}): ${backup.text ?? image}\n${mapNotUsed === null ? `Read only the ${changedBlocks.changedBlocks} blocks changed since ${String(parent)}` : `Changed-block map not used: ${mapNotUsed}`}`,
      };
    });
  } finally {
    rmSync(mapFile, { force: true });
  }
}

/**
 * `hot backup <device> --repo URL`: the snapshot goes into a repository, named after the origin. A repository backup
 * reads every used block (deduplication finds what is new), so the changed-block generation is left to the volume's
 * image-file chain.
 */
async function hotRepositoryBackup(ctx: PluginContext, attachments: Attachments, attachment: Attachment, repo: string, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  return withSnapshotDevice(attachments, attachment, async (client) => ({ snapshot: await client.createSnapshot() }), async ({ snapshot }, snapshotDevice, mountpoint) => {
    const options: Record<string, string | boolean> = { repo, 'source-name': attachment.origin };
    for (const name of ['passphrase-file', 'level', 'source-name'] as const) if (args.options[name] !== undefined) options[name] = args.options[name]!;
    const backup = await ctx.commands.executeCommand('shadowdisk.backup.image-backup', { positionals: [snapshotDevice], options }, run);
    return {
      data: { origin: attachment.origin, device: attachment.device, snapshotId: snapshot.id, repository: repo, backup: backup.data },
      text: `Hot backup of ${attachment.origin} (snapshot ${String(snapshot.id)}${mountpoint ? `, ${mountpoint} frozen for the cut` : ''}): ${backup.text ?? repo}`,
    };
  });
}

/**
 * A snapshot of the attachment (the diff store prepared first; the filesystem on it, if mounted, frozen only for the
 * cut) as a read-only loop device while `use` runs; then the device and the snapshot are dropped.
 */
async function withSnapshotDevice<C extends { snapshot: EngineSnapshotStatus }, T>(attachments: Attachments, attachment: Attachment, cut: (client: EngineClient) => Promise<C>, use: (taken: C, snapshotDevice: string, mountpoint: string | undefined) => Promise<T>): Promise<T> {
  if (attachment.snapshot !== undefined) {
    throw new ShadowError('TARGET_BUSY', `${attachment.device} has snapshot ${attachment.snapshot.id} (${attachment.snapshot.device}) already; delete it with 'hot snapshot delete ${attachment.device}' first`);
  }
  const client = new EngineClient(attachment.controlPath);
  const [mountpoint] = mountpointsOf(attachment.device);
  await client.prepareSnapshot(); // the diff store made ready before the freeze: the frozen moment only switches
  const taken = await (mountpoint === undefined ? cut(client) : withFrozenFilesystem(mountpoint, () => cut(client))).catch(async (error: unknown) => {
    await client.dropPrepared().catch(() => undefined);
    throw error;
  });
  let snapshotDevice: string | undefined;
  try {
    snapshotDevice = attachLoop(`${attachment.mountDir}/snapshot`, { readOnly: true, directIo: true });
    const { snapshot } = taken;
    attachments.save({ ...attachment, snapshot: { id: snapshot.id ?? 0, device: snapshotDevice, createdAt: new Date(snapshot.createdAtMs ?? Date.now()).toISOString() } });
    return await use(taken, snapshotDevice, mountpoint);
  } finally {
    const current = attachments.byOrigin(attachment.origin) ?? attachment;
    if (snapshotDevice !== undefined) await detachSnapshotDevice({ ...current, snapshot: { id: 0, device: snapshotDevice, createdAt: '' } });
    await client.deleteSnapshot();
    const { snapshot: _done, ...rest } = current;
    attachments.save(rest);
  }
}
