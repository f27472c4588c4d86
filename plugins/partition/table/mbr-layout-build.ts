// Builds the MBR structures for a (possibly changed) Layout, keeping the raw bytes of everything that did not change.
import { ShadowError } from '../../../sdk/index.js';
import { chsBytes } from './chs.js';
import { canKeepEbr, compactEbrs, placeEbr } from './ebr-placement.js';
import { logicalPartitions, MBR_EXTENDED_TYPES, type Ebr, type MbrDisk } from './mbr-disk.js';
import { ACTIVE_STATUS, MBR_MAX_LBA } from './mbr-layout.js';
import { BOOT_CODE_SIZE, EMPTY_ENTRY, type MbrEntry, type MbrSector } from './mbr-sector.js';
import { endLba, type Layout, type LayoutPartition } from './layout.js';

/** The link type libfdisk (and parted) write in EBRs. */
const LINK_TYPE = 0x05;

/**
 * The MbrDisk for `layout`. With `base` (the disk as read), LBA 0's boot code and reserved bytes, and every entry and
 * EBR whose partition did not change, keep their raw bytes (CHS, status, EBR boot areas); new or changed entries get
 * CHS by the policy in chs.ts and new EBRs go where libfdisk puts them (ebr-placement.ts).
 */
export function layoutToMbrDisk(layout: Layout, base?: MbrDisk): MbrDisk {
  if (layout.table !== 'mbr') throw new ShadowError('INVALID_ARGUMENT', `Cannot build an MBR from a '${layout.table}' layout; convert it to MBR first`);
  const sectorSize = layout.geometry.sectorSize;
  if (base && base.sectorSize !== sectorSize) throw new ShadowError('SIZE_MISMATCH', `The base table has ${base.sectorSize}-byte sectors but the layout has ${sectorSize}-byte sectors; build without a base`);
  const parts = layout.partitions.map(checkPartition);
  const primaries = parts.filter((p) => p.mbr.role !== 'logical');
  const logicals = parts.filter((p) => p.mbr.role === 'logical').sort((a, b) => a.number - b.number);
  const extended = primaries.filter((p) => p.mbr.role === 'extended');
  if (extended.length > 1) throw new ShadowError('INVALID_ARGUMENT', `The layout has ${extended.length} extended partitions (${extended.map((p) => p.number).join(', ')}); MBR allows one`);
  if (logicals.length > 0 && extended.length === 0) throw new ShadowError('INVALID_ARGUMENT', `Logical partition ${logicals[0]!.number} needs an extended partition; add one`);
  const entries = [EMPTY_ENTRY, EMPTY_ENTRY, EMPTY_ENTRY, EMPTY_ENTRY] as MbrEntry[];
  for (const p of primaries) {
    if (p.number < 1 || p.number > 4) throw new ShadowError('INVALID_ARGUMENT', `Primary partition number ${p.number} is not a slot 1–4; renumber it`);
    if (entries[p.number - 1] !== EMPTY_ENTRY) throw new ShadowError('INVALID_ARGUMENT', `Two partitions have number ${p.number}; renumber one`);
    entries[p.number - 1] = entryFor(p.startLba, p, base?.mbr.entries[p.number - 1], p.startLba);
  }
  const mbr: MbrSector = {
    bootCode: base?.mbr.bootCode ?? new Uint8Array(BOOT_CODE_SIZE),
    diskSignature: parseDiskId(layout.diskId),
    reserved: base?.mbr.reserved ?? 0,
    entries: entries as unknown as MbrSector['entries'],
  };
  const ebrs = extended[0] ? buildChain(extended[0], logicals, sectorSize, base, primaries.map((p) => p.startLba)) : [];
  return { sectorSize, mbr, ...(base?.mbrRaw ? { mbrRaw: base.mbrRaw } : {}), ebrs };
}

type MbrPartition = LayoutPartition & { readonly mbr: NonNullable<LayoutPartition['mbr']> };

function checkPartition(p: LayoutPartition): MbrPartition {
  if (!p.mbr) throw new ShadowError('INVALID_ARGUMENT', `Partition ${p.number} has no MBR role and type; give it one`);
  if (p.sizeSectors < 1) throw new ShadowError('INVALID_ARGUMENT', `Partition ${p.number} has size ${p.sizeSectors}; expected at least 1 sector`);
  if (p.startLba < 1 || endLba(p) > MBR_MAX_LBA) throw new ShadowError('SIZE_MISMATCH', `Partition ${p.number} spans sectors ${p.startLba}–${endLba(p)}; MBR addresses sectors 1–${MBR_MAX_LBA}; use GPT`);
  if (MBR_EXTENDED_TYPES.has(p.mbr.type) !== (p.mbr.role === 'extended')) throw new ShadowError('INVALID_ARGUMENT', `Partition ${p.number} is ${p.mbr.role} but has type 0x${p.mbr.type.toString(16)}; extended partitions, and only they, take type 0x05, 0x0f or 0x85`);
  return p as MbrPartition;
}

/** An entry at `relativeStart` for the partition; the base entry's raw bytes survive when nothing about it changed. */
function entryFor(relativeStart: number, p: Pick<MbrPartition, 'startLba' | 'sizeSectors' | 'mbr'>, baseEntry: MbrEntry | undefined, absoluteStart: number): MbrEntry {
  const status = p.mbr.bootable ? ACTIVE_STATUS : 0;
  const same = baseEntry && baseEntry.firstLba === relativeStart && baseEntry.sectors === p.sizeSectors;
  return {
    status: same && (baseEntry.status === ACTIVE_STATUS) === p.mbr.bootable ? baseEntry.status : status,
    chsFirst: same ? baseEntry.chsFirst : chsBytes(absoluteStart),
    type: p.mbr.type,
    chsLast: same ? baseEntry.chsLast : chsBytes(absoluteStart + p.sizeSectors - 1),
    firstLba: relativeStart,
    sectors: p.sizeSectors,
  };
}

function buildChain(extended: MbrPartition, logicals: readonly MbrPartition[], sectorSize: number, base: MbrDisk | undefined, primaryStarts: readonly number[]): Ebr[] {
  const extStart = extended.startLba;
  const compact = compactEbrs(sectorSize, primaryStarts, extStart, logicals[0]?.startLba);
  const baseByStart = new Map(base ? logicalPartitions(base).map((l) => [l.startLba, l.ebr] as const) : []);
  const baseByLba = new Map(base ? base.ebrs.map((e) => [e.lba, e] as const) : []);
  const lbas: number[] = [];
  let previousEnd = extStart;
  logicals.forEach((p, i) => {
    if (p.startLba <= extStart || endLba(p) > endLba(extended)) throw new ShadowError('INVALID_ARGUMENT', `Logical partition ${p.number} (sectors ${p.startLba}–${endLba(p)}) must lie inside extended partition ${extended.number} (sectors ${extStart + 1}–${endLba(extended)})`);
    const kept = baseByStart.get(p.startLba)?.lba;
    lbas.push(kept !== undefined && canKeepEbr(kept, i, p.startLba, previousEnd, extStart) ? kept : placeEbr({ extendedStart: extStart, sectorSize, compact }, i, p.startLba, previousEnd));
    previousEnd = endLba(p);
  });
  if (logicals.length === 0) return [ebrFor(extStart, EMPTY_ENTRY, EMPTY_ENTRY, baseByLba.get(extStart))];
  return logicals.map((p, i) => {
    const lba = lbas[i]!;
    const baseEbr = baseByStart.get(p.startLba) ?? baseByLba.get(lba);
    const baseSame = baseEbr?.lba === lba ? baseEbr : undefined;
    const entry = entryFor(p.startLba - lba, p, baseSame?.record.entries[0], p.startLba);
    const next = logicals[i + 1];
    const link = next ? linkEntry(lbas[i + 1]!, endLba(next), extStart, baseSame?.record.entries[1]) : EMPTY_ENTRY;
    return ebrFor(lba, entry, link, baseEbr);
  });
}

function linkEntry(nextEbr: number, nextEnd: number, extStart: number, baseLink: MbrEntry | undefined): MbrEntry {
  const firstLba = nextEbr - extStart;
  const sectors = nextEnd - nextEbr + 1;
  if (baseLink && baseLink.firstLba === firstLba && baseLink.sectors === sectors) return baseLink;
  return { status: 0, chsFirst: chsBytes(nextEbr), type: LINK_TYPE, chsLast: chsBytes(nextEnd), firstLba, sectors };
}

function ebrFor(lba: number, entry: MbrEntry, link: MbrEntry, baseEbr: Ebr | undefined): Ebr {
  const bootCode = baseEbr?.record.bootCode ?? new Uint8Array(BOOT_CODE_SIZE);
  const record: MbrSector = { bootCode, diskSignature: baseEbr?.record.diskSignature ?? 0, reserved: baseEbr?.record.reserved ?? 0, entries: [entry, link, EMPTY_ENTRY, EMPTY_ENTRY] };
  return { lba, record, ...(baseEbr?.raw ? { raw: baseEbr.raw } : {}) };
}

function parseDiskId(diskId: string): number {
  const m = /^(0x)?([0-9a-f]{1,8})$/i.exec(diskId);
  if (!m) throw new ShadowError('INVALID_ARGUMENT', `MBR disk id '${diskId}' is not a 32-bit hex number; expected e.g. 0x1a2b3c4d`);
  return parseInt(m[2]!, 16);
}
