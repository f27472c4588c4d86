// A pool of worker threads that encode chunks (zstd, SHA-256, AES-GCM) on every core while the main thread reads and
// writes; results come back in submission order to keep the image sequential.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, ShadowError, type ErrorCode } from '../../../sdk/index.js';
import { maxRecordLength, type ChunkMeta, type EncodedChunk } from '../image/chunk-codec.js';
import type { ChunkKeys } from '../image/image-keys.js';
import type { ChunkTask } from './chunk-worker.js';
import { workerUrl } from './worker-url.js';

type Reply = { id: number; encoded: EncodedChunk; plain?: Uint8Array; segmentHashes?: Uint8Array } | { id: number; error: { message: string; code?: string } };

/** Plain buffers kept for reuse: enough for the chunks in flight. */
const MAX_SPARES = 8;

export class ChunkPool implements AsyncDisposable {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (e: EncodedChunk & { segmentHashes?: Uint8Array }) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  /** Chunks each worker holds; a chunk goes to the least busy (chunk costs differ: random data is fast, text slow). */
  private readonly load: number[];
  private readonly workerOf = new Map<number, number>();
  private broken: Error | undefined;
  private closing = false;
  private readonly spares: Uint8Array[] = [];
  /** Record buffers written out and handed back (recycleRecord), for the workers to encode into again. */
  private readonly recordSpares: Uint8Array[] = [];

  constructor(private readonly keys: ChunkKeys | undefined, private readonly level: number, threads = Math.max(1, availableParallelism())) {
    const url = workerUrl(import.meta.url, 'chunk-worker.js', 'plugins/backup/engine/chunk-worker.js');
    this.load = new Array<number>(threads).fill(0);
    this.workers = Array.from({ length: threads }, () => {
      const worker = new Worker(url);
      worker.on('message', (reply: Reply) => this.settle(reply));
      worker.on('error', (error) => this.failAll(error));
      // A worker that dies takes its pending chunks with it: fail them and everything after, never hang.
      worker.on('exit', (code) => {
        if (!this.closing) this.failAll(new ShadowError('INTERNAL', `A chunk worker exited (code ${code}) in the middle of a backup`));
      });
      return worker;
    });
  }

  /**
   * Encodes one chunk on the next worker; `plain` is transferred (unusable here afterwards). With `segments`, the
   * worker also hashes those segments of the chunk (SEGMENT_HASH_BYTES each, in span order).
   */
  encode(meta: ChunkMeta, plain: Uint8Array, segments?: ChunkTask['segments']): Promise<EncodedChunk & { segmentHashes?: Uint8Array }> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    const slot = this.load.indexOf(Math.min(...this.load));
    const worker = this.workers[slot]!;
    this.load[slot]!++;
    this.workerOf.set(id, slot);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const index = this.recordSpares.findIndex((b) => b.length >= maxRecordLength(plain.length));
      const out = index >= 0 ? this.recordSpares.splice(index, 1)[0] : undefined;
      const task: ChunkTask = { id, keys: this.keys, meta, plain, level: this.level, ...(segments ? { segments } : {}), ...(out ? { out } : {}) };
      worker.postMessage(task, out ? [plain.buffer as ArrayBuffer, out.buffer as ArrayBuffer] : [plain.buffer as ArrayBuffer]);
    });
  }

  /** A buffer of `size` bytes to fill with a chunk: one a worker handed back when there is one (contents undefined). */
  buffer(size: number): Uint8Array {
    const index = this.spares.findIndex((b) => b.byteLength === size);
    return index >= 0 ? this.spares.splice(index, 1)[0]! : new Uint8Array(size);
  }

  /** Hands a written record's buffer back for reuse; the record must not be used afterwards. */
  recycleRecord(record: Uint8Array): void {
    if (this.recordSpares.length < MAX_SPARES && record.buffer instanceof ArrayBuffer) this.recordSpares.push(new Uint8Array(record.buffer));
  }

  private settle(reply: Reply): void {
    const slot = this.workerOf.get(reply.id);
    if (slot !== undefined) {
      this.load[slot]!--;
      this.workerOf.delete(reply.id);
    }
    if ('plain' in reply && reply.plain && reply.plain.byteOffset === 0 && this.spares.length < MAX_SPARES) {
      this.spares.push(new Uint8Array(reply.plain.buffer, 0, reply.plain.buffer.byteLength));
    }
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if ('encoded' in reply) waiter.resolve(reply.segmentHashes ? { ...reply.encoded, segmentHashes: reply.segmentHashes } : reply.encoded);
    else {
      const code = reply.error.code !== undefined && reply.error.code in ERROR_CODES ? (reply.error.code as ErrorCode) : 'INTERNAL';
      waiter.reject(new ShadowError(code, reply.error.message));
    }
  }

  private failAll(error: Error): void {
    this.broken ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
