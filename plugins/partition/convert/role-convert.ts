// MBR primary ↔ logical without moving data: the extended partition grows over a primary next to it (which needs a
// free sector before it for its EBR), or shrinks off its first or last logical (which needs a free primary slot).
// Logicals are numbered by chain order (5, 6, ...), so numbers shift as Linux would number them.
import { ShadowError } from '../../../sdk/index.js';
import { endLba, freezeLayout, type Layout, type LayoutPartition } from '../table/layout.js';

export interface SetRoleOp {
  op: 'set-role';
  number: number;
  role: 'primary' | 'logical';
}

const isLogical = (p: LayoutPartition) => p.mbr?.role === 'logical';

function renumbered(layout: Layout, partitions: LayoutPartition[]): Layout {
  const logicals = partitions.filter(isLogical).sort((a, b) => a.startLba - b.startLba).map((p, i) => ({ ...p, number: 5 + i }));
  const rest = partitions.filter((p) => !isLogical(p));
  return freezeLayout({ ...layout, geometry: { ...layout.geometry }, partitions: [...rest, ...logicals].sort((a, b) => a.number - b.number) });
}

/** Whether any partition (other than `except`) covers `lba`. */
function taken(layout: Layout, lba: number, except: LayoutPartition[]): boolean {
  return lba < layout.firstUsableLba || layout.partitions.some((p) => !except.includes(p) && p.mbr?.role !== 'extended' && p.startLba <= lba && lba <= endLba(p));
}

export function setRole(layout: Layout, op: SetRoleOp): Layout {
  if (layout.table !== 'mbr') throw new ShadowError('INVALID_ARGUMENT', 'Only MBR partitions are primary or logical; this disk has GPT');
  const target = layout.partitions.find((p) => p.number === op.number);
  if (!target) throw new ShadowError('NOT_FOUND', `There is no partition ${op.number}`);
  if (target.mbr!.role === op.role) throw new ShadowError('INVALID_ARGUMENT', `Partition ${op.number} is already ${op.role}`);
  if (target.mbr!.role === 'extended') throw new ShadowError('INVALID_ARGUMENT', `Partition ${op.number} is the extended partition; it holds the logicals and has no other role`);
  const extended = layout.partitions.find((p) => p.mbr?.role === 'extended');
  const logicals = layout.partitions.filter(isLogical).sort((a, b) => a.startLba - b.startLba);
  return op.role === 'logical' ? toLogical(layout, target, extended, logicals) : toPrimary(layout, target, extended!, logicals);
}

function toLogical(layout: Layout, target: LayoutPartition, extended: LayoutPartition | undefined, logicals: LayoutPartition[]): Layout {
  const ebr = target.startLba - 1;
  if (taken(layout, ebr, [])) {
    throw new ShadowError('SIZE_MISMATCH', `Partition ${target.number} starts at sector ${target.startLba} and sector ${ebr} before it is not free; a logical needs that sector for its EBR. Move it one sector (or 1 MiB) later first`);
  }
  const logical: LayoutPartition = { ...target, mbr: { ...target.mbr!, role: 'logical' } };
  const others = layout.partitions.filter((p) => p !== target && p !== extended);
  if (!extended) {
    const created: LayoutPartition = { number: target.number, startLba: ebr, sizeSectors: target.sizeSectors + 1, mbr: { role: 'extended', type: 0x05, bootable: false } };
    return renumbered(layout, [...others, created, logical]);
  }
  // The extended grows over the primary: nothing else may lie between them.
  const before = endLba(target) < extended.startLba;
  const [gapFrom, gapTo] = before ? [endLba(target) + 1, extended.startLba - 1] : [endLba(extended) + 1, ebr - 1];
  if (!before && target.startLba <= endLba(extended)) throw new ShadowError('INTERNAL', `Primary partition ${target.number} lies inside the extended partition`);
  const between = layout.partitions.find((p) => p !== target && p !== extended && p.startLba <= gapTo && endLba(p) >= gapFrom);
  if (between) throw new ShadowError('SIZE_MISMATCH', `Partition ${between.number} lies between partition ${target.number} and the extended partition ${extended.number}; only a primary next to the extended partition can become logical`);
  if (!before && logicals.length > 0 && ebr <= endLba(logicals.at(-1)!)) throw new ShadowError('SIZE_MISMATCH', `No free sector for the EBR of partition ${target.number}`);
  const grown: LayoutPartition = before
    ? { ...extended, startLba: ebr, sizeSectors: endLba(extended) - ebr + 1 }
    : { ...extended, sizeSectors: endLba(target) - extended.startLba + 1 };
  return renumbered(layout, [...others, grown, logical]);
}

function toPrimary(layout: Layout, target: LayoutPartition, extended: LayoutPartition, logicals: LayoutPartition[]): Layout {
  const index = logicals.indexOf(target);
  if (index !== 0 && index !== logicals.length - 1) {
    throw new ShadowError('SIZE_MISMATCH', `Logical partition ${target.number} is in the middle of the extended partition; only the first or last logical can become primary (the extended partition must stay one piece)`);
  }
  const primary: LayoutPartition = { ...target, mbr: { ...target.mbr!, role: 'primary' } };
  const rest = logicals.filter((p) => p !== target);
  const others = layout.partitions.filter((p) => p !== extended && !isLogical(p));
  const usedSlots = new Set(others.filter((p) => !isLogical(p)).map((p) => p.number));
  if (rest.length === 0) return renumbered(layout, [...others, { ...primary, number: extended.number }]);
  const slot = [1, 2, 3, 4].find((n) => !usedSlots.has(n) && n !== extended.number);
  if (slot === undefined) throw new ShadowError('SIZE_MISMATCH', `All four primary slots are in use; partition ${target.number} cannot become primary`);
  const shrunk: LayoutPartition = index === 0
    ? { ...extended, startLba: rest[0]!.startLba - 1, sizeSectors: endLba(extended) - (rest[0]!.startLba - 1) + 1 }
    : { ...extended, sizeSectors: endLba(rest.at(-1)!) - extended.startLba + 1 };
  if (index === 0 && shrunk.startLba <= endLba(target)) throw new ShadowError('SIZE_MISMATCH', `No free sector between partition ${target.number} and the next logical for the extended partition to start on`);
  return renumbered(layout, [...others, shrunk, ...rest, { ...primary, number: slot }]);
}
