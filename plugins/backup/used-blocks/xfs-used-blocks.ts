// XFS used blocks: everything except the free extents each allocation group's by-block-number free-space B+tree
// (AGF bnobt) lists and the spare blocks on its free list (AGFL), which hold nothing until a btree takes them.
import { ascii, be32, be64, expectField } from './le-fields.js';
import type { ByteReader, UsedBlockMap } from './used-block-map.js';
import { UsedBlockMapBuilder } from './used-block-map-builder.js';

const BNOBT_MAGIC_V4 = 0x41425442; // 'ABTB'
const BNOBT_MAGIC_V5 = 0x41423342; // 'AB3B'
const MAX_BTREE_DEPTH = 10;

export function xfsUsedBlocks(read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  const sb = read(0, 512);
  const check = (ok: boolean, field: string, value: number | string, expected: string) => expectField(ok, 'XFS', field, value, expected);
  check(ascii(sb, 0, 4) === 'XFSB', 'sb_magicnum', ascii(sb, 0, 4), "should be 'XFSB'");
  const blockSize = be32(sb, 4);
  check(blockSize >= 512 && blockSize <= 65536 && (blockSize & (blockSize - 1)) === 0, 'sb_blocksize', blockSize, 'should be a power of two from 512 to 65536');
  const dataBlocks = be64(sb, 8, 'XFS sb_dblocks');
  const agBlocks = be32(sb, 84);
  const agCount = be32(sb, 88);
  const version = (sb[100]! << 8 | sb[101]!) & 0xf;
  const sectorSize = sb[102]! << 8 | sb[103]!;
  check(version === 4 || version === 5, 'sb_versionnum', version, 'should be 4 or 5');
  check(sectorSize >= 512 && sectorSize <= blockSize && (sectorSize & (sectorSize - 1)) === 0, 'sb_sectsize', sectorSize, 'should be a power of two from 512 to the block size');
  check(agBlocks > 0 && agCount > 0 && (agCount - 1) * agBlocks < dataBlocks && dataBlocks <= agCount * agBlocks, 'sb_agcount', agCount, `should cover sb_dblocks ${dataBlocks} in groups of ${agBlocks} blocks`);
  check(dataBlocks * blockSize <= volumeSizeBytes, 'sb_dblocks', dataBlocks, `should fit the volume of ${volumeSizeBytes} bytes; the volume is truncated`);
  const headerBytes = version === 5 ? 56 : 16;
  const magic = version === 5 ? BNOBT_MAGIC_V5 : BNOBT_MAGIC_V4;

  const builder = UsedBlockMapBuilder.forVolume(volumeSizeBytes, blockSize);
  builder.markUsed(0, dataBlocks);
  for (let ag = 0; ag < agCount; ag++) {
    const agStart = ag * agBlocks;
    const agf = read(agStart * blockSize + sectorSize, sectorSize);
    check(ascii(agf, 0, 4) === 'XAGF', `AG ${ag} agf_magicnum`, ascii(agf, 0, 4), "should be 'XAGF'");
    const agLength = be32(agf, 12);
    check(agLength > 0 && agLength <= agBlocks && agStart + agLength <= dataBlocks, `AG ${ag} agf_length`, agLength, `should be at most ${Math.min(agBlocks, dataBlocks - agStart)}`);
    const root = be32(agf, 16);
    const levels = be32(agf, 28);
    check(levels >= 1 && levels <= MAX_BTREE_DEPTH, `AG ${ag} bnobt levels`, levels, `should be 1 to ${MAX_BTREE_DEPTH}`);
    let freeBlocks = 0;
    walkBnobt(root, levels - 1, (start, count) => {
      check(start + count <= agLength, `AG ${ag} free extent at block`, start, `should end within the AG's ${agLength} blocks`);
      builder.markFree(agStart + start, count);
      freeBlocks += count;
    });
    for (const spare of freeListBlocks(read(agStart * blockSize + 3 * sectorSize, sectorSize), agf, version, ag)) {
      check(spare < agLength, `AG ${ag} free list block`, spare, `should lie within the AG's ${agLength} blocks`);
      builder.markFree(agStart + spare, 1);
    }
    check(freeBlocks === be32(agf, 52), `AG ${ag} agf_freeblks`, be32(agf, 52), `should equal the ${freeBlocks} blocks the bnobt lists`);

    function walkBnobt(agBlock: number, level: number, onExtent: (start: number, count: number) => void): void {
      check(agBlock > 0 && agBlock < agLength, `AG ${ag} bnobt block`, agBlock, `should lie within the AG's ${agLength} blocks`);
      const block = read((agStart + agBlock) * blockSize, blockSize);
      check(be32(block, 0) === magic, `AG ${ag} bnobt block ${agBlock} magic`, be32(block, 0), `should be ${magic}`);
      const blockLevel = block[4]! << 8 | block[5]!;
      const records = block[6]! << 8 | block[7]!;
      check(blockLevel === level, `AG ${ag} bnobt block ${agBlock} level`, blockLevel, `should be ${level}`);
      const maxRecords = level === 0 ? (blockSize - headerBytes) / 8 : (blockSize - headerBytes) / 12;
      check(records <= maxRecords, `AG ${ag} bnobt block ${agBlock} record count`, records, `should be at most ${Math.floor(maxRecords)}`);
      if (level === 0) {
        for (let i = 0; i < records; i++) onExtent(be32(block, headerBytes + i * 8), be32(block, headerBytes + i * 8 + 4));
        return;
      }
      const pointers = headerBytes + Math.floor(maxRecords) * 8;
      for (let i = 0; i < records; i++) walkBnobt(be32(block, pointers + i * 4), level - 1, onExtent);
    }
  }
  builder.markFreeFrom(dataBlocks);
  return builder.build('xfs', 'XFS free-space B+trees (bnobt)');
}

/** The AGFL's live entries, flfirst to fllast inclusive, wrapping around its slots (v5 has a 36-byte header). */
function freeListBlocks(agfl: Uint8Array, agf: Uint8Array, version: number, ag: number): number[] {
  const count = be32(agf, 48);
  if (count === 0) return [];
  const header = version === 5 ? 36 : 0;
  if (version === 5) expectField(ascii(agfl, 0, 4) === 'XAFL', 'XFS', `AG ${ag} agfl_magicnum`, ascii(agfl, 0, 4), "should be 'XAFL'");
  const slots = (agfl.length - header) / 4;
  const first = be32(agf, 40);
  expectField(first < slots && count <= slots && be32(agf, 44) === (first + count - 1) % slots, 'XFS', `AG ${ag} agf_flcount`, count, `should match agf_flfirst ${first} to agf_fllast ${be32(agf, 44)} within ${slots} slots`);
  return Array.from({ length: count }, (_, i) => be32(agfl, header + ((first + i) % slots) * 4));
}
