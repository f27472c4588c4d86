// `hot backup <device> <image> [image backup options]`: a snapshot of an attached volume (its filesystem frozen for the
// cut), imaged by the backup plugin's `image backup`, then dropped. The changed-block generation turns at the same cut,
// so an --incremental whose parent is this volume's previous hot backup reads only the blocks written since; any other
// parent, or a map the engine does not trust, makes the backup compare every segment instead, and the result says why.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { attachLoop, withFrozenFilesystem } from '../../native/index.js';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';
import type { Attachments } from './attachments.js';
import { positional } from './command-args.js';
import { mountpointsOf } from './device-use.js';
import { EngineClient } from './engine-client.js';
import { detachSnapshotDevice } from './snapshot-commands.js';

const PASSED_ON = ['incremental', 'differential', 'passphrase-file', 'level', 'chunk-mib'] as const;

export async function hotBackup(ctx: PluginContext, attachments: Attachments, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  const attachment = attachments.find(positional(args, 0, 'the attached device'));
  const image = resolve(positional(args, 1, 'the image file to write'));
  if (attachment.snapshot !== undefined) {
    throw new ShadowError('TARGET_BUSY', `${attachment.device} has snapshot ${attachment.snapshot.id} (${attachment.snapshot.device}) already; delete it with 'hot snapshot delete ${attachment.device}' first`);
  }
  const client = new EngineClient(attachment.controlPath);
  const mapFile = `${attachments.changedBlocksFileFor(attachment.origin)}.taken`;
  const [mountpoint] = mountpointsOf(attachment.device);
  const cut = () => client.createSnapshotWithChangedBlocks(mapFile);
  await client.prepareSnapshot(); // the diff store made ready before the freeze: the frozen moment only switches
  const { snapshot, changedBlocks } = await (mountpoint === undefined ? cut() : withFrozenFilesystem(mountpoint, cut)).catch(async (error: unknown) => {
    await client.dropPrepared().catch(() => undefined);
    throw error;
  });
  let snapshotDevice: string | undefined;
  try {
    snapshotDevice = attachLoop(`${attachment.mountDir}/snapshot`, { readOnly: true, directIo: true });
    attachments.save({ ...attachment, snapshot: { id: snapshot.id ?? 0, device: snapshotDevice, createdAt: new Date(snapshot.createdAtMs ?? Date.now()).toISOString() } });
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
  } finally {
    const current = attachments.byOrigin(attachment.origin) ?? attachment;
    if (snapshotDevice !== undefined) await detachSnapshotDevice({ ...current, snapshot: { id: 0, device: snapshotDevice, createdAt: '' } });
    await client.deleteSnapshot();
    const { snapshot: _done, ...rest } = current;
    attachments.save(rest);
    rmSync(mapFile, { force: true });
  }
}
