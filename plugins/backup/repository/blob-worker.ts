// Worker thread: compresses and seals batches of chunks for a repository backup (the blob encoder pool posts them) and
// answers each batch with one buffer of sealed chunks.
import { parentPort, workerData } from 'node:worker_threads';
import { encodeBlob } from './chunk-blob.js';
import type { RepositoryKeys } from './repository-keys.js';

export interface BlobBatch {
  tasks: { task: number; id: string; offset: number; length: number }[];
  data: Uint8Array;
  level: number;
}

export interface BlobBatchReply {
  results: { task: number; id: string; plainLength: number; offset: number; length: number; error?: string }[];
  sealed: Uint8Array;
  /** The batch's buffer, handed back for the next batch. */
  data: Uint8Array;
}

const raw = workerData as Record<Exclude<keyof RepositoryKeys, 'idBytes'>, Uint8Array> & { idBytes: number };
const keys: RepositoryKeys = { encryption: Buffer.from(raw.encryption), chunkId: Buffer.from(raw.chunkId), gearSeed: Buffer.from(raw.gearSeed), nonce: Buffer.from(raw.nonce), idBytes: raw.idBytes };

parentPort?.on('message', (batch: BlobBatch) => {
  const sealed: Buffer[] = [];
  const results: BlobBatchReply['results'] = [];
  let at = 0;
  for (const t of batch.tasks) {
    try {
      const blob = encodeBlob(keys, batch.data.subarray(t.offset, t.offset + t.length), batch.level, t.id);
      sealed.push(blob.sealed);
      results.push({ task: t.task, id: t.id, plainLength: blob.plainLength, offset: at, length: blob.sealed.length });
      at += blob.sealed.length;
    } catch (error) {
      results.push({ task: t.task, id: t.id, plainLength: t.length, offset: at, length: 0, error: (error as Error).message });
    }
  }
  // One fresh buffer (not Node's shared pool), transferred rather than copied.
  const out = new Uint8Array(at);
  let put = 0;
  for (const s of sealed) {
    out.set(s, put);
    put += s.length;
  }
  parentPort!.postMessage({ results, sealed: out, data: batch.data } satisfies BlobBatchReply, [out.buffer, batch.data.buffer as ArrayBuffer]);
});
