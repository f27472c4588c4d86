// Mounts on fresh temporary mountpoints; unmounted (and the mountpoint removed) on dispose, only if still mounted there.
import { mkdtemp, readFile, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runUntilDone } from './run.js';
import { scoped } from './test-scope.js';

export interface Mount extends AsyncDisposable {
  readonly mountpoint: string;
  readonly source: string;
}

/** Mountpoints in /proc/self/mountinfo, with octal escapes decoded. */
export async function mountpoints(): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').filter(Boolean).map((line) => decodeMountField(line.split(' ')[4]!));
}

export function decodeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export async function isMounted(mountpoint: string): Promise<boolean> {
  return (await mountpoints()).includes(mountpoint);
}

export async function mount(source: string, options: { type?: string; options?: string[] } = {}): Promise<Mount> {
  const mountpoint = await mkdtemp(join(tmpdir(), 'shadowdisk-mnt-'));
  const args = [...(options.type ? ['-t', options.type] : []), ...(options.options?.length ? ['-o', options.options.join(',')] : []), source, mountpoint];
  try {
    await run('mount', args);
  } catch (error) {
    await rmdir(mountpoint);
    throw error;
  }
  return ownedMount(mountpoint, source);
}

/** A handle for a mount the test made some other way (a FUSE server): unmounts it if it is still there. */
export function ownedMount(mountpoint: string, source: string, unmount: (mp: string) => Promise<void> = (mp) => runUntilDone('umount', [mp], `unmount ${mp}`)): Mount {
  let released = false;
  return scoped({
    mountpoint,
    source,
    async [Symbol.asyncDispose]() {
      if (released) return;
      released = true;
      if (await isMounted(mountpoint)) await unmount(mountpoint);
      await rmdir(mountpoint).catch(() => undefined);
    },
  });
}
