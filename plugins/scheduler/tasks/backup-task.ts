// shadowdisk.backup: an image of a disk, partition or image file into a folder; a full image, then incrementals on it
// until the chain holds `fullEvery` images, then a new full. Names come from the run's due instant.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isShadowError, type TaskRunContext } from '../../../sdk/index.js';
import { folderImages, imageFileName, passphraseOptions, type Commands, type FolderImage } from './image-folder.js';

export interface BackupParams {
  source: string;
  dir: string;
  name: string;
  fullEvery: number;
  passphraseFile?: string;
  level?: number;
  /** Back up an attached volume while in use (hot processing's snapshot, incrementals from its changed-block map). */
  hot: boolean;
}

export interface BackupTaskResult {
  image: string;
  kind: 'full' | 'incremental';
  parent: string | null;
  bytes: number;
  /** Where the schedule's retention applies. */
  retention: { dir: string; name: string; passphraseFile?: string };
}

export async function backupTask(commands: Commands, params: unknown, run: TaskRunContext): Promise<BackupTaskResult> {
  const p = params as BackupParams;
  const dir = resolve(p.dir);
  mkdirSync(dir, { recursive: true });
  const existing = (await folderImages(commands, dir, p.name, p.passphraseFile, run)).filter((i) => i.error === null);
  const latest = existing.at(-1);
  const parent = latest && latest.depth + 1 < p.fullEvery ? latest : undefined;
  let serial = 1;
  while (existsSync(join(dir, imageFileName(p.name, run.dueAt.getTime(), serial)))) serial++;
  const image = join(dir, imageFileName(p.name, run.dueAt.getTime(), serial));
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
  return {
    image, kind: made ? 'incremental' : 'full', parent: made?.path ?? null, bytes: data.imageBytes,
    retention: { dir, name: p.name, ...(p.passphraseFile !== undefined ? { passphraseFile: p.passphraseFile } : {}) },
  };
}

/** One image through the backup plugin's `image backup`, or hot processing's `hot backup` for an attached volume. */
async function takeImage(commands: Commands, p: BackupParams, image: string, parent: FolderImage | undefined, run: TaskRunContext): Promise<{ imageBytes: number }> {
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
