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

/** What `after` holds that `before` did not, one sentence per leak. */
export function findLeaks(before: SystemSnapshot, after: SystemSnapshot): string[] {
  const leaks: string[] = [];
  for (const [device, backing] of after.loops) {
    if (before.loops.get(device) !== backing) leaks.push(`loop device ${device} (backing file ${backing}) is still attached`);
  }
  for (const node of after.loopPartitions ?? []) {
    if (!before.loopPartitions?.has(node)) leaks.push(`partition node ${node} is left on a detached loop device`);
  }
  for (const mountpoint of after.mountpoints) {
    if (!before.mountpoints.has(mountpoint)) leaks.push(`${mountpoint} is still mounted`);
  }
  return leaks;
}

export class LeakGuard {
  private constructor(private readonly before: SystemSnapshot) {}

  static async start(): Promise<LeakGuard> {
    return new LeakGuard(await snapshotSystem());
  }

  /** Throws an error listing every loop device and mount left behind since start. */
  async check(): Promise<void> {
    const leaks = findLeaks(this.before, await snapshotSystem());
    if (leaks.length > 0) {
      throw new Error(`Tests left ${leaks.length} resource(s) behind: ${leaks.join('; ')}. Release them with 'await using' handles from test/helpers`);
    }
  }
}
