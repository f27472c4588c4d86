// shadowdisk.backup: images into a folder, named after the run's due instant; a full image, then incrementals on it
// until the chain holds `fullEvery` images, then a new full. The source is a disk, partition or image file (cold),
// an attached volume (hot), or a shadow set: every volume taken to one instant, one chain per volume.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isShadowError, ShadowError, type TaskRunContext } from '../../../sdk/index.js';
import { folderImages, imageFileName, passphraseOptions, type Commands, type FolderImage } from './image-folder.js';
import type { RetentionTarget } from './retention-task.js';

export interface ShadowSetSource {
  /** Volumes (block devices or mountpoints) for `shadow create`. */
  shadowSet: string[];
  writer?: string;
  provider?: string;
}

export interface BackupParams {
  source: string | ShadowSetSource;
  dir: string;
  name: string;
  fullEvery: number;
  passphraseFile?: string;
  level?: number;
  /** Back up an attached volume while in use (hot processing's snapshot, incrementals from its changed-block map). */
  hot: boolean;
}

interface ChainParams extends Omit<BackupParams, 'source'> {
  source: string;
}

export interface ChainImage {
  image: string;
  kind: 'full' | 'incremental';
  parent: string | null;
  bytes: number;
}

export interface BackupTaskResult {
  images: ChainImage[];
  bytes: number;
  /** Where the schedule's retention applies: one chain per volume. */
  retention: RetentionTarget[];
}

export async function backupTask(commands: Commands, params: unknown, run: TaskRunContext): Promise<BackupTaskResult> {
  const p = params as BackupParams;
  const dir = resolve(p.dir);
  mkdirSync(dir, { recursive: true });
  const images = typeof p.source === 'string' ? [await imageChain(commands, { ...p, source: p.source, dir }, run)] : await shadowSetImages(commands, { ...p, dir }, p.source, run);
  const names = typeof p.source === 'string' ? [p.name] : p.source.shadowSet.map((v) => volumeChainName(p.name, v));
  const secret = p.passphraseFile !== undefined ? { passphraseFile: p.passphraseFile } : {};
  return { images, bytes: images.reduce((sum, i) => sum + i.bytes, 0), retention: names.map((name) => ({ dir, name, ...secret })) };
}

/** `sys.mnt_data` for volume '/mnt/data' of backup 'sys': the chain of one volume of a shadow set. */
export function volumeChainName(name: string, volume: string): string {
  return `${name}.${volume.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'root'}`;
}

interface ShadowSetData {
  id: string;
  volumes: { name: string; exposed?: { device?: string; path?: string } }[];
}

async function shadowSetImages(commands: Commands, p: Omit<BackupParams, 'source'>, source: ShadowSetSource, run: TaskRunContext): Promise<ChainImage[]> {
  const options = { ...(source.writer !== undefined ? { writer: source.writer } : {}), ...(source.provider !== undefined ? { provider: source.provider } : {}) };
  const set = (await commands.executeCommand('shadowdisk.vss.create', { positionals: source.shadowSet, options }, run)).data as ShadowSetData;
  run.log.info(`Shadow set ${set.id} holds ${set.volumes.length} volume(s) at one instant`);
  try {
    const images: ChainImage[] = [];
    // The coordinator keeps the order the volumes were named in.
    for (const [index, volume] of source.shadowSet.entries()) {
      const device = set.volumes[index]?.exposed?.device;
      if (device === undefined) throw new ShadowError('UNSUPPORTED', `Volume '${volume}' of shadow set ${set.id} has no snapshot block device to image (a btrfs subvolume snapshot is a folder); back it up with another provider`);
      images.push(await imageChain(commands, { ...p, hot: false, source: device, name: volumeChainName(p.name, volume) }, run));
    }
    return images;
  } finally {
    await commands.executeCommand('shadowdisk.vss.delete', { positionals: [set.id], options: { force: true } }, run);
    run.log.info(`Shadow set ${set.id} deleted`);
  }
}

async function imageChain(commands: Commands, p: ChainParams, run: TaskRunContext): Promise<ChainImage> {
  const existing = (await folderImages(commands, p.dir, p.name, p.passphraseFile, run)).filter((i) => i.error === null);
  const latest = existing.at(-1);
  const parent = latest && latest.depth + 1 < p.fullEvery ? latest : undefined;
  let serial = 1;
  while (existsSync(join(p.dir, imageFileName(p.name, run.dueAt.getTime(), serial)))) serial++;
  const image = join(p.dir, imageFileName(p.name, run.dueAt.getTime(), serial));
  run.log.info(parent ? `Incremental backup of ${p.source} to ${image} on ${parent.file} (chain image ${parent.depth + 2} of ${p.fullEvery})` : `Full backup of ${p.source} to ${image}`);
  let made = parent;
  let data: { imageBytes: number };
  try {
    data = await takeImage(commands, p, image, parent, run);
  } catch (error) {
    // The source no longer fits the chain (resized, repartitioned, another disk): start a new chain.
    if (!parent || !isShadowError(error, 'PARENT_MISMATCH')) throw error;
    run.log.warn(`${error.message}; making a full image instead`);
    made = undefined;
    data = await takeImage(commands, p, image, undefined, run);
  }
  run.log.info(`Wrote ${data.imageBytes} bytes to ${image}`);
  return { image, kind: made ? 'incremental' : 'full', parent: made?.path ?? null, bytes: data.imageBytes };
}

/** One image through the backup plugin's `image backup`, or hot processing's `hot backup` for an attached volume. */
async function takeImage(commands: Commands, p: ChainParams, image: string, parent: FolderImage | undefined, run: TaskRunContext): Promise<{ imageBytes: number }> {
  const args = {
    positionals: [p.source, image],
    options: { ...passphraseOptions(p.passphraseFile), ...(parent ? { incremental: parent.path } : {}), ...(p.level !== undefined ? { level: String(p.level) } : {}) },
  };
  if (!p.hot) return (await commands.executeCommand('shadowdisk.backup.image-backup', args, run)).data as { imageBytes: number };
  const hot = (await commands.executeCommand('shadowdisk.hot-processing.backup', args, run)).data as { backup: { imageBytes: number }; changedBlockMap: { used: boolean; changedBlocks?: number; reason?: string } };
  const map = hot.changedBlockMap;
  run.log.info(map.used ? `Hot backup read the ${map.changedBlocks} block(s) the changed-block map names` : `Hot backup compared every segment: ${map.reason ?? 'no changed-block map'}`);
  return hot.backup;
}
