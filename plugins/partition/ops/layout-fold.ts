// Folds pending operations over a Layout: the pure heart of preview, undo/redo and apply. Invalid steps throw, naming the step.
import { ShadowError } from '../../../sdk/index.js';
import { endLba, freezeLayout, type DiskGeometry, type Layout, type LayoutPartition } from '../table/layout.js';
import { alignUp, defaultAlignSectors, extendedOf, freeRegions } from './free-space.js';
import { EXTENDED_TYPES, isHiddenMbrType, resolveMbrType, setMbrHidden } from './mbr-types.js';
import type { Operation, PartitionFlag } from './operation.js';
import { convertTable } from '../convert/table-convert.js';
import { setRole } from '../convert/role-convert.js';

export interface FoldOptions {
  /** Alias or GUID → canonical lower-case type GUID. */
  resolveGptType: (type: string) => string;
  /** Default: 1 MiB in sectors. */
  alignSectors?: number;
}

const MBR_MAX = 0xffffffff;
const GPT_BITS: Readonly<Record<Exclude<PartitionFlag, 'boot'>, bigint>> = { required: 0n, 'legacy-boot': 2n, hidden: 62n, 'no-automount': 63n };

export function foldPlan(base: Layout | null, operations: readonly Operation[], geometry: DiskGeometry, options: FoldOptions): Layout | null {
  let layout = base;
  operations.forEach((operation, index) => {
    try {
      layout = foldOperation(layout, operation, geometry, options);
    } catch (error) {
      const e = ShadowError.from(error, 'INVALID_ARGUMENT');
      throw new ShadowError(e.code, `Step ${index + 1} of the plan cannot be applied: ${e.message}`, { cause: error });
    }
  });
  return layout;
}

export function foldOperation(layout: Layout | null, operation: Operation, geometry: DiskGeometry, options: FoldOptions): Layout {
  if (operation.op === 'create-table') return emptyLayout(operation.table, geometry, operation.diskId ?? '');
  if (!layout) throw new ShadowError('INVALID_ARGUMENT', 'The disk has no partition table; create one first (part create-table mbr|gpt)');
  switch (operation.op) {
    case 'create': return createPartition(layout, operation, options);
    case 'delete': return deletePartition(layout, operation.number);
    case 'move': return movePartition(layout, operation, options);
    case 'resize': return resizePartition(layout, operation);
    case 'convert-table': return convertTable(layout, operation, geometry);
    case 'set-role': return setRole(layout, operation);
    case 'copy': return copyPartition(layout, operation, options);
    case 'format': case 'set-label': partitionOf(layout, operation.number); return layout;
    default: return editPartition(layout, operation, options);
  }
}

export function emptyLayout(table: 'mbr' | 'gpt', geometry: DiskGeometry, diskId: string): Layout {
  if (table === 'mbr') {
    return freezeLayout({ table, geometry: { ...geometry }, diskId, firstUsableLba: 1, lastUsableLba: Math.min(geometry.sectorCount - 1, MBR_MAX), partitions: [] });
  }
  const entrySectors = Math.ceil((128 * 128) / geometry.sectorSize);
  return freezeLayout({
    table, geometry: { ...geometry }, diskId, firstUsableLba: 2 + entrySectors, lastUsableLba: geometry.sectorCount - 2 - entrySectors, partitionSlots: 128, partitions: [],
  });
}

function withPartitions(layout: Layout, partitions: LayoutPartition[]): Layout {
  return freezeLayout({ ...layout, geometry: { ...layout.geometry }, partitions: partitions.sort((a, b) => a.number - b.number) });
}

function partitionOf(layout: Layout, number: number): LayoutPartition {
  const found = layout.partitions.find((p) => p.number === number);
  if (!found) throw new ShadowError('NOT_FOUND', `There is no partition ${number}; the disk has ${layout.partitions.map((p) => p.number).join(', ') || 'none'}`);
  return found;
}

function createPartition(layout: Layout, op: Extract<Operation, { op: 'create' }>, options: FoldOptions): Layout {
  const align = options.alignSectors ?? defaultAlignSectors(layout.geometry.sectorSize);
  const role = layout.table === 'gpt' ? 'gpt' : (op.role ?? 'primary');
  if (layout.table === 'gpt' && op.role) throw new ShadowError('INVALID_ARGUMENT', `GPT has no ${op.role} partitions; leave out --role`);
  const number = nextNumber(layout, role);
  const regions = freeRegions(layout, role);
  const start = op.startLba ?? regions.map((r) => ({ r, s: alignUp(r.startLba, align) })).find(({ r, s }) => s <= r.endLba)?.s;
  if (start === undefined) throw new ShadowError('SIZE_MISMATCH', `No free space is left for a ${role === 'gpt' ? '' : `${role} `}partition`);
  if (start % align !== 0) throw new ShadowError('INVALID_ARGUMENT', `Start sector ${start} is not aligned to ${align} sectors (1 MiB); use ${alignUp(start, align)}`);
  const region = regions.find((r) => r.startLba <= start && start <= r.endLba);
  if (!region) throw new ShadowError('INVALID_ARGUMENT', `Start sector ${start} is not in free space${role === 'logical' ? ' inside the extended partition (the sector before a logical holds its EBR)' : ''}; free regions: ${regions.map((r) => `${r.startLba}–${r.endLba}`).join(', ') || 'none'}`);
  const sizeSectors = op.sizeSectors ?? region.endLba - start + 1;
  if (!Number.isInteger(sizeSectors) || sizeSectors < 1) throw new ShadowError('INVALID_ARGUMENT', `Size ${String(op.sizeSectors)} sectors is not a positive whole number`);
  if (start + sizeSectors - 1 > region.endLba) {
    throw new ShadowError('SIZE_MISMATCH', `A partition of ${sizeSectors} sectors at ${start} would end at ${start + sizeSectors - 1}, past the free region ending at ${region.endLba}`);
  }
  if (layout.table === 'gpt') {
    const gpt = { typeGuid: options.resolveGptType(op.type ?? 'linux'), uuid: requireUuid(op.uuid), name: op.name ?? '', attributes: 0n };
    return withPartitions(layout, [...layout.partitions, { number, startLba: start, sizeSectors, gpt }]);
  }
  if (op.name) throw new ShadowError('INVALID_ARGUMENT', 'MBR partitions have no names; use a GPT disk or a filesystem label');
  if (start > MBR_MAX || sizeSectors > MBR_MAX) throw new ShadowError('SIZE_MISMATCH', `MBR cannot address sector ${start + sizeSectors - 1}: starts and sizes must fit in 32 bits; use GPT`);
  const type = role === 'extended' ? resolveMbrType(op.type ?? 'extended') : resolveMbrType(op.type ?? 'linux');
  if (role === 'extended' && !EXTENDED_TYPES.has(type)) throw new ShadowError('INVALID_ARGUMENT', `An extended partition needs type 0x05, 0x0f or 0x85, not '${op.type}'`);
  if (role !== 'extended' && EXTENDED_TYPES.has(type)) throw new ShadowError('INVALID_ARGUMENT', `Type '${op.type}' is an extended type; create it with --role extended`);
  return withPartitions(layout, [...layout.partitions, { number, startLba: start, sizeSectors, mbr: { role: role as 'primary' | 'extended' | 'logical', type, bootable: false } }]);
}

function requireUuid(uuid: string | undefined): string {
  if (!uuid || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) {
    throw new ShadowError('INVALID_ARGUMENT', `A GPT partition needs a UUID like 0fc63daf-8483-4772-8e79-3d69d8477de4, got '${String(uuid)}'`);
  }
  return uuid;
}

function nextNumber(layout: Layout, role: 'primary' | 'extended' | 'logical' | 'gpt'): number {
  const used = new Set(layout.partitions.map((p) => p.number));
  if (role === 'logical') {
    if (!extendedOf(layout)) throw new ShadowError('INVALID_ARGUMENT', 'A logical partition needs an extended partition; create one with --role extended first');
    return Math.max(4, ...[...used].filter((n) => n > 4)) + 1;
  }
  if (role === 'extended' && extendedOf(layout)) throw new ShadowError('INVALID_ARGUMENT', `The disk already has extended partition ${extendedOf(layout)!.number}; MBR allows one`);
  const slots = role === 'gpt' ? (layout.partitionSlots ?? 128) : 4;
  for (let n = 1; n <= slots; n++) if (!used.has(n)) return n;
  throw new ShadowError('SIZE_MISMATCH', role === 'gpt' ? `All ${slots} GPT entry slots are in use` : 'All 4 primary slots are in use; create logical partitions inside an extended partition');
}

function deletePartition(layout: Layout, number: number): Layout {
  const target = partitionOf(layout, number);
  if (target.mbr?.role === 'extended' && layout.partitions.some((p) => p.mbr?.role === 'logical')) {
    throw new ShadowError('INVALID_ARGUMENT', `Extended partition ${number} still holds logical partitions; delete them first`);
  }
  // Linux numbers logicals by their place in the EBR chain, so the ones after a deleted logical move up by one.
  const renumber = (p: LayoutPartition): LayoutPartition => (target.mbr?.role === 'logical' && p.number > number ? { ...p, number: p.number - 1 } : p);
  return withPartitions(layout, layout.partitions.filter((p) => p !== target).map(renumber));
}

function editPartition(layout: Layout, op: Exclude<Operation, { op: 'create-table' | 'create' | 'delete' | 'move' | 'resize' | 'convert-table' | 'set-role' | 'copy' | 'format' | 'set-label' }>, options: FoldOptions): Layout {
  const target = partitionOf(layout, op.number);
  const replace = (next: LayoutPartition, others: (p: LayoutPartition) => LayoutPartition = (p) => p) =>
    withPartitions(layout, layout.partitions.map((p) => (p === target ? next : others(p))));
  if (target.gpt) {
    const gpt = target.gpt;
    switch (op.op) {
      case 'set-type': return replace({ ...target, gpt: { ...gpt, typeGuid: options.resolveGptType(op.type) } });
      case 'set-name':
        if ([...op.name].reduce((units, ch) => units + (ch.codePointAt(0)! > 0xffff ? 2 : 1), 0) > 36) throw new ShadowError('INVALID_ARGUMENT', `GPT names hold 36 UTF-16 code units; '${op.name}' is longer`);
        return replace({ ...target, gpt: { ...gpt, name: op.name } });
      case 'set-uuid': return replace({ ...target, gpt: { ...gpt, uuid: requireUuid(op.uuid.toLowerCase()) } });
      case 'set-attributes': return replace({ ...target, gpt: { ...gpt, attributes: parseAttributes(op.attributes) } });
      case 'set-flag': {
        if (op.flag === 'boot') throw new ShadowError('INVALID_ARGUMENT', "GPT has no boot flag; set the type to 'esp' for UEFI, or the legacy-boot flag for BIOS");
        const bit = 1n << GPT_BITS[op.flag];
        return replace({ ...target, gpt: { ...gpt, attributes: op.on ? gpt.attributes | bit : gpt.attributes & ~bit } });
      }
    }
  }
  const mbr = target.mbr!;
  switch (op.op) {
    case 'set-type': {
      const type = resolveMbrType(op.type);
      if (EXTENDED_TYPES.has(type) !== (mbr.role === 'extended')) throw new ShadowError('INVALID_ARGUMENT', `Partition ${op.number} is ${mbr.role}; type '${op.type}' does not fit it`);
      return replace({ ...target, mbr: { ...mbr, type } });
    }
    case 'set-flag':
      if (op.flag === 'boot') {
        // One active partition, as the standard MBR boot code expects.
        return replace({ ...target, mbr: { ...mbr, bootable: op.on } }, (p) => (op.on && p.mbr?.bootable ? { ...p, mbr: { ...p.mbr, bootable: false } } : p));
      }
      if (op.flag === 'hidden') return isHiddenMbrType(mbr.type) === op.on ? layout : replace({ ...target, mbr: { ...mbr, type: setMbrHidden(mbr.type, op.on) } });
      throw new ShadowError('INVALID_ARGUMENT', `MBR partitions have no ${op.flag} flag; it exists on GPT only`);
    default:
      throw new ShadowError('INVALID_ARGUMENT', `MBR partitions have no ${op.op === 'set-name' ? 'names' : op.op === 'set-uuid' ? 'UUIDs' : 'attributes'}; use a GPT disk`);
  }
}

/** A new partition of the same size and type as partition `number`, at `startLba` (logical when inside the extended partition). */
function copyPartition(layout: Layout, op: Extract<Operation, { op: 'copy' }>, options: FoldOptions): Layout {
  const extended = extendedOf(layout);
  const role: 'logical' | 'primary' | undefined = layout.table === 'gpt' ? undefined : extended && extended.startLba < op.startLba && op.startLba <= endLba(extended) ? 'logical' : 'primary';
  const place = { op: 'create', startLba: op.startLba, ...(role ? { role } : {}), ...(layout.table === 'gpt' && op.uuid ? { uuid: op.uuid } : {}) } as const;
  if (op.from) {
    if (op.from.sectorSize !== layout.geometry.sectorSize) {
      throw new ShadowError('UNSUPPORTED', `${op.from.disk} has ${op.from.sectorSize}-byte sectors and this disk ${layout.geometry.sectorSize}-byte ones; a filesystem copied between them may not read right. Copy it with 'image backup' and 'image restore' instead`);
    }
    return createPartition(layout, { ...place, sizeSectors: op.from.sizeSectors, type: op.from.type, ...(op.from.name !== undefined ? { name: op.from.name } : {}) }, options);
  }
  const source = partitionOf(layout, op.number);
  if (source.mbr?.role === 'extended') throw new ShadowError('UNSUPPORTED', `Partition ${op.number} is an extended partition; copy its logical partitions one by one`);
  return createPartition(layout, {
    ...place, sizeSectors: source.sizeSectors,
    type: source.gpt ? source.gpt.typeGuid : `0x${source.mbr!.type.toString(16)}`,
    ...(source.gpt ? { name: source.gpt.name } : {}),
  }, options);
}

/** The same partition with another size, its end in free space (for a logical, before the next EBR's sector). */
function resizePartition(layout: Layout, op: Extract<Operation, { op: 'resize' }>): Layout {
  const target = partitionOf(layout, op.number);
  if (target.mbr?.role === 'extended') throw new ShadowError('UNSUPPORTED', `Partition ${op.number} is an extended partition; resizing it is not supported yet`);
  if (!Number.isInteger(op.sizeSectors) || op.sizeSectors < 1) throw new ShadowError('INVALID_ARGUMENT', `Size ${String(op.sizeSectors)} sectors is not a positive whole number`);
  if (op.sizeSectors === target.sizeSectors) throw new ShadowError('INVALID_ARGUMENT', `Partition ${op.number} already has ${op.sizeSectors} sectors`);
  const role = target.mbr?.role ?? 'gpt';
  const others = withPartitions(layout, layout.partitions.filter((p) => p !== target));
  const end = target.startLba + op.sizeSectors - 1;
  // The region holding the partition's start; a logical's region begins one sector late (its EBR), so look from there.
  const region = freeRegions(others, role).find((r) => r.startLba <= target.startLba && target.startLba <= r.endLba);
  if (!region || end > region.endLba) {
    throw new ShadowError('SIZE_MISMATCH', `Partition ${op.number} cannot end at sector ${end}: the free space after its start ends at ${region?.endLba ?? target.startLba - 1} (${region ? region.endLba - target.startLba + 1 : 0} sectors at most)`);
  }
  if (layout.table === 'mbr' && end > MBR_MAX) throw new ShadowError('SIZE_MISMATCH', `MBR cannot address sector ${end}; use GPT`);
  return withPartitions(layout, layout.partitions.map((p) => (p === target ? { ...p, sizeSectors: op.sizeSectors } : p)));
}

/** The same partition at another start: into free space (for a logical, inside the extended partition with room for its EBR), order of logicals kept. */
function movePartition(layout: Layout, op: Extract<Operation, { op: 'move' }>, options: FoldOptions): Layout {
  const target = partitionOf(layout, op.number);
  if (target.mbr?.role === 'extended') throw new ShadowError('UNSUPPORTED', `Partition ${op.number} is an extended partition; move its logical partitions one by one instead`);
  const align = options.alignSectors ?? defaultAlignSectors(layout.geometry.sectorSize);
  const start = op.startLba;
  if (!Number.isInteger(start) || start < 0) throw new ShadowError('INVALID_ARGUMENT', `Start sector ${String(start)} is not a whole number`);
  if (start === target.startLba) throw new ShadowError('INVALID_ARGUMENT', `Partition ${op.number} already starts at sector ${start}`);
  if (start % align !== 0) throw new ShadowError('INVALID_ARGUMENT', `Start sector ${start} is not aligned to ${align} sectors (1 MiB); use ${alignUp(start, align)}`);
  if (op.stepBytes !== undefined && (!Number.isInteger(op.stepBytes) || op.stepBytes < 4096 || op.stepBytes % 4096 !== 0 || op.stepBytes > 1024 * 1024 * 1024)) {
    throw new ShadowError('INVALID_ARGUMENT', `A copy step must be a multiple of 4 KiB between 4 KiB and 1 GiB, got ${String(op.stepBytes)} bytes`);
  }
  const role = target.mbr?.role ?? 'gpt';
  const others = withPartitions(layout, layout.partitions.filter((p) => p !== target));
  const end = start + target.sizeSectors - 1;
  const regions = freeRegions(others, role);
  if (!regions.some((r) => r.startLba <= start && end <= r.endLba)) {
    throw new ShadowError('SIZE_MISMATCH', `Partition ${op.number} (${target.sizeSectors} sectors) does not fit at ${start}–${end}; free ${role === 'logical' ? 'space in the extended partition (after each EBR sector)' : 'space'} around it: ${regions.map((r) => `${r.startLba}–${r.endLba}`).join(', ') || 'none'}`);
  }
  if (layout.table === 'mbr' && end > MBR_MAX) throw new ShadowError('SIZE_MISMATCH', `MBR cannot address sector ${end}; use GPT`);
  const moved = { ...target, startLba: start };
  if (role === 'logical') {
    const order = (l: Layout) => l.partitions.filter((p) => p.mbr?.role === 'logical').sort((a, b) => a.startLba - b.startLba).map((p) => p.number).join(',');
    const after = withPartitions(layout, layout.partitions.map((p) => (p === target ? moved : p)));
    if (order(after) !== order(layout)) throw new ShadowError('UNSUPPORTED', `Moving logical partition ${op.number} past another logical would renumber them; move it within its own free space`);
    return after;
  }
  return withPartitions(layout, layout.partitions.map((p) => (p === target ? moved : p)));
}

function parseAttributes(text: string): bigint {
  if (!/^(0x[0-9a-f]{1,16}|\d+)$/i.test(text)) throw new ShadowError('INVALID_ARGUMENT', `Attributes must be a 64-bit number like 0x8000000000000000, got '${text}'`);
  return BigInt(text);
}

export { endLba };
