// NTFS used blocks: the volume's own cluster bitmap, the $DATA of $Bitmap (MFT record 6) found through $MFT's run
// list, plus the backup boot sector after the last cluster.
import { ShadowError } from '../../../sdk/index.js';
import { expectField, u16, u32, u64, u8 } from './le-fields.js';
import { decodeRunList, readMftRecord, type NtfsRun } from './ntfs-mft-record.js';
import type { ByteReader, UsedBlockMap } from './used-block-map.js';
import { UsedBlockMapBuilder } from './used-block-map-builder.js';

const MFT_RECORD_BITMAP = 6;

export interface NtfsGeometry {
  readonly bytesPerSector: number;
  readonly clusterSize: number;
  readonly totalSectors: number;
  readonly totalClusters: number;
  readonly mftCluster: number;
  readonly mftRecordSize: number;
}

export function readNtfsGeometry(read: ByteReader, volumeSizeBytes: number): NtfsGeometry {
  const boot = read(0, 512);
  const check = (ok: boolean, field: string, value: number, expected: string) => expectField(ok, 'NTFS', field, value, expected);
  const bytesPerSector = u16(boot, 0x0b);
  check(bytesPerSector >= 256 && bytesPerSector <= 4096 && (bytesPerSector & (bytesPerSector - 1)) === 0, 'bytes per sector', bytesPerSector, 'should be a power of two from 256 to 4096');
  const rawSectorsPerCluster = u8(boot, 0x0d);
  // Values above 0x80 are negative powers: 2^(256 - value) sectors, for clusters above 64 KiB.
  const sectorsPerCluster = rawSectorsPerCluster > 0x80 ? 2 ** (256 - rawSectorsPerCluster) : rawSectorsPerCluster;
  check(sectorsPerCluster > 0 && (sectorsPerCluster & (sectorsPerCluster - 1)) === 0 && sectorsPerCluster * bytesPerSector <= 2 ** 21, 'sectors per cluster', rawSectorsPerCluster, 'should give a power-of-two cluster size up to 2 MiB');
  const clusterSize = sectorsPerCluster * bytesPerSector;
  const totalSectors = u64(boot, 0x28, 'NTFS total sectors');
  check(totalSectors * bytesPerSector <= volumeSizeBytes, 'total sectors', totalSectors, `should fit the volume of ${volumeSizeBytes} bytes; the volume is truncated`);
  const totalClusters = Math.floor(totalSectors / sectorsPerCluster);
  const mftCluster = u64(boot, 0x30, 'NTFS $MFT cluster');
  check(mftCluster > 0 && mftCluster < totalClusters, '$MFT cluster', mftCluster, `should lie within the ${totalClusters} clusters`);
  const rawRecordSize = u8(boot, 0x40);
  // Signed: negative means 2^-value bytes, positive a count of clusters.
  const mftRecordSize = rawRecordSize >= 0x80 ? 2 ** (256 - rawRecordSize) : rawRecordSize * clusterSize;
  check(mftRecordSize >= 256 && mftRecordSize <= 65536 && (mftRecordSize & (mftRecordSize - 1)) === 0, 'clusters per MFT record', rawRecordSize, 'should give a power-of-two record size from 256 bytes to 64 KiB');
  return { bytesPerSector, clusterSize, totalSectors, totalClusters, mftCluster, mftRecordSize };
}

export function ntfsUsedBlocks(read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  const geometry = readNtfsGeometry(read, volumeSizeBytes);
  const { clusterSize, mftRecordSize } = geometry;
  // Record 0 is $MFT itself; its $DATA runs say where record 6 lies (the first records are contiguous in practice,
  // but the run list is the authority).
  const mftRecord = readMftRecord(read(geometry.mftCluster * clusterSize, mftRecordSize), 'MFT record 0 ($MFT)');
  const mftData = mftRecord.unnamedData('MFT record 0 ($MFT)');
  const mftRuns = decodeRunList(mftData.runList, 'MFT record 0 ($MFT)');
  const bitmapRecordBytes = readThroughRuns(read, mftRuns, clusterSize, MFT_RECORD_BITMAP * mftRecordSize, mftRecordSize, '$MFT');
  const bitmapRecord = readMftRecord(bitmapRecordBytes, 'MFT record 6 ($Bitmap)');
  const bitmapData = bitmapRecord.unnamedData('MFT record 6 ($Bitmap)');
  const neededBytes = Math.ceil(geometry.totalClusters / 8);
  expectField(bitmapData.dataSize >= neededBytes, 'NTFS', '$Bitmap data size', bitmapData.dataSize, `should cover the ${geometry.totalClusters} clusters (${neededBytes} bytes)`);
  const bitmap = readThroughRuns(read, decodeRunList(bitmapData.runList, 'MFT record 6 ($Bitmap)'), clusterSize, 0, neededBytes, '$Bitmap');

  const builder = UsedBlockMapBuilder.forVolume(volumeSizeBytes, clusterSize);
  builder.markFromBitmap(bitmap, geometry.totalClusters, 0);
  // The backup boot sector sits in the sector after the last one the volume counts, outside every cluster.
  const backupBootOffset = geometry.totalSectors * geometry.bytesPerSector;
  if (backupBootOffset + geometry.bytesPerSector <= volumeSizeBytes) builder.markBytes(backupBootOffset, geometry.bytesPerSector);
  return builder.build('ntfs', 'NTFS $Bitmap');
}

/** Reads `length` bytes at `offset` within an attribute's data, following its runs; sparse runs read as zeros. */
function readThroughRuns(read: ByteReader, runs: readonly NtfsRun[], clusterSize: number, offset: number, length: number, what: string): Uint8Array {
  const out = new Uint8Array(length);
  let vcnStartByte = 0;
  for (const run of runs) {
    const runBytes = run.clusterCount * clusterSize;
    const from = Math.max(offset, vcnStartByte);
    const to = Math.min(offset + length, vcnStartByte + runBytes);
    if (from < to && run.lcn !== undefined) out.set(read(run.lcn * clusterSize + (from - vcnStartByte), to - from), from - offset);
    vcnStartByte += runBytes;
  }
  if (vcnStartByte < offset + length) {
    throw new ShadowError('UNSUPPORTED', `Cannot read the NTFS used-block map: the runs of ${what} in its base record end at byte ${vcnStartByte} but byte ${offset + length} is needed (an attribute list spreads them over more records); copy every block instead`);
  }
  return out;
}
