// Sets bits of a used-block map by block ranges, byte ranges or a filesystem's own bitmap, clipped to the volume.
import { ShadowError } from '../../../sdk/index.js';
import type { UsedBlockMap } from './used-block-map.js';

export class UsedBlockMapBuilder {
  readonly bitmap: Uint8Array;

  constructor(
    readonly blockSize: number,
    readonly totalBlocks: number,
  ) {
    if (!Number.isInteger(blockSize) || blockSize <= 0) throw new ShadowError('INVALID_ARGUMENT', `Block size must be a positive integer, got '${blockSize}'`);
    if (!Number.isSafeInteger(totalBlocks) || totalBlocks < 0) throw new ShadowError('INVALID_ARGUMENT', `Block count must be a non-negative integer, got '${totalBlocks}'`);
    this.bitmap = new Uint8Array(Math.ceil(totalBlocks / 8));
  }

  static forVolume(volumeSizeBytes: number, blockSize: number): UsedBlockMapBuilder {
    if (!Number.isSafeInteger(volumeSizeBytes) || volumeSizeBytes < 0) {
      throw new ShadowError('INVALID_ARGUMENT', `Volume size must be a non-negative integer of bytes, got '${volumeSizeBytes}'`);
    }
    return new UsedBlockMapBuilder(blockSize, Math.ceil(volumeSizeBytes / blockSize));
  }

  /** Marks blocks [start, start + count) used; the part outside the map is ignored. */
  markUsed(startBlock: number, blockCount: number): void {
    let block = Math.max(0, startBlock);
    const end = Math.min(this.totalBlocks, startBlock + blockCount);
    while (block < end && (block & 7) !== 0) this.setBit(block++);
    const wholeBytesEnd = end & ~7;
    if (block < wholeBytesEnd) {
      this.bitmap.fill(0xff, block >>> 3, wholeBytesEnd >>> 3);
      block = wholeBytesEnd;
    }
    while (block < end) this.setBit(block++);
  }

  /** Marks every block that overlaps bytes [offset, offset + length) used. */
  markBytes(offsetBytes: number, lengthBytes: number): void {
    if (lengthBytes <= 0) return;
    const first = Math.floor(offsetBytes / this.blockSize);
    const last = Math.floor((offsetBytes + lengthBytes - 1) / this.blockSize);
    this.markUsed(first, last - first + 1);
  }

  /** ORs in `bitCount` bits of a filesystem bitmap (LSB-first) so that its bit 0 lands on `firstBlock`. */
  markFromBitmap(source: Uint8Array, bitCount: number, firstBlock: number): void {
    const count = Math.min(bitCount, source.length * 8, this.totalBlocks - firstBlock);
    if ((firstBlock & 7) === 0) {
      const wholeBytes = count >>> 3;
      const offset = firstBlock >>> 3;
      for (let i = 0; i < wholeBytes; i++) this.bitmap[offset + i]! |= source[i]!;
      for (let bit = wholeBytes * 8; bit < count; bit++) if (source[bit >>> 3]! & (1 << (bit & 7))) this.setBit(firstBlock + bit);
      return;
    }
    for (let i = 0; i * 8 < count; i++) {
      const byte = source[i]!;
      if (byte === 0) continue;
      for (let b = 0; b < 8 && i * 8 + b < count; b++) if (byte & (1 << b)) this.setBit(firstBlock + i * 8 + b);
    }
  }

  /** Marks blocks [start, start + count) free; the part outside the map is ignored. */
  markFree(startBlock: number, blockCount: number): void {
    let block = Math.max(0, startBlock);
    const end = Math.min(this.totalBlocks, startBlock + blockCount);
    while (block < end && (block & 7) !== 0) this.clearBit(block++);
    const wholeBytesEnd = end & ~7;
    if (block < wholeBytesEnd) {
      this.bitmap.fill(0, block >>> 3, wholeBytesEnd >>> 3);
      block = wholeBytesEnd;
    }
    while (block < end) this.clearBit(block++);
  }

  /** Marks every block from `firstFreeBlock` to the end of the map free. */
  markFreeFrom(firstFreeBlock: number): void {
    this.markFree(firstFreeBlock, this.totalBlocks - firstFreeBlock);
  }

  build(filesystem: string, method: string): UsedBlockMap {
    return Object.freeze({ blockSize: this.blockSize, totalBlocks: this.totalBlocks, bitmap: this.bitmap, filesystem, method });
  }

  private setBit(block: number): void {
    this.bitmap[block >>> 3]! |= 1 << (block & 7);
  }

  private clearBit(block: number): void {
    this.bitmap[block >>> 3]! &= ~(1 << (block & 7));
  }
}
