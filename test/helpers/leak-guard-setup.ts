// vitest globalSetup: fails the whole run when any test left a loop device or mount behind.
// Each run gets its own scratch roots (TMPDIR, and one on /dev/shm), inherited by the test workers; the guard counts
// only loop devices backed by files under them and mounts under them, so concurrent runs on one machine stay apart.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeakGuard } from './leak-guard.js';

export default async function setup(): Promise<() => Promise<void>> {
  const roots = [await mkdtemp(join(tmpdir(), 'shadowdisk-run-'))];
  if (existsSync('/dev/shm')) roots.push(await mkdtemp('/dev/shm/shadowdisk-run-'));
  process.env.TMPDIR = roots[0];
  if (roots[1] !== undefined) process.env.SHADOWDISK_TEST_SHM = roots[1];
  const guard = await LeakGuard.start(roots);
  return async () => {
    await guard.check();
    // Only reached when nothing is left mounted under the roots, so removing them cannot reach into a mount.
    for (const root of roots) await rm(root, { recursive: true, force: true });
  };
}
