// shadowdisk.backup: images into a folder, named after the run's due instant; a full image, then incrementals on it
// until the chain holds `fullEvery` images, then a new full. The source is a disk, partition or image file (cold),
// an attached volume (hot), or a shadow set: every volume taken to one instant, one chain per volume.
import { existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
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
  /** Images go to this folder as chains; or, with `repo`, snapshots go to a repository (docs/repositories.md). */
  dir?: string;
  repo?: string;
  name: string;
  fullEvery: number;
  passphraseFile?: string;
  level?: number;
  /** Back up an attached volume while in use (hot processing's snapshot, incrementals from its changed-block map). */
  hot: boolean;
}

interface ChainParams extends Omit<BackupParams, 'source' | 'dir'> {
  source: string;
  dir: string;
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
  /** With `repo`: the snapshot made (retention there is `repo prune --keep-...`). */
  snapshot?: { repository: string; id: string; uploadedBytes: number };
  /** With `repo`: where the schedule's retention applies (this source's snapshots made from this host). */
  repositoryRetention?: RepositoryRetentionTarget;
}

export interface RepositoryRetentionTarget {
  repo: string;
  source: string;
  host: string;
  passphraseFile?: string;
}

export async function backupTask(commands: Commands, params: unknown, run: TaskRunContext): Promise<BackupTaskResult> {
  const p = params as BackupParams;
  if (p.repo !== undefined) return repositoryBackup(commands, p, p.repo, run);
  if (p.dir === undefined) throw new ShadowError('INVALID_ARGUMENT', 'A backup task needs a folder (dir) or a repository (repo) to back up into');
  const dir = resolve(p.dir);
  mkdirSync(dir, { recursive: true });
  const images = typeof p.source === 'string' ? [await imageChain(commands, { ...p, source: p.source, dir }, run)] : await shadowSetImages(commands, { ...p, dir }, p.source, run);
  const names = typeof p.source === 'string' ? [p.name] : p.source.shadowSet.map((v) => volumeChainName(p.name, v));
  const secret = p.passphraseFile !== undefined ? { passphraseFile: p.passphraseFile } : {};
  return { images, bytes: images.reduce((sum, i) => sum + i.bytes, 0), retention: names.map((name) => ({ dir, name, ...secret })) };
}

/** A snapshot in a repository: deduplicated there, so every run is a full backup that stores only what is new. */
async function repositoryBackup(commands: Commands, p: BackupParams, repo: string, run: TaskRunContext): Promise<BackupTaskResult> {
  if (typeof p.source !== 'string') throw new ShadowError('UNSUPPORTED', 'A backup task into a repository takes a disk, partition, image file or attached volume (hot); shadow sets go to a folder for now');
  if (p.dir !== undefined) throw new ShadowError('INVALID_ARGUMENT', 'Give a backup task a folder (dir) or a repository (repo), not both');
  const options = { repo, 'source-name': p.name, ...passphraseOptions(p.passphraseFile), ...(p.level !== undefined ? { level: String(p.level) } : {}), ...(p.hot ? { hot: true } : {}) };
  const result = (await commands.executeCommand('shadowdisk.backup.image-backup', { positionals: [p.source], options }, run)).data as { backup?: unknown };
  // A hot backup answers with the snapshot it cut and, inside, the repository backup's own answer.
  const data = (p.hot ? result.backup : result) as { repository: string; snapshot: string; uploadedBytes: number };
  run.log.info(`Snapshot ${data.snapshot} of ${p.source} in ${data.repository}: ${data.uploadedBytes} bytes uploaded`);
  return {
    images: [], bytes: data.uploadedBytes, retention: [], snapshot: { repository: data.repository, id: data.snapshot, uploadedBytes: data.uploadedBytes },
    repositoryRetention: { repo, source: p.name, host: hostname(), ...(p.passphraseFile !== undefined ? { passphraseFile: p.passphraseFile } : {}) },
  };
}

/** `sys.mnt_data` for volume '/mnt/data' of backup 'sys': the chain of one volume of a shadow set. */
export function volumeChainName(name: string, volume: string): string {
  return `${name}.${volume.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'root'}`;
}

interface ShadowSetData {
  id: string;
  volumes: { name: string; exposed?: { device?: string; path?: string } }[];
}

async function shadowSetImages(commands: Commands, p: Omit<BackupParams, 'source' | 'dir'> & { dir: string }, source: ShadowSetSource, run: TaskRunContext): Promise<ChainImage[]> {
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
