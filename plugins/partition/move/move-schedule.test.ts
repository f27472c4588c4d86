import { describe, expect, it } from 'vitest';
import { chooseStepBytes, chunkCount, MiB, moveChunk, type MoveSpec } from './move-schedule.js';

/** Replays a schedule on an array of cells and checks every step reads only bytes no earlier step wrote. */
function replay(spec: MoveSpec, unit: number): void {
  const cells = Array.from({ length: (Math.max(spec.srcBytes, spec.dstBytes) + spec.lengthBytes) / unit }, (_, i) => i);
  const written = new Set<number>();
  const expected = cells.slice(spec.srcBytes / unit, (spec.srcBytes + spec.lengthBytes) / unit);
  for (let k = 0; k < chunkCount(spec); k++) {
    const c = moveChunk(spec, k);
    const first = c.srcBytes / unit;
    const n = c.lengthBytes / unit;
    for (let i = 0; i < n; i++) expect(written.has(first + i)).toBe(false);
    const data = cells.slice(first, first + n);
    const overlapsOwnSource = c.dstBytes < c.srcBytes + c.lengthBytes && c.srcBytes < c.dstBytes + c.lengthBytes;
    expect(c.saveFirst).toBe(overlapsOwnSource);
    for (let i = 0; i < n; i++) {
      cells[c.dstBytes / unit + i] = data[i]!;
      written.add(c.dstBytes / unit + i);
    }
  }
  expect(cells.slice(spec.dstBytes / unit, (spec.dstBytes + spec.lengthBytes) / unit)).toEqual(expected);
}

describe('move schedule', () => {
  it('moves data left and right, overlapping or not, with any step, reading nothing it already wrote', () => {
    for (const [src, dst, length, step] of [
      [10, 2, 20, 4], [2, 10, 20, 4], [10, 9, 20, 4], [9, 10, 20, 4], [0, 30, 20, 7], [30, 0, 20, 7], [5, 8, 21, 3], [8, 5, 21, 64],
    ] as const) {
      replay({ srcBytes: src * 512, dstBytes: dst * 512, lengthBytes: length * 512, stepBytes: step * 512 }, 512);
    }
  });

  it('chooses steps no larger than the shift, so only shifts under 1 MiB save a copy first', () => {
    expect(chooseStepBytes(100 * MiB, 0, 50 * MiB, 4096)).toBe(64 * MiB);
    expect(chooseStepBytes(100 * MiB, 97 * MiB, 50 * MiB, 4096)).toBe(3 * MiB);
    expect(chooseStepBytes(100 * MiB, 100 * MiB + 65536, 50 * MiB, 4096)).toBe(MiB);
    expect(chooseStepBytes(0, 500 * MiB, 300 * MiB, 4096)).toBe(64 * MiB);
    const small = { srcBytes: 10 * MiB, dstBytes: 10 * MiB + 65536, lengthBytes: 8 * MiB, stepBytes: MiB };
    expect(moveChunk(small, 0)).toMatchObject({ srcBytes: 17 * MiB, dstBytes: 17 * MiB + 65536, saveFirst: true });
  });
});
