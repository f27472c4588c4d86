// Which devices are mounted, and how: a cold backup reads only unmounted or read-only sources; a restore writes only
// to targets nothing has mounted.
import { readFileSync, statSync } from 'node:fs';
import { ShadowError } from '../../../sdk/index.js';

export interface MountUse {
  device: string;
  mountpoint: string;
  readOnly: boolean;
}

/** Mounts of `device` or of any partition on it (matched by device number, so /dev aliases and loop devices agree). */
export function mountsOf(device: string): MountUse[] {
  let rdev: number;
  try {
    const stat = statSync(device);
    if (!stat.isBlockDevice()) return [];
    rdev = stat.rdev;
  } catch {
    return [];
  }
  const major = Number((BigInt(rdev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & 0xfff00n));
  const base = device.replace(/^\/dev\//, '');
  const out: MountUse[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 10) continue;
    const [maj, min] = fields[2]!.split(':').map(Number);
    const dash = fields.indexOf('-');
    const sourceDevice = fields[dash + 2] ?? '';
    const ours = (maj === major && min === minor) || sourceDevice === `/dev/${base}` || sourceDevice.startsWith(`/dev/${base}p`) || (!/\d$/.test(base) && new RegExp(`^/dev/${base}\\d+$`).test(sourceDevice));
    if (!ours) continue;
    out.push({ device: sourceDevice, mountpoint: fields[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))), readOnly: fields[5]!.split(',').includes('ro') });
  }
  return out;
}

/** A cold backup reads a source nothing writes to: refuses one mounted read-write (TARGET_BUSY). */
export function refuseWritableMounts(source: string): void {
  const writable = mountsOf(source).filter((m) => !m.readOnly);
  if (writable.length > 0) {
    throw new ShadowError('TARGET_BUSY', `Cannot make a cold image of ${source}: ${writable.map((m) => `${m.device} is mounted read-write on ${m.mountpoint}`).join('; ')}. Unmount it or remount it read-only`);
  }
}
