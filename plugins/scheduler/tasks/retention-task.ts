// shadowdisk.retention, and the retention a backup schedule applies after each run: deletes the images its policy
// does not keep, never one a kept image's chain needs, never one that cannot be read.
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { ShadowError, type RunContext } from '../../../sdk/index.js';
import { selectRetained, type RetentionPolicy } from '../retention-policy.js';
import { folderImages, passphraseOptions, type Commands } from './image-folder.js';
import type { RepositoryRetentionTarget } from './backup-task.js';

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
  /** A folder of images, or (`repo`) a repository whose snapshots of source `name` from `host` (this one) are thinned. */
  dir?: string;
  repo?: string;
  host?: string;
  name: string;
  timezone: string;
  passphraseFile?: string;
}

export async function retentionTask(commands: Commands, params: unknown, run: RunContext): Promise<RetentionResult | { repo: string; forgotten: string[]; kept: string[] }> {
  const { dir, repo, host, name, timezone, passphraseFile, ...policy } = params as RetentionParams;
  const secret = passphraseFile !== undefined ? { passphraseFile } : {};
  if ((dir === undefined) === (repo === undefined)) throw new ShadowError('INVALID_ARGUMENT', 'A retention task needs a folder (dir) or a repository (repo), one of the two');
  if (repo !== undefined) {
    const outcome = await applyRepositoryRetention(commands, { repo, source: name, host: host ?? hostname(), ...secret }, policy, run);
    run.log.info(`Retention of '${name}' in ${repo} forgot ${outcome.forgotten.length} snapshot(s)`);
    return { repo, ...outcome };
  }
  return applyRetention(commands, { dir: dir!, name, ...secret }, policy, timezone, run);
}

/**
 * The schedule's retention over a repository: `repo prune` with the policy, applied to the snapshots of the task's
 * source made from this host only (other schedules and machines keep theirs). Days, weeks and months are UTC there.
 * It does not wait for other machines' backups: packs they may still need stay marked for the next prune.
 */
export async function applyRepositoryRetention(commands: Commands, target: RepositoryRetentionTarget, policy: RetentionPolicy, run: RunContext): Promise<{ forgotten: string[]; kept: string[] }> {
  const keep: Record<string, string> = {};
  for (const [from, to] of [['keepLast', 'keep-last'], ['daily', 'keep-daily'], ['weekly', 'keep-weekly'], ['monthly', 'keep-monthly']] as const) {
    const n = policy[from];
    if (n !== undefined && n > 0) keep[to] = String(n);
  }
  const options = { ...keep, source: target.source, host: target.host, wait: '0', ...passphraseOptions(target.passphraseFile) };
  const data = (await commands.executeCommand('shadowdisk.backup.repo-prune', { positionals: [target.repo], options }, run)).data as { forgotten: string[]; kept: string[] };
  return { forgotten: data.forgotten, kept: data.kept };
}
