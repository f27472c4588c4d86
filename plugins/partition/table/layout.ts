// The Layout: an immutable, table-neutral value of a disk's partitioning, which operations fold over and codecs convert to and from.

export type TableKind = 'mbr' | 'gpt';

export interface DiskGeometry {
  /** Logical sector size in bytes: 512 or 4096 (also 1024, 2048). */
  readonly sectorSize: number;
  /** Total sectors of the disk. */
  readonly sectorCount: number;
}

export type MbrRole = 'primary' | 'extended' | 'logical';

export interface LayoutPartition {
  /** The number Linux and sfdisk give it: MBR 1–4 primary/extended, 5+ logical in chain order; GPT entry slot + 1. */
  readonly number: number;
  readonly startLba: number;
  readonly sizeSectors: number;
  /** MBR only. */
  readonly mbr?: { readonly role: MbrRole; readonly type: number; readonly bootable: boolean };
  /** GPT only; GUIDs lower-case canonical text, attributes as the raw 64-bit field. */
  readonly gpt?: { readonly typeGuid: string; readonly uuid: string; readonly name: string; readonly attributes: bigint };
}

export interface Layout {
  readonly table: TableKind;
  readonly geometry: DiskGeometry;
  /** MBR: disk signature as 0x-prefixed 8 hex digits; GPT: the disk GUID. */
  readonly diskId: string;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  /** GPT: the number of entry slots (128 unless the table says otherwise); MBR: absent. */
  readonly partitionSlots?: number;
  /** Sorted by number. */
  readonly partitions: readonly LayoutPartition[];
}

export function endLba(partition: Pick<LayoutPartition, 'startLba' | 'sizeSectors'>): number {
  return partition.startLba + partition.sizeSectors - 1;
}

/** Deep-freezes a layout so that no operation can change a value another one holds. */
export function freezeLayout(layout: Layout): Layout {
  for (const p of layout.partitions) {
    if (p.mbr) Object.freeze(p.mbr);
    if (p.gpt) Object.freeze(p.gpt);
    Object.freeze(p);
  }
  Object.freeze(layout.partitions);
  Object.freeze(layout.geometry);
  return Object.freeze(layout);
}
