// FAT12/16/32 used blocks: boot/reserved sectors, the FATs and the FAT12/16 root directory always, and every
// cluster whose FAT entry is non-zero (bad-cluster markers excepted: they hold no data).
import { ShadowError } from '../../../sdk/index.js';
import { looksLikeFatBootSector } from './detect-filesystem.js';
import { expectField, u16, u32, u8 } from './le-fields.js';
import type { ByteReader, UsedBlockMap } from './used-block-map.js';
import { UsedBlockMapBuilder } from './used-block-map-builder.js';

export interface FatLayout {
  readonly fatType: 12 | 16 | 32;
  readonly bytesPerSector: number;
  readonly clusterSize: number;
  readonly activeFatOffsetBytes: number;
  readonly fatBytes: number;
  readonly firstDataByte: number;
  readonly clusterCount: number;
  readonly totalSectors: number;
}

export function readFatLayout(read: ByteReader, volumeSizeBytes: number): FatLayout {
  const boot = read(0, 512);
  if (!looksLikeFatBootSector(boot)) throw new ShadowError('INVALID_ARGUMENT', 'Cannot read the FAT used-block map: sector 0 holds no valid FAT boot sector (BPB); copy every block instead');
  const bytesPerSector = u16(boot, 11);
  const sectorsPerCluster = u8(boot, 13);
  const reservedSectors = u16(boot, 14);
  const fatCount = u8(boot, 16);
  const rootEntries = u16(boot, 17);
  const totalSectors = u16(boot, 19) || u32(boot, 32);
  const fatSize16 = u16(boot, 22);
  const fatSectors = fatSize16 || u32(boot, 36);
  const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const firstDataSector = reservedSectors + fatCount * fatSectors + rootDirSectors;
  expectField(totalSectors * bytesPerSector <= volumeSizeBytes, 'FAT', 'total sectors', totalSectors, `should fit the volume of ${volumeSizeBytes} bytes; the volume is truncated`);
  expectField(firstDataSector < totalSectors, 'FAT', 'first data sector', firstDataSector, `should be below the total of ${totalSectors} sectors`);
  const clusterCount = Math.floor((totalSectors - firstDataSector) / sectorsPerCluster);
  // As the Linux driver does: no 16-bit FAT size and no root entries means FAT32; otherwise the cluster count decides.
  const fatType = fatSize16 === 0 && rootEntries === 0 ? 32 : clusterCount < 4085 ? 12 : 16;
  const entriesInFat = Math.floor((fatSectors * bytesPerSector * 8) / fatType);
  expectField(clusterCount + 2 <= entriesInFat, 'FAT', 'sectors per FAT', fatSectors, `should hold entries for ${clusterCount} clusters`);
  const extFlags = fatType === 32 ? u16(boot, 40) : 0;
  // FAT32 with mirroring off uses only the FAT that ext_flags names.
  const activeFat = extFlags & 0x80 ? extFlags & 0xf : 0;
  expectField(activeFat < fatCount, 'FAT', 'active FAT (ext_flags)', activeFat, `should be below the FAT count ${fatCount}`);
  return {
    fatType,
    bytesPerSector,
    clusterSize: sectorsPerCluster * bytesPerSector,
    activeFatOffsetBytes: (reservedSectors + activeFat * fatSectors) * bytesPerSector,
    fatBytes: fatSectors * bytesPerSector,
    firstDataByte: firstDataSector * bytesPerSector,
    clusterCount,
    totalSectors,
  };
}

export function fatUsedBlocks(read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  const layout = readFatLayout(read, volumeSizeBytes);
  const builder = UsedBlockMapBuilder.forVolume(volumeSizeBytes, layout.clusterSize);
  builder.markBytes(0, layout.firstDataByte);
  const fat = read(layout.activeFatOffsetBytes, layout.fatBytes);
  const entry = fatEntryReader(layout.fatType, fat);
  const bad = layout.fatType === 12 ? 0xff7 : layout.fatType === 16 ? 0xfff7 : 0x0ffffff7;
  for (let cluster = 2; cluster < layout.clusterCount + 2; cluster++) {
    const value = entry(cluster);
    if (value !== 0 && value !== bad) builder.markBytes(layout.firstDataByte + (cluster - 2) * layout.clusterSize, layout.clusterSize);
  }
  return builder.build('vfat', `FAT${layout.fatType}`);
}

export function fatEntryReader(fatType: 12 | 16 | 32, fat: Uint8Array): (cluster: number) => number {
  if (fatType === 32) return (cluster) => u32(fat, cluster * 4) & 0x0fffffff;
  if (fatType === 16) return (cluster) => u16(fat, cluster * 2);
  return (cluster) => {
    const pair = u16(fat, cluster + (cluster >>> 1));
    return cluster & 1 ? pair >>> 4 : pair & 0xfff;
  };
}
