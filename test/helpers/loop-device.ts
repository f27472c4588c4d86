// Loop devices made with losetup (an independent tool, not our native code); detached on dispose only if still ours.
import { readdir, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { run, runUntilDone } from './run.js';
import { scoped } from './test-scope.js';

export interface LoopOptions {
  offsetBytes?: number;
  sizeLimitBytes?: number;
  sectorSize?: number;
  readOnly?: boolean;
  directIo?: boolean;
}

export interface LoopDevice extends AsyncDisposable {
  readonly path: string;
  readonly backingFile: string;
}

/** The backing file a loop device points at now, or undefined when it is detached. */
export async function loopBackingFile(device: string): Promise<string | undefined> {
  try {
    return (await readFile(`/sys/block/${basename(device)}/loop/backing_file`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** The backing file's identity (device major:minor and inode) as the loop driver holds it. */
async function loopBackingIdentity(device: string): Promise<string | undefined> {
  const listed = await run('losetup', ['--list', '--noheadings', '--output', 'BACK-MAJ:MIN,BACK-INO', device], { allowFailure: true });
  const fields = listed.code === 0 ? listed.stdout.trim().split(/\s+/) : [];
  return fields.length === 2 ? `${fields[0]} ${fields[1]}` : undefined;
}

export async function loopDevice(file: string, options: LoopOptions = {}): Promise<LoopDevice> {
  const args = ['--find', '--show'];
  if (options.offsetBytes !== undefined) args.push('--offset', String(options.offsetBytes));
  if (options.sizeLimitBytes !== undefined) args.push('--sizelimit', String(options.sizeLimitBytes));
  if (options.sectorSize !== undefined) args.push('--sector-size', String(options.sectorSize));
  if (options.readOnly) args.push('--read-only');
  if (options.directIo) args.push('--direct-io=on');
  args.push(file);
  const path = (await run('losetup', args)).stdout.trim();
  // A free loop device can carry partition nodes a former user added with BLKPG (they outlive the detach):
  // they describe another file, so take them down before anyone trusts them.
  await removePartitionNodes(path);
  const backingFile = (await loopBackingFile(path)) ?? file;
  // Its path can change under it: a FUSE server that exits unmounts lazily, and the path then reads '/disk'.
  const identity = await loopBackingIdentity(path);
  let released = false;
  return scoped({
    path,
    backingFile,
    async [Symbol.asyncDispose]() {
      if (released) return;
      released = true;
      // Someone else may have detached it and reused the number: only detach our own attachment (same file, or the same
      // device and inode when its mount has gone away).
      const now = await loopBackingFile(path);
      if (now === undefined) return;
      if (now !== backingFile && (identity === undefined || (await loopBackingIdentity(path)) !== identity)) return;
      await removePartitionNodes(path);
      await runUntilDone('losetup', ['--detach', path], `detach loop device ${path}`);
    },
  });
}

/** Partition nodes the kernel has for a loop device (added by BLKPG or partx: this kernel scans no tables itself). */
export async function loopPartitionNodes(device: string): Promise<string[]> {
  const name = basename(device);
  const entries = await readdir(`/sys/block/${name}`).catch(() => [] as string[]);
  return entries.filter((e) => e.startsWith(`${name}p`));
}

async function removePartitionNodes(device: string): Promise<void> {
  if ((await loopPartitionNodes(device)).length === 0) return;
  await run('partx', ['--delete', device], { allowFailure: true });
  const left = await loopPartitionNodes(device);
  if (left.length > 0) throw new Error(`Cannot remove partition nodes ${left.join(', ')} of ${device}; something holds them open`);
}
