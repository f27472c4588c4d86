// Test handles for hot processing: a host on a fresh state folder, a diff-store folder on another filesystem, and an
// attached volume that is detached on dispose; when the plugin's detach fails, what this handle made is taken down by
// hand (its loop devices, the engine's FUSE connection, the engine itself), never anything else.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import { detachLoop, loopStatus } from '../../native/index.js';
import { Attachments, EngineClient, type Attachment } from '../../plugins/hot-processing/index.js';
import { abortFuseConnection, isRunning } from '../../plugins/hot-processing/engine-process.js';
import { isMounted, run, tempDir, tempStateDir, type TempDir } from '../helpers/index.js';
import { scoped } from '../helpers/test-scope.js';

export interface HotHost extends AsyncDisposable {
  readonly host: ShadowdiskHost;
  readonly scratch: string;
  /** A folder on /dev/shm: another filesystem than the scratch folder that holds the origins. */
  readonly diffDir: string;
}

export async function hotHost(): Promise<HotHost> {
  const shmRoot = process.env['SHADOWDISK_TEST_SHM'];
  if (shmRoot === undefined) throw new Error('Hot-processing tests need a diff-store folder on /dev/shm (SHADOWDISK_TEST_SHM, set by the leak guard)');
  const state = await tempStateDir();
  const scratch = await tempDir();
  const diffDir = await mkdtemp(join(shmRoot, 'diff-'));
  const host = await createHost({ stateDir: state.path, logSink: () => undefined });
  const owned: TempDir[] = [scratch, state];
  return scoped({
    host,
    scratch: scratch.path,
    diffDir,
    async [Symbol.asyncDispose]() {
      await host[Symbol.asyncDispose]();
      await rm(diffDir, { recursive: true, force: true });
      for (const dir of owned) await dir[Symbol.asyncDispose]();
    },
  });
}

export interface HotVolume extends AsyncDisposable {
  readonly attachment: Attachment;
  readonly device: string;
  readonly client: EngineClient;
  /** The attachment as the state file says now (with its snapshot, once one is taken). */
  current(): Attachment | undefined;
}

export async function hotAttach(hot: HotHost, origin: string, options: Record<string, string | boolean> = {}): Promise<HotVolume> {
  const result = await hot.host.executeCommand('shadowdisk.hot-processing.attach', { positionals: [origin], options: { 'diff-dir': hot.diffDir, ...options } });
  const attachment = result.data as Attachment;
  const client = new EngineClient(attachment.controlPath);
  let released = false;
  // The plugin's storage folder holds engines/<name>/ and the attachment records.
  const records = new Attachments(dirname(dirname(attachment.engineDir)));
  const current = (): Attachment | undefined => records.byOrigin(attachment.origin);
  return scoped({
    attachment,
    device: attachment.device,
    client,
    current,
    async [Symbol.asyncDispose]() {
      if (released) return;
      released = true;
      if (current() === undefined) return;
      try {
        await hot.host.executeCommand('shadowdisk.hot-processing.detach', { positionals: [attachment.device] });
      } catch (error) {
        await forceRelease(current() ?? attachment);
        throw error;
      }
    },
  });
}

/** The fallback when detach failed: the engine's FUSE connection aborted (so nothing waits on it), our loop devices
 * detached, the engine killed if it is still ours, its mount lifted. */
async function forceRelease(a: Attachment): Promise<void> {
  try {
    abortFuseConnection(a.mountDir);
  } catch {
    // no fusectl here: the kill below still ends the connection
  }
  for (const [device, file] of [[a.snapshot?.device, `${a.mountDir}/snapshot`], [a.device, `${a.mountDir}/volume`]] as const) {
    if (device === undefined) continue;
    try {
      if (loopStatus(device).backingFile === file) detachLoop(device);
    } catch {
      // not ours any more
    }
  }
  if (isRunning(a.pid) && readFileSync(`/proc/${a.pid}/comm`, 'utf8').trim() === 'hotcore') process.kill(a.pid, 'SIGKILL');
  if (await isMounted(a.mountDir)) await run('umount', ['-l', a.mountDir], { allowFailure: true });
}
