// Worker thread: compresses and seals chunks for a repository backup (the blob encoder pool posts them).
import { parentPort, workerData } from 'node:worker_threads';
import { encodeBlob } from './chunk-blob.js';
import type { RepositoryKeys } from './repository-keys.js';

export interface BlobTask {
  task: number;
  id: string;
  plain: Uint8Array;
  level: number;
}

const raw = workerData as Record<keyof RepositoryKeys, Uint8Array>;
const keys: RepositoryKeys = { encryption: Buffer.from(raw.encryption), chunkId: Buffer.from(raw.chunkId), gearSeed: Buffer.from(raw.gearSeed), nonce: Buffer.from(raw.nonce) };

parentPort?.on('message', (t: BlobTask) => {
  try {
    const blob = encodeBlob(keys, t.plain, t.level, t.id);
    // Copied, not transferred: a small sealed Buffer lives in Node's shared pool, which cannot be transferred.
    parentPort!.postMessage({ task: t.task, blob });
  } catch (error) {
    parentPort!.postMessage({ task: t.task, error: (error as Error).message });
  }
});
