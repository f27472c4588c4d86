// Worker thread: compresses, hashes and (when keyed) encrypts chunks posted by the chunk pool.
import { parentPort } from 'node:worker_threads';
import { encodeChunk, type ChunkMeta } from '../image/chunk-codec.js';
import type { ChunkKeys } from '../image/image-keys.js';

export interface ChunkTask {
  id: number;
  keys: ChunkKeys | undefined;
  meta: ChunkMeta;
  plain: Uint8Array;
  level: number;
}

parentPort?.on('message', (task: ChunkTask) => {
  try {
    const encoded = encodeChunk(task.keys, task.meta, task.plain, task.level);
    parentPort!.postMessage({ id: task.id, encoded }, [encoded.record.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ id: task.id, error: { message: (error as Error).message, code: (error as { code?: string }).code } });
  }
});
