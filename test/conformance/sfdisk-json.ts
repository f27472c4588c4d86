// sfdisk's view of a dos label as a comparable value, and a comparison of it with our Layout field by field.
import { run } from '../helpers/index.js';
import type { Layout } from '../../plugins/partition/table/layout.js';

/** A dos table as `sfdisk --json` shows it, with node names reduced to partition numbers so devices compare. */
export interface SfdiskDosTable {
  readonly id: string;
  readonly sectorSize: number;
  readonly partitions: readonly { number: number; start: number; size: number; type: string; bootable: boolean }[];
}

interface SfdiskJson {
  partitiontable: { label: string; id: string; sectorsize: number; partitions?: { node: string; start: number; size: number; type: string; bootable?: boolean }[] };
}

export async function sfdiskDosTable(target: string): Promise<SfdiskDosTable> {
  const { stdout } = await run('sfdisk', ['--json', target]);
  const table = (JSON.parse(stdout) as SfdiskJson).partitiontable;
  if (table.label !== 'dos') throw new Error(`sfdisk sees a '${table.label}' label on ${target}, expected 'dos'`);
  return {
    id: table.id,
    sectorSize: table.sectorsize,
    partitions: (table.partitions ?? []).map((p) => ({
      number: Number(/(\d+)$/.exec(p.node)?.[1] ?? NaN),
      start: p.start,
      size: p.size,
      type: p.type,
      bootable: p.bootable ?? false,
    })),
  };
}

/** Our Layout in sfdisk's terms (type as lower-case hex without leading zeros, as sfdisk prints it). */
export function layoutAsSfdisk(layout: Layout): SfdiskDosTable {
  return {
    id: layout.diskId,
    sectorSize: layout.geometry.sectorSize,
    partitions: layout.partitions.map((p) => ({ number: p.number, start: p.startLba, size: p.sizeSectors, type: p.mbr!.type.toString(16), bootable: p.mbr!.bootable })),
  };
}

/** sfdisk lists logicals after the primaries; compare in number order. */
export function byNumber(table: SfdiskDosTable): SfdiskDosTable {
  return { ...table, partitions: [...table.partitions].sort((a, b) => a.number - b.number) };
}
