// shadowdisk.retention, and the retention a backup schedule applies after each run: deletes the images its policy
// does not keep, never one a kept image's chain needs, never one that cannot be read.
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RunContext } from '../../../sdk/index.js';
import { selectRetained, type RetentionPolicy } from '../retention-policy.js';
import { folderImages, type Commands } from './image-folder.js';

export interface RetentionTarget {
  dir: string;
  name: string;
  passphraseFile?: string;
}

export interface RetentionResult {
  dir: string;
  kept: string[];
  removed: string[];
  bytes: number;
}

export async function applyRetention(commands: Commands, target: RetentionTarget, policy: RetentionPolicy, timezone: string, run: RunContext): Promise<RetentionResult> {
  const dir = resolve(target.dir);
  const images = await folderImages(commands, dir, target.name, target.passphraseFile, run);
  const readable = images.filter((i) => i.error === null);
  for (const i of images.filter((x) => x.error !== null)) run.log.warn(`Retention leaves ${i.file} alone: it cannot be read (${i.error!.message})`);
  const decision = selectRetained(readable.map((i) => ({ file: i.file, atMs: i.atMs, parent: i.parent })), policy, timezone);
  let bytes = 0;
  for (const file of decision.remove) {
    const image = readable.find((i) => i.file === file)!;
    run.signal.throwIfAborted();
    await rm(image.path);
    bytes += image.sizeBytes;
    run.log.info(`Retention removed ${file}`);
  }
  for (const file of decision.keep) run.log.info(`Retention keeps ${file} (${decision.reasons[file]!.join(', ')})`);
  return { dir, kept: decision.keep, removed: decision.remove, bytes };
}

export interface RetentionParams extends RetentionPolicy {
  dir: string;
  name: string;
  timezone: string;
  passphraseFile?: string;
}

export function retentionTask(commands: Commands, params: unknown, run: RunContext): Promise<RetentionResult> {
  const { dir, name, timezone, passphraseFile, ...policy } = params as RetentionParams;
  return applyRetention(commands, { dir, name, ...(passphraseFile !== undefined ? { passphraseFile } : {}) }, policy, timezone, run);
}
