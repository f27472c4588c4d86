// FUSE mounts served by a real FUSE server process; on dispose the mount is lifted (fusermount3 -u) and the server stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMounted, ownedMount, type Mount } from './mount.js';
import { run } from './run.js';
import { scoped } from './test-scope.js';

export interface FuseMount extends Mount {
  readonly server: ChildProcess;
}

/**
 * Starts `command args... MOUNTPOINT` in the foreground and waits until MOUNTPOINT appears in the mount table.
 * The command must accept the mountpoint as its last argument and stay in the foreground (e.g. fuse2fs -f).
 */
export async function fuseMount(command: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<FuseMount> {
  const mountpoint = await mkdtemp(join(tmpdir(), 'shadowdisk-fuse-'));
  const server = spawn(command, [...args, mountpoint], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  while (!(await isMounted(mountpoint))) {
    if (exitCode !== undefined || Date.now() > deadline) {
      server.kill('SIGKILL');
      await rmdir(mountpoint).catch(() => undefined);
      throw new Error(`FUSE server ${command} did not mount ${mountpoint} (exit ${String(exitCode)}): ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const inner = ownedMount(mountpoint, command, async (mp) => {
    await run('fusermount3', ['-u', mp], { allowFailure: true });
    if (await isMounted(mp)) await run('umount', ['-l', mp]);
  });
  return scoped({
    mountpoint,
    source: command,
    server,
    async [Symbol.asyncDispose]() {
      await inner[Symbol.asyncDispose]();
      if (server.exitCode === null && server.signalCode === null) {
        const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
        server.kill('SIGTERM');
        await exited;
        clearTimeout(timer);
      }
    },
  });
}
