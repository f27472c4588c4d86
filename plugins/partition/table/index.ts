// Partition table codecs: pure, byte-exact MBR (with EBR chains) and GPT, and the table-neutral Layout.
export * from './layout.js';
export * from './sector-io.js';
export { readDiskTable, writesForLayout, repairWrites, rangesOf, type DiskTable, type SectorRange } from './partition-table.js';
export { parseMbrSector, serializeMbrSector, type MbrSector, type MbrEntry } from './mbr-sector.js';
export { mbrKind, isProtectiveMbr, type MbrKind } from './mbr-kind.js';
export { readMbrDisk } from './mbr-disk-read.js';
export { writeMbrDisk } from './mbr-disk-write.js';
export { mbrDiskToLayout } from './mbr-layout.js';
export { layoutToMbrDisk } from './mbr-layout-build.js';
export { MBR_EXTENDED_TYPES, type MbrDisk, type Ebr } from './mbr-disk.js';
export { readGptDisk, type GptDisk, type GptPart } from './gpt-disk.js';
export { writeGptDisk, repairGpt } from './gpt-disk-write.js';
export { gptDiskToLayout, layoutToGptDisk } from './gpt-layout.js';
export { resolveGptType, gptTypeName, GPT_TYPES } from './gpt-types.js';
export { randomGuid, isGuid } from './guid.js';
