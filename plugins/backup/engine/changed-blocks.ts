// Changed-block maps handed to an incremental backup: hot processing's tracking, saved as a plain bitmap file (one bit
// per block of the source from its first byte, least significant bit first).
import { readFileSync } from 'node:fs';
import { ShadowError } from '../../../sdk/index.js';
import type { ChangedBlocks } from './stream-copier.js';

export function bitmapChangedBlocks(bits: Uint8Array, blockBytes: number, sourceBytes: number, path: string): ChangedBlocks {
  if (!Number.isInteger(blockBytes) || blockBytes < 512 || (blockBytes & (blockBytes - 1)) !== 0) {
    throw new ShadowError('INVALID_ARGUMENT', `The changed-block size must be a power of two of at least 512 bytes, got ${String(blockBytes)}`);
  }
  const blocks = Math.ceil(sourceBytes / blockBytes);
  if (bits.length !== Math.ceil(blocks / 8)) {
    throw new ShadowError('INVALID_ARGUMENT', `The changed-block map ${path} has ${bits.length} bytes, but a ${sourceBytes}-byte source in ${blockBytes}-byte blocks needs ${Math.ceil(blocks / 8)}; it belongs to another volume or block size`);
  }
  return {
    changed(offsetBytes, lengthBytes) {
      const last = Math.floor((offsetBytes + lengthBytes - 1) / blockBytes);
      for (let block = Math.floor(offsetBytes / blockBytes); block <= last; block++) {
        if ((bits[block >> 3]! >> (block & 7)) & 1) return true;
      }
      return false;
    },
  };
}

export function readChangedBlocksFile(path: string, blockBytes: number, sourceBytes: number): ChangedBlocks {
  let bits: Uint8Array;
  try {
    bits = readFileSync(path);
  } catch (error) {
    throw new ShadowError('NOT_FOUND', `Cannot read the changed-block map '${path}': ${(error as Error).message}`);
  }
  return bitmapChangedBlocks(bits, blockBytes, sourceBytes, path);
}
