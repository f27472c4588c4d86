// A worker thread holding one filesystem's mountpoint open, syncing, freezing and thawing it on request, so the
// filesystems of a set sync and freeze in parallel (syncfs and FIFREEZE block their thread meanwhile). Only node: imports and
// erasable TypeScript: Node runs this file as it is when the sources are not compiled.
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

interface FreezeAddon {
  fiFreeze(fd: number, path: string): void;
  fiThaw(fd: number, path: string): void;
  syncFs(fd: number, path: string): void;
}

const { addonPath, mountpoint } = workerData as { addonPath: string; mountpoint: string };
const addon = createRequire(import.meta.url)(addonPath) as FreezeAddon;
const fd = openSync(mountpoint, 'r');

parentPort!.on('message', (op: 'sync' | 'freeze' | 'thaw' | 'close') => {
  try {
    if (op === 'sync') addon.syncFs(fd, mountpoint);
    else if (op === 'freeze') addon.fiFreeze(fd, mountpoint);
    else if (op === 'thaw') addon.fiThaw(fd, mountpoint);
    else closeSync(fd);
    parentPort!.postMessage({ ok: true, atMs: performance.timeOrigin + performance.now() });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    parentPort!.postMessage({ ok: false, code: e.code ?? 'EIO', message: e.message });
  }
});
parentPort!.postMessage({ ready: true });
