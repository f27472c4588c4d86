// `shadow backup <volume>... <folder>` (and `image backup --vss`): a shadow set imaged whole with the imaging engine (the backup plugin's
// `image backup` of each snapshot device) before the writers hear backup-complete, the writers' files (backup_label)
// beside the images, then the set is deleted (kept with --keep). Restore each image with `image restore`.
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { renderTable, ShadowError } from '../../sdk/index.js';
import { deleteSet, prepareSet } from './shadow-commands.js';
import type { ShadowSetRecord, ShadowSets } from './shadow-sets.js';

interface ImagedVolume {
  volume: string;
  fsType: string | null;
  image: string;
}

function imageNameOf(index: number, volume: string): string {
  return `${index}-${basename(volume).replace(/[^A-Za-z0-9._-]/g, '_') || 'volume'}.sdimg`;
}

export async function shadowBackup(ctx: PluginContext, sets: ShadowSets, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  const names = args.positionals.slice(0, -1);
  const folderArg = args.positionals.at(-1);
  if (folderArg === undefined || names.length === 0) throw new ShadowError('INVALID_ARGUMENT', 'Usage: shadow backup <volume>... <folder> (the images go into the folder, last)');
  const folder = resolve(folderArg);
  if (existsSync(folder) && readdirSync(folder).length > 0) throw new ShadowError('TARGET_BUSY', `The backup folder '${folder}' is not empty; choose a new or empty folder`);
  const { coordinator, planned } = await prepareSet(ctx, sets, names, args, run);
  const imaged: ImagedVolume[] = [];
  const images = async (set: ShadowSetRecord): Promise<void> => {
    mkdirSync(folder, { recursive: true });
    for (const [index, volume] of set.volumes.entries()) {
      const device = volume.exposed?.device;
      if (device === undefined) throw new ShadowError('UNSUPPORTED', `The snapshot of ${volume.name} (${volume.provider}) is a folder, not a block device; image backup needs a device. Use another provider with --provider`);
      const image = join(folder, imageNameOf(index, volume.name));
      run.log.info(`Imaging ${volume.name} from ${device} into ${image}`);
      await ctx.commands.executeCommand('shadowdisk.backup.image-backup', { positionals: [device, image], options: {} }, run);
      imaged.push({ volume: volume.name, fsType: volume.fsType ?? null, image });
    }
    for (const writer of set.writers) {
      if (writer.files.length === 0) continue;
      const dir = join(folder, 'writers', writer.id);
      mkdirSync(dir, { recursive: true });
      for (const file of writer.files) copyFileSync(join(set.folder, file), join(dir, file));
    }
    writeFileSync(join(folder, 'shadow-set.json'), `${JSON.stringify({ set: set.id, createdAt: set.createdAt, volumes: imaged, writers: set.writers }, null, 2)}\n`);
  };
  const set = await coordinator.create(planned, images);
  if (args.options['keep'] !== true) await deleteSet(ctx, sets, set);
  return {
    data: { set: set.id, kept: args.options['keep'] === true, folder, images: imaged, writers: set.writers, timings: set.timings },
    text: `Shadow set ${set.id} imaged into ${folder}${args.options['keep'] === true ? ' (set kept)' : ''}\n${renderTable(['Volume', 'Filesystem', 'Image'], imaged.map((i) => [i.volume, i.fsType, i.image]))}`,
  };
}
