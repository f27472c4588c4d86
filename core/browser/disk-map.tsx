// The disk map: one bar per disk, partitions drawn to scale between unallocated gaps, as GParted draws it.
import { formatBytes } from './format.js';
import { partitionColour, partitionTypeName, type LayoutPartition } from './partition-types.js';

export interface Layout {
  table: string;
  geometry: { sectorSize: number; sectorCount: number };
  partitions: LayoutPartition[];
}

export interface Segment {
  kind: 'partition' | 'free';
  startLba: number;
  sizeSectors: number;
  partition?: LayoutPartition;
}

/** Partitions and the gaps between them (gaps under 1 MiB are table space, not shown as free). */
export function segmentsOf(layout: Layout): Segment[] {
  const { sectorSize, sectorCount } = layout.geometry;
  const minGap = Math.ceil((1024 * 1024) / sectorSize);
  const primaries = layout.partitions.filter((p) => !(p.mbr?.role === 'logical')).sort((a, b) => a.startLba - b.startLba);
  const segments: Segment[] = [];
  let at = 0;
  for (const p of primaries) {
    if (p.startLba - at > minGap) segments.push({ kind: 'free', startLba: at, sizeSectors: p.startLba - at });
    segments.push({ kind: 'partition', startLba: p.startLba, sizeSectors: p.sizeSectors, partition: p });
    at = Math.max(at, p.startLba + p.sizeSectors);
  }
  if (sectorCount - at > minGap) segments.push({ kind: 'free', startLba: at, sizeSectors: sectorCount - at });
  return segments;
}

export function DiskBar({ layout, disk, selected, onSelect, details }: { layout: Layout; disk: string; selected?: number | null; onSelect?: (n: number | null) => void; details?: Record<number, { filesystem?: string | null; usedBytes?: number | null }> }) {
  const { sectorSize, sectorCount } = layout.geometry;
  return (
    <div class="diskbar" role="group" aria-label={`Disk map of ${disk}`}>
      {segmentsOf(layout).map((s) => {
        const width = `${Math.max(0.8, (s.sizeSectors / sectorCount) * 100)}%`;
        const size = formatBytes(s.sizeSectors * sectorSize);
        if (s.kind === 'free') return <div key={`f${s.startLba}`} class="segment free" style={{ flexBasis: width }} title={`unallocated ${size}`}><span class="seg-label">unallocated</span><span class="seg-size">{size}</span></div>;
        const p = s.partition!;
        const type = partitionTypeName(p);
        const fs = details?.[p.number]?.filesystem ?? null;
        const used = details?.[p.number]?.usedBytes ?? null;
        const usedFraction = used !== null ? Math.min(1, used / (p.sizeSectors * sectorSize)) : 0;
        return (
          <button key={`p${p.number}`} class={`segment part${selected === p.number ? ' selected' : ''}`} style={{ flexBasis: width, borderColor: partitionColour(fs ?? type) }}
            data-partition={p.number} data-start-lba={p.startLba} data-size-sectors={p.sizeSectors} title={`${disk} partition ${p.number}: ${fs ?? type}, ${size}`} onClick={() => onSelect?.(selected === p.number ? null : p.number)}>
            <span class="used" style={{ width: `${(usedFraction * 100).toFixed(1)}%` }} />
            <span class="seg-label">#{p.number} {fs ?? ''}</span>
            <span class="seg-size">{size}</span>
          </button>
        );
      })}
    </div>
  );
}
