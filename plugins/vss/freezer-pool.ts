// One freeze worker per filesystem of a set: started before the hold (a thread takes tens of milliseconds to start),
// then FIFREEZE and FITHAW run on every filesystem at once.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { addonPath } from '../../native/index.js';
import { ShadowError } from '../../sdk/index.js';

type Reply = { ready: true } | { ok: true; atMs: number } | { ok: false; code: string; message: string };

/** The compiled worker beside this module, or the TypeScript source, which Node 24 runs by stripping its types. */
function workerFile(): URL {
  const compiled = new URL('./freeze-worker.js', import.meta.url);
  return existsSync(fileURLToPath(compiled)) ? compiled : new URL('./freeze-worker.ts', import.meta.url);
}

class Freezer {
  private waiting: ((reply: Reply) => void) | undefined;
  constructor(readonly mountpoint: string, private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => this.waiting?.(reply));
    worker.on('error', (error) => this.waiting?.({ ok: false, code: 'EIO', message: error.message }));
  }

  request(op: 'sync' | 'freeze' | 'thaw' | 'close' | 'ready'): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiting = (reply) => {
        this.waiting = undefined;
        resolve(reply);
      };
      if (op !== 'ready') this.worker.postMessage(op);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

export class FreezerPool implements AsyncDisposable {
  private constructor(private readonly freezers: Freezer[]) {}

  static async start(mountpoints: readonly string[]): Promise<FreezerPool> {
    const freezers = mountpoints.map((mountpoint) => new Freezer(mountpoint, new Worker(workerFile(), { workerData: { addonPath: addonPath(), mountpoint } })));
    const pool = new FreezerPool(freezers);
    const replies = await Promise.all(freezers.map((f) => f.request('ready')));
    const failed = replies.findIndex((r) => !('ready' in r));
    if (failed >= 0) {
      await pool[Symbol.asyncDispose]();
      throw new ShadowError('IO_ERROR', `Cannot prepare to freeze '${mountpoints[failed]}': ${(replies[failed] as { message?: string }).message ?? 'the worker did not start'}`);
    }
    return pool;
  }

  /** Syncs, freezes or thaws every filesystem at once; resolves with the mountpoints done and the failures (code, message) by mountpoint. */
  async run(op: 'sync' | 'freeze' | 'thaw', only?: readonly string[]): Promise<{ done: string[]; failed: { mountpoint: string; code: string; message: string }[] }> {
    const targets = this.freezers.filter((f) => only === undefined || only.includes(f.mountpoint));
    const replies = await Promise.all(targets.map((f) => f.request(op)));
    const done: string[] = [];
    const failed: { mountpoint: string; code: string; message: string }[] = [];
    replies.forEach((reply, i) => {
      if ('ok' in reply && reply.ok) done.push(targets[i]!.mountpoint);
      else failed.push({ mountpoint: targets[i]!.mountpoint, code: (reply as { code: string }).code, message: (reply as { message: string }).message });
    });
    return { done, failed };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.freezers.map(async (f) => {
      await Promise.race([f.request('close'), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      await f.terminate();
    }));
  }
}
