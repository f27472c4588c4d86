// Resolves what the user names as a volume (a block device or a mountpoint) into a ShadowVolume, from the mount table.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ShadowError, type ShadowVolume } from '../../sdk/index.js';

export interface MountEntry {
  /** `major:minor` of the filesystem's device. */
  deviceNumber: string;
  /** The path inside the filesystem that is mounted here (`/` or a btrfs subvolume). */
  root: string;
  mountpoint: string;
  fsType: string;
  source: string;
}

function decodeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function mountTable(): MountEntry[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    return {
      deviceNumber: fields[2]!,
      root: decodeMountField(fields[3]!),
      mountpoint: decodeMountField(fields[4]!),
      fsType: fields[dash + 1]!,
      source: decodeMountField(fields[dash + 2]!),
    };
  });
}

export function deviceNumberOf(rdev: number): string {
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return `${major}:${minor}`;
}

/** The mount whose folder holds `path` (the longest mountpoint prefix), as the kernel resolves it. */
export function mountHolding(path: string, table = mountTable()): MountEntry | undefined {
  const real = realpathSync(path);
  let best: MountEntry | undefined;
  for (const entry of table) {
    const prefix = entry.mountpoint === '/' ? '/' : `${entry.mountpoint}/`;
    if ((real === entry.mountpoint || real.startsWith(prefix)) && (best === undefined || entry.mountpoint.length >= best.mountpoint.length)) best = entry;
  }
  return best;
}

/** A block device or a mountpoint; a folder that is not a mountpoint is refused (name its filesystem's mountpoint). */
export function resolveVolume(name: string): ShadowVolume {
  const path = resolve(name);
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ShadowError('NOT_FOUND', `Volume '${name}' does not exist; name a block device or the mountpoint of a filesystem`);
  }
  const table = mountTable();
  if (st.isBlockDevice()) {
    const number = deviceNumberOf(st.rdev);
    const mount = table.find((m) => m.deviceNumber === number);
    return { name, device: path, mountpoint: mount?.mountpoint, fsType: mount?.fsType };
  }
  if (st.isDirectory()) {
    const real = realpathSync(path);
    const mount = [...table].reverse().find((m) => m.mountpoint === real);
    if (mount === undefined) {
      const holder = mountHolding(real, table);
      throw new ShadowError('INVALID_ARGUMENT', `'${name}' is a folder, not a mountpoint${holder ? `; its filesystem is mounted on '${holder.mountpoint}'` : ''}. Name a block device or a mountpoint`);
    }
    const device = mount.source.startsWith('/dev/') ? mount.source : undefined;
    return { name, device, mountpoint: mount.mountpoint, fsType: mount.fsType };
  }
  throw new ShadowError('INVALID_ARGUMENT', `'${name}' is neither a block device nor a mountpoint`);
}

/** Whether two volumes are one filesystem (one superblock: freeze it once). */
export function sameFilesystem(a: ShadowVolume, b: ShadowVolume): boolean {
  return a.mountpoint !== undefined && b.mountpoint !== undefined && statSync(a.mountpoint).dev === statSync(b.mountpoint).dev;
}
