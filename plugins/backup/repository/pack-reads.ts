// Ranged reads of a pack: the chunks wanted from it, sorted by place and merged into a few reads, reading through
// small gaps (one request costs more than a few hundred KiB of unwanted bytes).
import type { ChunkLocation } from './repository.js';

/** Unneeded bytes between two needed chunks of a pack that are read through rather than cut into two reads. */
export const READ_THROUGH_BYTES = 256 * 1024;

/** Runs of a pack's needed chunks read at once: [offset, end) and the chunks inside. */
export function packReads(chunks: readonly [string, ChunkLocation][]): { offset: number; end: number; chunks: [string, ChunkLocation][] }[] {
  const sorted = [...chunks].sort((a, b) => a[1].offset - b[1].offset);
  const out: { offset: number; end: number; chunks: [string, ChunkLocation][] }[] = [];
  for (const entry of sorted) {
    const [, at] = entry;
    const last = out.at(-1);
    if (last && at.offset - last.end <= READ_THROUGH_BYTES) {
      last.end = Math.max(last.end, at.offset + at.length);
      last.chunks.push(entry);
    } else out.push({ offset: at.offset, end: at.offset + at.length, chunks: [entry] });
  }
  return out;
}
