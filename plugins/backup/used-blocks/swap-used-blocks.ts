// Linux swap used blocks: only the header page (it holds the UUID, label and bad-page list); swapped-out pages are
// meaningless once the system that wrote them is gone.
import { ShadowError } from '../../../sdk/index.js';
import { SWAP_PAGE_SIZES } from './detect-filesystem.js';
import { ascii, be32, expectField, u32 } from './le-fields.js';
import type { ByteReader, UsedBlockMap } from './used-block-map.js';
import { UsedBlockMapBuilder } from './used-block-map-builder.js';

const BAD_PAGES_OFFSET = 1536;

export function swapUsedBlocks(read: ByteReader, volumeSizeBytes: number): UsedBlockMap {
  const pageSize = SWAP_PAGE_SIZES.find((size) => size <= volumeSizeBytes && ascii(read(size - 10, 10), 0, 10) === 'SWAPSPACE2');
  if (pageSize === undefined) throw new ShadowError('INVALID_ARGUMENT', `Cannot read the swap used-block map: no 'SWAPSPACE2' signature at the end of a 4 to 64 KiB header page`);
  const header = read(0, pageSize);
  // The header is in the writer's byte order: version 1 read little-endian, or byte-swapped.
  const littleEndian = u32(header, 1024) === 1;
  const field = littleEndian ? u32 : be32;
  const version = field(header, 1024);
  if (version !== 1) throw new ShadowError('UNSUPPORTED', `Cannot read the swap used-block map: swap header version is '${u32(header, 1024)}' but only version 1 is known; copy every block instead`);
  const badPages = field(header, 1032);
  const maxBadPages = (pageSize - 10 - BAD_PAGES_OFFSET) / 4;
  expectField(badPages <= maxBadPages, 'swap', 'nr_badpages', badPages, `should be at most ${Math.floor(maxBadPages)}`);
  const builder = UsedBlockMapBuilder.forVolume(volumeSizeBytes, pageSize);
  builder.markUsed(0, 1);
  return builder.build('swap', badPages > 0 ? `swap header (with ${badPages} bad pages listed)` : 'swap header');
}
