import { describe, expect, it } from 'vitest';
import { FileExtentFlag, type FileExtent } from '../../../native/index.js';
import { prng } from '../../../test/helpers/index.js';
import { changedRanges } from './extent-delta.js';

const BLOCK = 4096;

/** Extents from per-block physical addresses (undefined = hole), merged where blocks are contiguous. */
function extentsOf(blocks: readonly (number | undefined)[]): FileExtent[] {
  const out: FileExtent[] = [];
  blocks.forEach((physical, i) => {
    if (physical === undefined) return;
    const last = out.at(-1);
    if (last && last.logicalBytes + last.lengthBytes === BigInt(i * BLOCK) && last.physicalBytes + last.lengthBytes === BigInt(physical * BLOCK)) last.lengthBytes += BigInt(BLOCK);
    else out.push({ logicalBytes: BigInt(i * BLOCK), physicalBytes: BigInt(physical * BLOCK), lengthBytes: BigInt(BLOCK), flags: 0 });
  });
  if (out.length > 0) out.at(-1)!.flags |= FileExtentFlag.Last;
  return out;
}

describe('changedRanges', () => {
  it('finds exactly the blocks whose mapping differs, against a block-by-block comparison of random maps', () => {
    const random = prng(7);
    for (let trial = 0; trial < 200; trial++) {
      const count = 1 + Math.floor(random() * 300);
      const a = Array.from({ length: count }, (_, i) => (random() < 0.2 ? undefined : 1000 + i));
      // b: a's clone, then some blocks rewritten elsewhere (copy-on-write), some punched, some holes filled.
      const b = a.map((p, i) => (random() < 0.1 ? (random() < 0.3 ? undefined : 50_000 + i) : p));
      const expected = new Set(a.map((p, i) => (p === b[i] ? -1 : i)).filter((i) => i >= 0));
      const got = new Set<number>();
      for (const r of changedRanges(extentsOf(a), extentsOf(b), BigInt(count * BLOCK))) {
        for (let o = Number(r.offsetBytes); o < Number(r.offsetBytes + r.lengthBytes); o += BLOCK) got.add(o / BLOCK);
      }
      expect([...got].sort((x, y) => x - y)).toEqual([...expected].sort((x, y) => x - y));
    }
  });

  it('merges adjacent changes into one range and stops at the file size', () => {
    const a = extentsOf([1, 2, 3, 4, 5, 6]);
    const b = extentsOf([1, 9, 10, 4, 5, 7]);
    expect(changedRanges(a, b, BigInt(6 * BLOCK - 100))).toEqual([
      { offsetBytes: BigInt(BLOCK), lengthBytes: BigInt(2 * BLOCK) },
      { offsetBytes: BigInt(5 * BLOCK), lengthBytes: BigInt(BLOCK - 100) },
    ]);
    expect(changedRanges(a, a, BigInt(6 * BLOCK))).toEqual([]);
  });
});
