// Compresses and seals chunks on worker threads while the main thread reads, chunks and hashes; results are taken in
// submission order, so packs hold the same chunks in the same order as a single-threaded backup would.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ShadowError } from '../../../sdk/index.js';
import type { EncodedBlob } from './chunk-blob.js';
import type { RepositoryKeys } from './repository-keys.js';
import type { BlobTask } from './blob-worker.js';
import { workerUrl } from '../engine/worker-url.js';

export class BlobEncoder implements AsyncDisposable {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (b: EncodedBlob) => void; reject: (e: Error) => void }>();
  private next = 0;
  private closing = false;

  constructor(keys: RepositoryKeys, threads = Math.max(1, availableParallelism())) {
    const url = workerUrl(import.meta.url, 'blob-worker.js', 'plugins/backup/repository/blob-worker.js');
    this.workers = Array.from({ length: threads }, () => {
      const worker = new Worker(url, { workerData: keys });
      worker.on('message', (reply: { task: number; blob?: EncodedBlob; error?: string }) => {
        const waiter = this.waiting.get(reply.task);
        this.waiting.delete(reply.task);
        if (reply.blob) waiter?.resolve({ ...reply.blob, sealed: Buffer.from(reply.blob.sealed.buffer, reply.blob.sealed.byteOffset, reply.blob.sealed.byteLength) });
        else waiter?.reject(new ShadowError('INTERNAL', `Cannot encode a chunk: ${reply.error}`));
      });
      worker.on('exit', (code) => {
        if (this.closing) return;
        for (const w of this.waiting.values()) w.reject(new ShadowError('INTERNAL', `A chunk encoder exited (code ${code}) in the middle of a backup`));
        this.waiting.clear();
      });
      return worker;
    });
  }

  /** `plain` is transferred to the worker: unusable here afterwards. */
  encode(id: string, plain: Uint8Array, level: number): Promise<EncodedBlob> {
    const task = this.next++;
    const result = new Promise<EncodedBlob>((resolve, reject) => this.waiting.set(task, { resolve, reject }));
    result.catch(() => undefined);
    this.workers[task % this.workers.length]!.postMessage({ task, id, plain, level } satisfies BlobTask, [plain.buffer as ArrayBuffer]);
    return result;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
