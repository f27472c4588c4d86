// Small readers over /sys and /proc, the kernel's own view of block devices; missing files read as undefined.
import { readdir, readFile, stat } from 'node:fs/promises';

export async function readSysText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

export async function readSysNumber(path: string): Promise<number | undefined> {
  const text = await readSysText(path);
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return [];
  }
}

/**
 * Mountpoints by device number `major:minor`, from /proc/self/mountinfo (octal escapes decoded). btrfs reports an
 * anonymous device number there (0:NN), so a mount whose source is a /dev node is filed under that node's number too.
 */
export async function mountpointsByDevice(): Promise<Map<string, string[]>> {
  const byDevice = new Map<string, string[]>();
  const add = (device: string, mountpoint: string) => {
    const list = byDevice.get(device) ?? [];
    if (!list.includes(mountpoint)) list.push(mountpoint);
    byDevice.set(device, list);
  };
  const text = (await readSysText('/proc/self/mountinfo')) ?? '';
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const device = fields[2];
    const mountpoint = fields[4]?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    if (!device || !mountpoint) continue;
    add(device, mountpoint);
    const source = fields[fields.indexOf('-') + 2];
    if (device.startsWith('0:') && source?.startsWith('/dev/')) {
      const rdev = await stat(source).then((st) => (st.isBlockDevice() ? st.rdev : undefined), () => undefined);
      if (rdev !== undefined) add(`${((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff)}:${(rdev & 0xff) | ((rdev >> 12) & 0xfff00)}`, mountpoint);
    }
  }
  return byDevice;
}

/** Device paths in use as swap, from /proc/swaps. */
export async function swapDevices(): Promise<Set<string>> {
  const text = (await readSysText('/proc/swaps')) ?? '';
  return new Set(text.split('\n').slice(1).map((line) => line.split(/\s+/)[0]!).filter(Boolean));
}
