// The data bench/repo and bench/repo-split back up: this machine's /usr files on a fresh filesystem, then ~10% of
// them given other contents for a second generation.
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Shell command that copies /usr files (OS-like content) into `mountpoint`, up to `fillMiB`. */
export const fillCommand = (mountpoint: string, fillMiB: number) =>
  `cd / && find usr/share usr/lib/x86_64-linux-gnu -type f -size -64M 2>/dev/null | head -200000 | tar -cf - -T - 2>/dev/null | (cd ${mountpoint} && head -c ${fillMiB * 1024 * 1024} | tar -xf - 2>/dev/null); true`;

export const listFiles = (root: string): string[] => readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();

/** Every file of a run of folders (in path order, from a third of the way in) until `count` files are taken. */
function wholeFolders(files: readonly string[], count: number): string[] {
  const folders = [...new Set(files.map((f) => dirname(f)))];
  const taken = new Set<string>();
  let n = 0;
  for (const folder of [...folders.slice(Math.floor(folders.length / 3)), ...folders]) {
    if (n >= count) break;
    if (taken.has(folder)) continue;
    taken.add(folder);
    n += files.filter((f) => dirname(f) === folder).length;
  }
  return files.filter((f) => taken.has(dirname(f)));
}

/**
 * Gives ~10% of the files under `mountpoint` other contents of the same size: whole folders (`packages`, as a package
 * upgrade does) or every tenth file (`scattered`). Returns the files changed and their bytes.
 */
export function changeFiles(mountpoint: string, change: 'packages' | 'scattered'): { files: string[]; bytes: number } {
  const files = listFiles(mountpoint);
  const changed = change === 'scattered' ? files.filter((_, i) => i % 10 === 9) : wholeFolders(files, files.length / 10);
  let bytes = 0;
  for (const file of changed) {
    const size = statSync(file).size;
    bytes += size;
    writeFileSync(file, randomBytes(size));
  }
  return { files: changed, bytes };
}
