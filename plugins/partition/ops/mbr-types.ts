// MBR partition type ids by alias, and the hidden-type convention (id | 0x10 for the FAT/NTFS family).
import { ShadowError } from '../../../sdk/index.js';

export const MBR_TYPE_ALIASES: Readonly<Record<string, number>> = Object.freeze({
  linux: 0x83, swap: 0x82, extended: 0x05, lvm: 0x8e, raid: 0xfd, esp: 0xef, uefi: 0xef,
  msdata: 0x07, ntfs: 0x07, exfat: 0x07, fat32: 0x0c, fat16: 0x0e, fat12: 0x01, 'linux-extended': 0x85, 'bios-boot': 0xef,
});

export { MBR_EXTENDED_TYPES as EXTENDED_TYPES } from '../table/mbr-disk.js';

/** Types that have a hidden twin at type | 0x10 (the IBM/Microsoft convention sfdisk and parted follow). */
const HIDEABLE: ReadonlySet<number> = new Set([0x01, 0x04, 0x06, 0x07, 0x0b, 0x0c, 0x0e]);

export function resolveMbrType(type: string): number {
  const alias = MBR_TYPE_ALIASES[type.toLowerCase()];
  if (alias !== undefined) return alias;
  const hex = /^(0x)?([0-9a-f]{1,2})$/i.exec(type);
  if (hex) {
    const id = parseInt(hex[2]!, 16);
    if (id !== 0) return id;
  }
  throw new ShadowError('INVALID_ARGUMENT', `Unknown MBR partition type '${type}'; use an alias (${Object.keys(MBR_TYPE_ALIASES).join(', ')}) or a hex id like 0x83`);
}

export function isHiddenMbrType(id: number): boolean {
  return HIDEABLE.has(id & ~0x10) && (id & 0x10) !== 0;
}

export function setMbrHidden(id: number, hidden: boolean): number {
  const base = id & ~0x10;
  if (!HIDEABLE.has(base)) {
    throw new ShadowError('INVALID_ARGUMENT', `MBR type 0x${id.toString(16).padStart(2, '0')} has no hidden variant; only FAT and NTFS types (0x01, 0x04, 0x06, 0x07, 0x0b, 0x0c, 0x0e) can be hidden`);
  }
  return hidden ? base | 0x10 : base;
}
