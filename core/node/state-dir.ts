// The state directory: /var/lib/shadowdisk unless SHADOWDISK_HOME says otherwise.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export const DEFAULT_STATE_DIR = '/var/lib/shadowdisk';

export function resolveStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['SHADOWDISK_HOME'];
  return home && home.trim() !== '' ? resolve(home) : DEFAULT_STATE_DIR;
}

/** Creates the state directory (mode 0700: it will hold journals and keys) and returns its path. */
export function ensureStateDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return path;
}
