// JSON files in the state directory that survive a crash: read as undefined when absent, written through a temp file,
// fsynced, renamed over the old one, and the folder fsynced. Plans, apply journals and restore journals use it.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ShadowError } from './errors.js';

/** The state file of `key` (a disk path, usually) in `dir`: one flat, readable file name per key. */
export function stateFileFor(dir: string, key: string): string {
  return join(dir, `${key.replace(/^\//, '').replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

/** The state files in `dir` (none when it does not exist yet). */
export function listStateFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.json')).sort().map((n) => join(dir, n));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ShadowError.from(error, 'IO_ERROR');
  }
}

/** The file's text, or undefined when it does not exist. */
export function readStateFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ShadowError.from(error, 'IO_ERROR');
  }
}

export function writeStateFileDurably(path: string, value: unknown): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = openSync(`${path}.tmp`, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}.tmp`, path);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
