// MBR → GPT and GPT → MBR, keeping every partition's start, size and type (and boot flag as legacy-boot), or refusing
// with a named error when the other table cannot hold the layout: no room for GPT's arrays, sectors past 32 bits,
// a type the other table has no id for, more than four partitions without a free sector for each EBR.
import { ShadowError } from '../../../sdk/index.js';
import { emptyLayout } from '../ops/layout-fold.js';
import { EXTENDED_TYPES } from '../ops/mbr-types.js';
import { freezeLayout, endLba, type DiskGeometry, type Layout, type LayoutPartition } from '../table/layout.js';
import { GPT_TYPES } from '../table/gpt-types.js';

export interface ConvertTableOp {
  op: 'convert-table';
  table: 'mbr' | 'gpt';
  /** Chosen when queued, so the preview is what apply writes: the new disk id, and GPT partition UUIDs by number. */
  diskId: string;
  uuids?: Record<string, string>;
  /** GPT → MBR: drop partition names (MBR has none) instead of refusing. */
  dropNames?: boolean;
}

const MBR_TO_GPT: Readonly<Record<number, string>> = {
  0x83: 'linux', 0x82: 'swap', 0x8e: 'lvm', 0xfd: 'raid', 0xef: 'esp',
  0x07: 'msdata', 0x17: 'msdata', 0x0b: 'msdata', 0x1b: 'msdata', 0x0c: 'msdata', 0x1c: 'msdata', 0x0e: 'msdata', 0x1e: 'msdata', 0x06: 'msdata', 0x16: 'msdata', 0x01: 'msdata', 0x11: 'msdata', 0x04: 'msdata', 0x14: 'msdata',
};
const GPT_TO_MBR: Readonly<Record<string, number>> = { linux: 0x83, swap: 0x82, lvm: 0x8e, raid: 0xfd, esp: 0xef, msdata: 0x07 };
const LEGACY_BOOT = 1n << 2n;
const MS_HIDDEN = 1n << 62n;
const MBR_MAX = 0xffffffff;
const hex = (id: number) => `0x${id.toString(16).padStart(2, '0')}`;

export function convertTable(layout: Layout, op: ConvertTableOp, geometry: DiskGeometry): Layout {
  if (layout.table === op.table) throw new ShadowError('INVALID_ARGUMENT', `The disk already has ${op.table.toUpperCase()}`);
  return op.table === 'gpt' ? mbrToGpt(layout, op, geometry) : gptToMbr(layout, op, geometry);
}

function mbrToGpt(layout: Layout, op: ConvertTableOp, geometry: DiskGeometry): Layout {
  const empty = emptyLayout('gpt', geometry, op.diskId);
  const partitions: LayoutPartition[] = [];
  for (const p of layout.partitions) {
    if (EXTENDED_TYPES.has(p.mbr!.type)) continue;
    if (p.startLba < empty.firstUsableLba || endLba(p) > empty.lastUsableLba) {
      throw new ShadowError('SIZE_MISMATCH', `Partition ${p.number} (sectors ${p.startLba}–${endLba(p)}) overlaps where GPT keeps its headers and entry arrays (usable ${empty.firstUsableLba}–${empty.lastUsableLba}); move it first. Nothing was written`);
    }
    const alias = MBR_TO_GPT[p.mbr!.type];
    if (!alias) throw new ShadowError('UNSUPPORTED', `Partition ${p.number} has MBR type ${hex(p.mbr!.type)}, which has no GPT type here; set its type to one that has (linux, swap, lvm, raid, esp, msdata) first. Nothing was written`);
    const uuid = op.uuids?.[String(p.number)];
    if (!uuid) throw new ShadowError('INTERNAL', `The conversion step has no UUID for partition ${p.number}; queue it again`);
    const attributes = (p.mbr!.bootable ? LEGACY_BOOT : 0n) | ((p.mbr!.type & 0x10) !== 0 && alias === 'msdata' ? MS_HIDDEN : 0n);
    partitions.push({ number: p.number, startLba: p.startLba, sizeSectors: p.sizeSectors, gpt: { typeGuid: GPT_TYPES[alias]!.guid, uuid, name: '', attributes } });
  }
  return freezeLayout({ ...empty, partitions });
}

function mbrType(p: LayoutPartition): number {
  const alias = Object.keys(GPT_TO_MBR).find((a) => GPT_TYPES[a]!.guid === p.gpt!.typeGuid);
  if (!alias) throw new ShadowError('UNSUPPORTED', `Partition ${p.number} has GPT type ${p.gpt!.typeGuid}, which has no MBR id here; set its type to linux, swap, lvm, raid, esp or msdata first. Nothing was written`);
  return GPT_TO_MBR[alias]! | ((p.gpt!.attributes & MS_HIDDEN) !== 0n && alias === 'msdata' ? 0x10 : 0);
}

/** Partition `p`'s type as a `table` names it (a GUID or an MBR id like '0x83'): for a copy onto a disk with that table. */
export function typeForTable(p: LayoutPartition, table: 'mbr' | 'gpt'): string {
  if (p.gpt) return table === 'gpt' ? p.gpt.typeGuid : hex(mbrType(p));
  if (table === 'mbr') return hex(p.mbr!.type);
  const alias = MBR_TO_GPT[p.mbr!.type];
  if (!alias) throw new ShadowError('UNSUPPORTED', `Partition ${p.number} has MBR type ${hex(p.mbr!.type)}, which has no GPT type here; set its type to one that has (linux, swap, lvm, raid, esp, msdata) first. Nothing was written`);
  return GPT_TYPES[alias]!.guid;
}

function gptToMbr(layout: Layout, op: ConvertTableOp, geometry: DiskGeometry): Layout {
  const empty = emptyLayout('mbr', geometry, op.diskId);
  const sorted = [...layout.partitions].sort((a, b) => a.startLba - b.startLba);
  for (const p of sorted) {
    if (endLba(p) > MBR_MAX) throw new ShadowError('SIZE_MISMATCH', `Partition ${p.number} ends at sector ${endLba(p)}; MBR addresses sectors up to ${MBR_MAX} only. Nothing was written`);
    if (p.gpt!.name && !op.dropNames) throw new ShadowError('UNSUPPORTED', `Partition ${p.number} is named '${p.gpt!.name}' and MBR has no names; rename it to '' or convert with --drop-names. Nothing was written`);
  }
  // Up to four: all primary. More: three primaries, then an extended from the sector before the fourth, one EBR each.
  const primaries = sorted.length <= 4 ? sorted : sorted.slice(0, 3);
  const logicals = sorted.length <= 4 ? [] : sorted.slice(3);
  const out: LayoutPartition[] = primaries.map((p, i) => ({ number: i + 1, startLba: p.startLba, sizeSectors: p.sizeSectors, mbr: { role: 'primary', type: mbrType(p), bootable: (p.gpt!.attributes & LEGACY_BOOT) !== 0n } }));
  if (logicals.length > 0) {
    let previousEnd = endLba(primaries.at(-1)!);
    for (const l of logicals) {
      if (l.startLba - 1 <= previousEnd) throw new ShadowError('SIZE_MISMATCH', `Partition ${l.number} would be logical but has no free sector before it for its EBR (it starts right after sector ${previousEnd}); MBR cannot hold this layout. Nothing was written`);
      previousEnd = endLba(l);
    }
    const extendedStart = logicals[0]!.startLba - 1;
    out.push({ number: 4, startLba: extendedStart, sizeSectors: endLba(logicals.at(-1)!) - extendedStart + 1, mbr: { role: 'extended', type: 0x05, bootable: false } });
    logicals.forEach((l, i) => out.push({ number: 5 + i, startLba: l.startLba, sizeSectors: l.sizeSectors, mbr: { role: 'logical', type: mbrType(l), bootable: (l.gpt!.attributes & LEGACY_BOOT) !== 0n } }));
  }
  return freezeLayout({ ...empty, partitions: out });
}
