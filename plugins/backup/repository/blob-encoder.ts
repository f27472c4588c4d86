// Compresses and seals chunks on worker threads while the main thread reads, chunks and hashes; results are taken in
// submission order, so packs hold the same chunks in the same order as a single-threaded backup would. Chunks travel in
// batches (one buffer of many chunks each way): a message per chunk costs more than encoding a small file's chunk.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ShadowError } from '../../../sdk/index.js';
import type { EncodedBlob } from './chunk-blob.js';
import type { RepositoryKeys } from './repository-keys.js';
import type { BlobBatch, BlobBatchReply } from './blob-worker.js';
import { workerUrl } from '../engine/worker-url.js';

/** A batch is sent once it holds this many bytes or chunks, or when someone waits for one of its chunks (`flush`). */
const BATCH_BYTES = 1024 * 1024;
const BATCH_CHUNKS = 128;
/** Batch buffers, handed back by the workers and used again (fresh multi-MiB buffers page-fault on every use). */
const BATCH_BUFFER_BYTES = 2 * BATCH_BYTES;

interface Waiter {
  resolve: (b: EncodedBlob) => void;
  reject: (e: Error) => void;
}

export class BlobEncoder implements AsyncDisposable {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, Waiter>();
  private next = 0;
  private batches = 0;
  private closing = false;
  private batch: BlobBatch['tasks'] = [];
  private batchData: Uint8Array | undefined;
  private batchBytes = 0;
  private readonly spare: Uint8Array[] = [];
  private level = 0;

  constructor(keys: RepositoryKeys, threads = Math.max(1, availableParallelism())) {
    const url = workerUrl(import.meta.url, 'blob-worker.js', 'plugins/backup/repository/blob-worker.js');
    this.workers = Array.from({ length: threads }, () => {
      const worker = new Worker(url, { workerData: keys });
      worker.on('message', (reply: BlobBatchReply) => {
        if (reply.data.byteLength === BATCH_BUFFER_BYTES) this.spare.push(reply.data);
        const sealed = Buffer.from(reply.sealed.buffer, reply.sealed.byteOffset, reply.sealed.byteLength);
        for (const r of reply.results) {
          const waiter = this.waiting.get(r.task);
          this.waiting.delete(r.task);
          if (r.error !== undefined) waiter?.reject(new ShadowError('INTERNAL', `Cannot encode a chunk: ${r.error}`));
          else waiter?.resolve({ id: r.id, plainLength: r.plainLength, sealed: sealed.subarray(r.offset, r.offset + r.length) });
        }
      });
      worker.on('exit', (code) => {
        if (this.closing) return;
        for (const w of this.waiting.values()) w.reject(new ShadowError('INTERNAL', `A chunk encoder exited (code ${code}) in the middle of a backup`));
        this.waiting.clear();
      });
      return worker;
    });
  }

  /** Queues `plain` (copied at once; the caller keeps it) for encoding; call `flush` before waiting on the result. */
  encode(id: string, plain: Uint8Array, level: number): Promise<EncodedBlob> {
    if (this.batch.length > 0 && (level !== this.level || this.batchBytes + plain.length > this.batchData!.length)) this.flush();
    this.level = level;
    if (!this.batchData) this.batchData = plain.length <= BATCH_BUFFER_BYTES ? (this.spare.pop() ?? new Uint8Array(BATCH_BUFFER_BYTES)) : new Uint8Array(plain.length);
    const task = this.next++;
    const result = new Promise<EncodedBlob>((resolve, reject) => this.waiting.set(task, { resolve, reject }));
    result.catch(() => undefined);
    this.batchData.set(plain, this.batchBytes);
    this.batch.push({ task, id, offset: this.batchBytes, length: plain.length });
    this.batchBytes += plain.length;
    if (this.batchBytes >= BATCH_BYTES || this.batch.length >= BATCH_CHUNKS) this.flush();
    return result;
  }

  /** Chunks queued and not sent yet (the newest ones). */
  get queued(): number {
    return this.batch.length;
  }

  /** Sends the chunks queued so far. */
  flush(): void {
    if (this.batch.length === 0) return;
    const data = this.batchData!;
    const tasks = this.batch;
    this.batch = [];
    this.batchData = undefined;
    this.batchBytes = 0;
    this.workers[this.batches++ % this.workers.length]!.postMessage({ tasks, data, level: this.level } satisfies BlobBatch, [data.buffer as ArrayBuffer]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
