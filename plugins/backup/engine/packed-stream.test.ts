import { describe, expect, it } from 'vitest';
import type { StreamManifest } from './backup-manifest.js';
import { encodeBitmap, includedRanges, sliceRanges } from './packed-stream.js';

const stream = (bitmap: number[], sizeBytes: number, blockSize = 4096): StreamManifest => ({
  id: 1, kind: 'partition', startBytes: 1048576, sizeBytes, filesystem: 'ext4', method: 'test', blockSize, bitmap: encodeBitmap(Uint8Array.from(bitmap)), packedBytes: 0,
});

describe('packed streams', () => {
  it('turns a block bitmap into runs of included bytes on the disk', () => {
    // blocks 0,1 used; 2 free; 3 used; 8 used (second byte)
    expect(includedRanges(stream([0b00001011, 0b00000001], 9 * 4096))).toEqual([
      { offsetBytes: 1048576, lengthBytes: 8192 },
      { offsetBytes: 1048576 + 3 * 4096, lengthBytes: 4096 },
      { offsetBytes: 1048576 + 8 * 4096, lengthBytes: 4096 },
    ]);
  });

  it('clips the last block to the stream size', () => {
    expect(includedRanges(stream([0b1], 1000))).toEqual([{ offsetBytes: 1048576, lengthBytes: 1000 }]);
  });

  it('maps packed offsets back to disk ranges across runs', () => {
    const ranges = [{ offsetBytes: 0, lengthBytes: 100 }, { offsetBytes: 500, lengthBytes: 50 }, { offsetBytes: 1000, lengthBytes: 10 }];
    expect(sliceRanges(ranges, 90, 70)).toEqual([{ offsetBytes: 90, lengthBytes: 10 }, { offsetBytes: 500, lengthBytes: 50 }, { offsetBytes: 1000, lengthBytes: 10 }]);
    expect(sliceRanges(ranges, 120, 5)).toEqual([{ offsetBytes: 520, lengthBytes: 5 }]);
    expect(() => sliceRanges(ranges, 150, 20)).toThrow(/past the end of the stream/);
  });
});

describe('segments', () => {
  it('splits ranges at segment boundaries and groups them by segment', async () => {
    const { bySegment } = await import('./packed-stream.js');
    expect(bySegment([{ offsetBytes: 100, lengthBytes: 250 }, { offsetBytes: 400, lengthBytes: 10 }], 0, 128)).toEqual([
      { segment: 0, ranges: [{ offsetBytes: 100, lengthBytes: 28 }] },
      { segment: 1, ranges: [{ offsetBytes: 128, lengthBytes: 128 }] },
      { segment: 2, ranges: [{ offsetBytes: 256, lengthBytes: 94 }] },
      { segment: 3, ranges: [{ offsetBytes: 400, lengthBytes: 10 }] },
    ]);
  });

  it('keeps only the used blocks of stored segments', () => {
    // 4 blocks of 4096 used; segments of 8192: keep segment 1 only
    const s = stream([0b1111], 4 * 4096);
    expect(includedRanges(s, { segmentBytes: 8192, isStored: (n) => n === 1 })).toEqual([{ offsetBytes: 1048576 + 8192, lengthBytes: 8192 }]);
  });
});
