// Walks one btrfs B-tree depth-first, checking each node as the kernel does before trusting it: checksum, bytenr,
// fsid, level and generation against the parent's pointer, item counts, and keys ascending within the parent's range.
import { BTRFS_CSUM_NAMES, btrfsChecksumMatches, storedChecksumHex } from './btrfs-checksum.js';
import type { BtrfsChunkMap } from './btrfs-chunk-map.js';
import { BTRFS_MAX_LEVEL, checkBtrfs, failBtrfs, type BtrfsSuperblock } from './btrfs-superblock.js';
import { u32, u64, u8 } from './le-fields.js';
import type { ByteReader } from './used-block-map.js';

const HEADER_BYTES = 101;
const KEY_BYTES = 17;
const LEAF_ITEM_BYTES = 25;
const KEY_PTR_BYTES = 33;

export interface BtrfsTreeSource {
  readonly read: ByteReader;
  readonly sb: BtrfsSuperblock;
  readonly chunks: BtrfsChunkMap;
  /** Called with the physical offset of every copy of each node read. */
  readonly onNode: (physicalOffsets: readonly number[]) => void;
}

export interface BtrfsTreeRoot {
  readonly name: string;
  readonly logical: number;
  readonly level: number;
  readonly generation: number;
}

export interface BtrfsItem {
  /** objectid and offset as numbers: exact below 2^53, where every address and length lies; the special negative ids are not. */
  readonly objectid: number;
  readonly type: number;
  readonly offset: number;
  readonly data: Uint8Array;
}

/** Calls `onItem` for every leaf item of the tree, in key order. */
export function walkBtrfsTree(source: BtrfsTreeSource, root: BtrfsTreeRoot, onItem: (item: BtrfsItem) => void): void {
  const { sb } = source;
  const visited = new Set<number>();
  const tree = `${root.name} tree`;
  walk(root.logical, root.level, root.generation, undefined, undefined);

  function walk(logical: number, level: number, generation: number, low: Uint8Array | undefined, high: Uint8Array | undefined): void {
    const what = `${tree} node at logical ${logical}`;
    checkBtrfs(!visited.has(logical), `${tree} node pointer`, logical, 'should name each node once (the tree points at one node twice)');
    visited.add(logical);
    const node = readNode(source, tree, logical, level, generation);
    const count = u32(node, 0x60);
    const entryBytes = level === 0 ? LEAF_ITEM_BYTES : KEY_PTR_BYTES;
    const maxEntries = Math.floor((sb.nodeSize - HEADER_BYTES) / entryBytes);
    checkBtrfs(count <= maxEntries && (level === 0 || count > 0), `${what} nritems`, count, `should be ${level === 0 ? 0 : 1} to ${maxEntries} at level ${level}`);
    let previous = low;
    for (let i = 0; i < count; i++) {
      const at = HEADER_BYTES + i * entryBytes;
      const key = node.subarray(at, at + KEY_BYTES);
      // The first key equals the parent's pointer key; every later one must be strictly greater.
      const order = previous ? compareKeys(key, previous) : 1;
      checkBtrfs(order > 0 || (i === 0 && order === 0), `${what} key ${i}`, keyText(key), `should sort after ${previous ? keyText(previous) : 'nothing'}`);
      checkBtrfs(!high || compareKeys(key, high) < 0, `${what} key ${i}`, keyText(key), `should sort before the parent's next key ${high ? keyText(high) : ''}`);
      previous = key;
      if (level > 0) {
        const next = i + 1 < count ? node.subarray(at + KEY_PTR_BYTES, at + KEY_PTR_BYTES + KEY_BYTES) : high;
        walk(u64(node, at + KEY_BYTES, `btrfs ${what} pointer ${i}`), level - 1, u64(node, at + KEY_BYTES + 8, `btrfs ${what} pointer ${i} generation`), key, next);
        continue;
      }
      const dataOffset = u32(node, at + KEY_BYTES);
      const dataBytes = u32(node, at + KEY_BYTES + 4);
      const dataEnd = dataOffset + dataBytes;
      checkBtrfs(dataOffset >= count * LEAF_ITEM_BYTES && dataEnd <= sb.nodeSize - HEADER_BYTES, `${what} item ${i} data offset`, dataOffset, `should place its ${dataBytes} bytes after the item headers and within the leaf`);
      const data = node.subarray(HEADER_BYTES + dataOffset, HEADER_BYTES + dataEnd);
      onItem({ objectid: u32(key, 0) + u32(key, 4) * 2 ** 32, type: u8(key, 8), offset: u32(key, 9) + u32(key, 13) * 2 ** 32, data });
    }
  }
}

/** Reads a node from the first copy that passes the header checks (a DUP volume can lose one copy), and reports every copy used. */
function readNode(source: BtrfsTreeSource, tree: string, logical: number, level: number, generation: number): Uint8Array {
  const { sb } = source;
  const what = `${tree} node at logical ${logical}`;
  checkBtrfs(level < BTRFS_MAX_LEVEL, `${what} level`, level, `should be below ${BTRFS_MAX_LEVEL}`);
  checkBtrfs(logical % sb.sectorSize === 0, `${what} address`, logical, `should be a multiple of sectorsize ${sb.sectorSize}`);
  const copies = source.chunks.physical(logical, sb.nodeSize, `${tree} node`);
  source.onNode(copies);
  let firstProblem: NodeProblem | undefined;
  for (const [copy, physical] of copies.entries()) {
    const node = source.read(physical, sb.nodeSize);
    const problem = nodeProblem(sb, node, `${what}${copies.length > 1 ? ` (copy ${copy + 1})` : ''}`, logical, level, generation);
    if (!problem) return node;
    firstProblem ??= problem;
  }
  return failBtrfs(...firstProblem!);
}

type NodeProblem = [field: string, value: number | string, expected: string];

function nodeProblem(sb: BtrfsSuperblock, node: Uint8Array, what: string, logical: number, level: number, generation: number): NodeProblem | undefined {
  if (btrfsChecksumMatches(sb.csumType, node) === false) return [`${what} checksum`, storedChecksumHex(sb.csumType, node), `should be the ${BTRFS_CSUM_NAMES[sb.csumType]} of the node's bytes after the first 32`];
  const bytenr = u32(node, 0x30) + u32(node, 0x34) * 2 ** 32;
  if (bytenr !== logical) return [`${what} bytenr`, bytenr, `should be its own address ${logical}`];
  if (!sb.metadataFsid.every((byte, i) => node[0x20 + i] === byte)) return [`${what} fsid`, uuidText(node.subarray(0x20, 0x30)), `should be the filesystem's ${uuidText(sb.metadataFsid)}`];
  if (u8(node, 0x64) !== level) return [`${what} level`, u8(node, 0x64), `should be ${level} as its parent records`];
  const nodeGeneration = u32(node, 0x50) + u32(node, 0x54) * 2 ** 32;
  if (nodeGeneration !== generation) return [`${what} generation`, nodeGeneration, `should be ${generation} as its parent records (a stale or misplaced node)`];
  return undefined;
}

/** Orders keys by objectid, type, offset: the u64s compared as two u32 halves, so values past 2^53 order exactly. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return u32(a, 4) - u32(b, 4) || u32(a, 0) - u32(b, 0) || a[8]! - b[8]! || u32(a, 13) - u32(b, 13) || u32(a, 9) - u32(b, 9);
}

function keyText(key: Uint8Array): string {
  const u64Text = (at: number) => (BigInt(u32(key, at + 4)) * 2n ** 32n + BigInt(u32(key, at))).toString();
  return `(${u64Text(0)} ${key[8]} ${u64Text(9)})`;
}

function uuidText(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
