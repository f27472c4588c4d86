// Free regions of a Layout, and alignment: where a new primary, logical or GPT partition can go.
import { endLba, type Layout, type LayoutPartition } from '../table/layout.js';

export interface Region {
  startLba: number;
  endLba: number;
}

export const MIB = 1024 * 1024;

export function defaultAlignSectors(sectorSize: number): number {
  return Math.max(1, MIB / sectorSize);
}

export function alignUp(lba: number, align: number): number {
  return Math.ceil(lba / align) * align;
}

export function extendedOf(layout: Layout): LayoutPartition | undefined {
  return layout.partitions.find((p) => p.mbr?.role === 'extended');
}

/** Gaps in [from, to] not covered by `taken`, in order. */
export function gaps(from: number, to: number, taken: readonly Pick<LayoutPartition, 'startLba' | 'sizeSectors'>[]): Region[] {
  const sorted = [...taken].sort((a, b) => a.startLba - b.startLba);
  const out: Region[] = [];
  let cursor = from;
  for (const p of sorted) {
    if (p.startLba > cursor) out.push({ startLba: cursor, endLba: Math.min(p.startLba - 1, to) });
    cursor = Math.max(cursor, endLba(p) + 1);
    if (cursor > to) break;
  }
  if (cursor <= to) out.push({ startLba: cursor, endLba: to });
  return out.filter((g) => g.endLba >= g.startLba);
}

/** Where partitions of a role may go: logicals inside the extended partition (one EBR sector before each), others outside. */
export function freeRegions(layout: Layout, role: 'primary' | 'extended' | 'logical' | 'gpt'): Region[] {
  if (role === 'logical') {
    const extended = extendedOf(layout);
    if (!extended) return [];
    const logicals = layout.partitions.filter((p) => p.mbr?.role === 'logical');
    // Each logical needs its EBR in the sector before it, so a region is usable from its second sector on.
    return gaps(extended.startLba, endLba(extended), logicals)
      .map((g) => ({ startLba: g.startLba + 1, endLba: g.endLba }))
      .filter((g) => g.endLba >= g.startLba);
  }
  const outer = layout.partitions.filter((p) => p.mbr?.role !== 'logical');
  return gaps(layout.firstUsableLba, layout.lastUsableLba, outer);
}
