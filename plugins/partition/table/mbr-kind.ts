// What LBA 0 holds, as far as the MBR entries tell: nothing, a classic MBR, or a GPT's protective or hybrid MBR.
import { hasMbrMagic, parseMbrSector, type MbrEntry } from './mbr-sector.js';

export type MbrKind = 'empty' | 'mbr' | 'protective' | 'hybrid';

export const PROTECTIVE_TYPE = 0xee;

/** An entry is in use when it covers sectors; Linux and libfdisk both ignore entries of size zero. */
export function isUsedEntry(entry: MbrEntry): boolean {
  return entry.sectors !== 0;
}

/**
 * `empty`: no 0x55AA signature or no entry in use; `protective`: the only entries in use have type 0xEE (a GPT
 * follows); `hybrid`: an 0xEE entry beside other entries in use (a GPT follows, the other entries mirror some of its
 * partitions); `mbr`: entries in use and none of type 0xEE.
 */
export function mbrKind(sector: Uint8Array): MbrKind {
  if (!hasMbrMagic(sector)) return 'empty';
  const used = parseMbrSector(sector).entries.filter(isUsedEntry);
  if (used.length === 0) return 'empty';
  const protective = used.filter((e) => e.type === PROTECTIVE_TYPE).length;
  if (protective === 0) return 'mbr';
  return protective === used.length ? 'protective' : 'hybrid';
}

/** True when LBA 0 announces a GPT through an 0xEE entry, alone (protective) or beside others (hybrid), as Linux reads it. */
export function isProtectiveMbr(sector: Uint8Array): boolean {
  const kind = mbrKind(sector);
  return kind === 'protective' || kind === 'hybrid';
}
