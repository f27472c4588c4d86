// Names the filesystem on a volume by its superblock magic, so the matching used-block reader can be chosen.
import { ascii, u16, u32, u8 } from './le-fields.js';
import type { ByteReader } from './used-block-map.js';

export type DetectedFilesystem = 'ext' | 'vfat' | 'ntfs' | 'swap' | 'xfs' | 'btrfs' | 'unknown';

export const SWAP_PAGE_SIZES = [4096, 8192, 16384, 32768, 65536] as const;

export function detectFilesystem(read: ByteReader, volumeSizeBytes: number): DetectedFilesystem {
  const peek = (offset: number, length: number): Uint8Array | undefined => {
    if (offset + length > volumeSizeBytes) return undefined;
    try {
      const bytes = read(offset, length);
      return bytes.length >= length ? bytes : undefined;
    } catch {
      return undefined;
    }
  };
  const head = peek(0, 512);
  if (head && ascii(head, 3, 8) === 'NTFS    ' && u16(head, 510) === 0xaa55) return 'ntfs';
  if (head && ascii(head, 0, 4) === 'XFSB') return 'xfs';
  const btrfs = peek(0x10040, 8);
  if (btrfs && ascii(btrfs, 0, 8) === '_BHRfS_M') return 'btrfs';
  const ext = peek(1024, 1024);
  if (ext && u16(ext, 0x38) === 0xef53) return 'ext';
  for (const pageSize of SWAP_PAGE_SIZES) {
    const magic = peek(pageSize - 10, 10);
    if (magic && ascii(magic, 0, 10) === 'SWAPSPACE2') return 'swap';
  }
  if (head && looksLikeFatBootSector(head)) return 'vfat';
  return 'unknown';
}

/** A FAT boot sector has no magic of its own beyond 0x55AA: judge its BPB fields instead (exFAT names itself and is not FAT). */
export function looksLikeFatBootSector(boot: Uint8Array): boolean {
  if (u16(boot, 510) !== 0xaa55 || ascii(boot, 3, 8) === 'EXFAT   ') return false;
  if (u8(boot, 0) !== 0xeb && u8(boot, 0) !== 0xe9) return false;
  const bytesPerSector = u16(boot, 11);
  const sectorsPerCluster = u8(boot, 13);
  const reservedSectors = u16(boot, 14);
  const fatCount = u8(boot, 16);
  const totalSectors = u16(boot, 19) || u32(boot, 32);
  const fatSectors = u16(boot, 22) || u32(boot, 36);
  const powerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;
  return (
    powerOfTwo(bytesPerSector) && bytesPerSector >= 512 && bytesPerSector <= 4096 &&
    powerOfTwo(sectorsPerCluster) && reservedSectors > 0 && fatCount > 0 && fatCount <= 4 &&
    totalSectors > 0 && fatSectors > 0 && (u8(boot, 21) === 0xf0 || u8(boot, 21) >= 0xf8)
  );
}
