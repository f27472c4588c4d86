// shadowdisk.backup: an image of a disk, partition or image file into a folder; a full image, then incrementals on it
// until the chain holds `fullEvery` images, then a new full. Names come from the run's due instant.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TaskRunContext } from '../../../sdk/index.js';
import { folderImages, imageFileName, passphraseOptions, type Commands } from './image-folder.js';

export interface BackupParams {
  source: string;
  dir: string;
  name: string;
  fullEvery: number;
  passphraseFile?: string;
  level?: number;
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
  const result = await commands.executeCommand('shadowdisk.backup.image-backup', {
    positionals: [p.source, image],
    options: { ...passphraseOptions(p.passphraseFile), ...(parent ? { incremental: parent.path } : {}), ...(p.level !== undefined ? { level: String(p.level) } : {}) },
  }, run);
  const data = result.data as { imageBytes: number };
  run.log.info(`Wrote ${data.imageBytes} bytes to ${image}`);
  return {
    image, kind: parent ? 'incremental' : 'full', parent: parent?.path ?? null, bytes: data.imageBytes,
    retention: { dir, name: p.name, ...(p.passphraseFile !== undefined ? { passphraseFile: p.passphraseFile } : {}) },
  };
}
