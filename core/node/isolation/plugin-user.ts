// The unprivileged account isolated plugins run as (unless they declare block-devices, mount or native), made on first use.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ShadowError } from '../../../sdk/index.js';

export const PLUGIN_USER = 'shadowdisk-plugin';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

function lookup(name: string): Account | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

export function ensurePluginUser(name = PLUGIN_USER): Account {
  const found = lookup(name);
  if (found) return found;
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name], { stdio: 'pipe' });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    // Another backend may have made it at the same moment.
    if (!lookup(name)) throw new ShadowError('PERMISSION_DENIED', `Cannot create the unprivileged plugin user '${name}' (useradd: ${stderr || (error as Error).message}); create it by hand`);
  }
  return lookup(name)!;
}
