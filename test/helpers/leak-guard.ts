// Detects loop devices and mounts that appeared during a test run and are still there at its end.
import { readdir } from 'node:fs/promises';
import { loopBackingFile, loopPartitionNodes } from './loop-device.js';
import { mountpoints } from './mount.js';

export interface SystemSnapshot {
  /** Attached loop devices: device path → backing file. */
  readonly loops: ReadonlyMap<string, string>;
  /** Partition nodes of loop devices (`/dev/loop3p1`); they outlive a detach, so they are leaks of their own. */
  readonly loopPartitions?: ReadonlySet<string>;
  readonly mountpoints: ReadonlySet<string>;
}

export async function snapshotSystem(): Promise<SystemSnapshot> {
  const loops = new Map<string, string>();
  const loopPartitions = new Set<string>();
  for (const name of await readdir('/sys/block')) {
    if (!name.startsWith('loop')) continue;
    const backing = await loopBackingFile(`/dev/${name}`);
    if (backing !== undefined) loops.set(`/dev/${name}`, backing);
    else for (const part of await loopPartitionNodes(`/dev/${name}`)) loopPartitions.add(`/dev/${part}`);
  }
  return { loops, loopPartitions, mountpoints: new Set(await mountpoints()) };
}

/**
 * What `after` holds that `before` did not, one sentence per leak. With `scope` (directories), only loop devices whose
 * backing file and mounts whose mountpoint lie under one of them count: another test run on the same machine keeps
 * its own scratch directories, so it cannot trip this run's guard.
 */
export function findLeaks(before: SystemSnapshot, after: SystemSnapshot, scope?: readonly string[]): string[] {
  const inScope = (path: string): boolean => scope === undefined || scope.some((root) => path === root || path.startsWith(`${root}/`));
  const leaks: string[] = [];
  for (const [device, backing] of after.loops) {
    if (before.loops.get(device) !== backing && inScope(backing)) leaks.push(`loop device ${device} (backing file ${backing}) is still attached`);
  }
  for (const node of after.loopPartitions ?? []) {
    if (!before.loopPartitions?.has(node)) leaks.push(`partition node ${node} is left on a detached loop device`);
  }
  for (const mountpoint of after.mountpoints) {
    if (!before.mountpoints.has(mountpoint) && inScope(mountpoint)) leaks.push(`${mountpoint} is still mounted`);
  }
  return leaks;
}

export class LeakGuard {
  private constructor(
    private readonly before: SystemSnapshot,
    private readonly scope?: readonly string[],
  ) {}

  static async start(scope?: readonly string[]): Promise<LeakGuard> {
    return new LeakGuard(await snapshotSystem(), scope);
  }

  /** Throws an error listing every loop device and mount left behind since start (within the scope, when given). */
  async check(): Promise<void> {
    const leaks = findLeaks(this.before, await snapshotSystem(), this.scope);
    if (leaks.length > 0) {
      throw new Error(`Tests left ${leaks.length} resource(s) behind: ${leaks.join('; ')}. Release them with 'await using' handles from test/helpers`);
    }
  }
}
