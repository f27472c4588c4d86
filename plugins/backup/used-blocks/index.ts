// Used-block maps: which blocks of a volume a filesystem uses, read from its own on-disk structures (issue 5).
export { usedBlockMap, usedBytes, usedBlockCount, usedRuns, isBlockUsed, allBlocksUsed, FALLBACK_BLOCK_SIZE, type ByteReader, type UsedBlockMap, type UsedRun } from './used-block-map.js';
export { UsedBlockMapBuilder } from './used-block-map-builder.js';
export { detectFilesystem, type DetectedFilesystem } from './detect-filesystem.js';
