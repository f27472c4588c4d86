// A plugin package file (.tgz from `npm pack`, or a plain .tar) read into memory and checked, then written into a
// staging folder without ever following a link out of it.
import { copyFileSync, lstatSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ShadowError } from '../../../sdk/index.js';
import { readTar, unsafe, type TarEntry, type TarLimits } from './tar-reader.js';

export const DEFAULT_ARCHIVE_LIMITS: TarLimits & { maxFileBytes: number } = Object.freeze({
  maxEntries: 5000,
  maxBytes: 128 * 1024 * 1024,
  /** The package file itself. */
  maxFileBytes: 64 * 1024 * 1024,
});

export interface PackageArchive {
  source: string;
  /** Entries with the package's top folder (`package/` from npm pack) stripped. */
  entries: TarEntry[];
  file(path: string): Uint8Array | undefined;
}

export function readPackageArchive(path: string, limits = DEFAULT_ARCHIVE_LIMITS): PackageArchive {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    throw new ShadowError('NOT_FOUND', `Cannot read plugin package '${path}': ${(error as Error).message}`, { cause: error });
  }
  if (size > limits.maxFileBytes) throw unsafe(path, 'too-many-bytes', `the file has ${size} bytes, more than ${limits.maxFileBytes}`, { limit: limits.maxFileBytes });
  const raw = readFileSync(path);
  let tar: Uint8Array = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    // Headers cost at most 1.5 KiB per entry; past that, the stream inflates to more than the entries may hold: a bomb.
    const maxOutputLength = limits.maxBytes + (limits.maxEntries + 4) * 1536 + 10240;
    try {
      tar = gunzipSync(raw, { maxOutputLength });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
        throw unsafe(path, 'too-many-bytes', `it inflates to more than ${maxOutputLength} bytes`, { limit: maxOutputLength });
      }
      throw new ShadowError('PLUGIN_ARCHIVE_INVALID', `Cannot read plugin package ${path}: not a valid gzip stream (${(error as Error).message}); make it with 'npm pack'`, { details: { source: path } });
    }
  }
  const entries = stripTopFolder(readTar(tar, limits, path), path);
  const files = new Map(entries.filter((e) => e.type === 'file').map((e) => [e.path, e.data]));
  return { source: path, entries, file: (p) => files.get(p) };
}

/** npm pack puts everything under `package/`; any single top folder is accepted, the root must hold package.json. */
function stripTopFolder(entries: TarEntry[], source: string): TarEntry[] {
  const tops = new Set(entries.map((e) => e.path.split('/')[0]));
  if (tops.size !== 1 || entries.some((e) => e.path === [...tops][0] && e.type !== 'directory')) {
    throw new ShadowError('PLUGIN_ARCHIVE_INVALID', `Cannot read plugin package ${source}: its entries must all sit in one top folder (npm pack uses 'package/'), found ${[...tops].slice(0, 5).map((t) => `'${t}'`).join(', ') || 'none'}`, { details: { source } });
  }
  const strip = (p: string) => p.split('/').slice(1).join('/');
  return entries
    .filter((e) => strip(e.path) !== '')
    .map((e) => ({ ...e, path: strip(e.path), ...(e.type === 'hardlink' ? { linkTarget: strip(e.linkTarget!) } : {}) }));
}

/** Writes the entries under `root` (which must be new and empty): files never replace or go through a symlink. */
export function extractPackage(archive: PackageArchive, root: string): void {
  const links: string[] = [];
  mkdirSync(root, { recursive: true, mode: 0o755 });
  for (const entry of archive.entries) {
    const target = join(root, entry.path);
    ensureDirs(root, dirname(entry.path), archive.source);
    if (entry.type === 'directory') ensureDirs(root, entry.path, archive.source);
    else if (entry.type === 'file') writeFileSync(target, entry.data, { flag: 'wx', mode: entry.mode & 0o755 });
    else if (entry.type === 'hardlink') {
      const from = archive.file(entry.linkTarget!);
      if (from === undefined) throw unsafe(archive.source, 'link-escape', `hard link '${entry.path}' points at '${entry.linkTarget}', which is no file of the package`, { entry: entry.path });
      copyFileSync(join(root, entry.linkTarget!), target);
    } else {
      const linkTarget = entry.linkTarget!;
      const lexical = posix.normalize(posix.join(posix.dirname(entry.path), linkTarget));
      if (isAbsolute(linkTarget) || lexical === '..' || lexical.startsWith('../')) {
        throw unsafe(archive.source, 'link-escape', `symbolic link '${entry.path}' points at '${linkTarget}', outside the package`, { entry: entry.path, target: linkTarget });
      }
      symlinkSync(linkTarget, target);
      links.push(entry.path);
    }
  }
  // A chain of links can leave the root where each link alone does not: judge where each one really lands.
  const realRoot = realpathSync.native(root);
  for (const link of links) {
    let real: string;
    try {
      real = realpathSync.native(join(root, link));
    } catch {
      throw unsafe(archive.source, 'link-escape', `symbolic link '${link}' points at nothing inside the package`, { entry: link });
    }
    const rel = relative(realRoot, real);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw unsafe(archive.source, 'link-escape', `symbolic link '${link}' resolves to '${real}', outside the package`, { entry: link });
  }
}

/** Creates `relDir` under root one part at a time, refusing to pass through a symlink the archive made. */
function ensureDirs(root: string, relDir: string, source: string): void {
  let at = root;
  for (const part of relDir.split('/').filter((p) => p !== '' && p !== '.')) {
    at = join(at, part);
    const stat = lstatSync(at, { throwIfNoEntry: false });
    if (!stat) mkdirSync(at, { mode: 0o755 });
    else if (stat.isSymbolicLink()) throw unsafe(source, 'link-escape', `entry under '${relative(root, at)}' would be written through a symbolic link`, { entry: relative(root, at) });
    else if (!stat.isDirectory()) throw new ShadowError('PLUGIN_ARCHIVE_INVALID', `Cannot read plugin package ${source}: '${relative(root, at)}' is both a file and a folder`, { details: { source } });
  }
}
