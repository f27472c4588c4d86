// Where two files differ by their extent maps alone: ranges whose blocks are not the same physical blocks (or that are
// data on one side and a hole on the other). Between a file and its reflink clone these are exactly the ranges
// written since the clone, so a clone is brought up to date by re-cloning only them, and they are the changed blocks.
// Runs inside the hold on maps of ten thousand extents and more: plain numbers (byte offsets stay below 2^53), one pass.
import { FileExtentFlag, type FileExtent } from '../../../native/index.js';

export interface ByteRange {
  offsetBytes: bigint;
  lengthBytes: bigint;
}

interface Run {
  start: number;
  end: number;
  /** Physical address of `start`, with -1 for unwritten extents kept apart by `unwritten`. */
  physical: number;
  unwritten: boolean;
}

function runs(extents: readonly FileExtent[]): Run[] {
  return extents.map((e) => ({ start: Number(e.logicalBytes), end: Number(e.logicalBytes + e.lengthBytes), physical: Number(e.physicalBytes), unwritten: (e.flags & FileExtentFlag.Unwritten) !== 0 }));
}

/** Ranges of [0, sizeBytes) where `a` and `b` map differently, merged and in order. */
export function changedRanges(a: readonly FileExtent[], b: readonly FileExtent[], sizeBytes: bigint): ByteRange[] {
  const ra = runs(a);
  const rb = runs(b);
  const size = Number(sizeBytes);
  const out: { start: number; end: number }[] = [];
  const mark = (start: number, end: number) => {
    if (end <= start) return;
    const last = out.at(-1);
    if (last !== undefined && last.end === start) last.end = end;
    else out.push({ start, end });
  };
  let i = 0;
  let j = 0;
  let pos = 0;
  while (pos < size) {
    while (i < ra.length && ra[i]!.end <= pos) i++;
    while (j < rb.length && rb[j]!.end <= pos) j++;
    const x = ra[i];
    const y = rb[j];
    const inX = x !== undefined && x.start <= pos;
    const inY = y !== undefined && y.start <= pos;
    // The next point where either side's mapping may change.
    const next = Math.min(size, inX ? x.end : x?.start ?? size, inY ? y.end : y?.start ?? size);
    const same = inX === inY && (!inX || (x.physical + (pos - x.start) === y!.physical + (pos - y!.start) && x.unwritten === y!.unwritten));
    if (!same) mark(pos, next);
    pos = next;
  }
  return out.map((r) => ({ offsetBytes: BigInt(r.start), lengthBytes: BigInt(r.end - r.start) }));
}
