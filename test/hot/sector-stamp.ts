// Sector stamps for the snapshot oracle: every 4 KiB block a writer writes carries a magic, its own offset, the
// sequence number of the write and a CRC-32 over the rest, so a block read back tells which write it came from, or
// that it is torn, misplaced or never written (all zeros). Pure logic; the model replays writes to know each cut.
import { crc32 } from 'node:zlib';

export const BLOCK = 4096;
const MAGIC = Buffer.from('SDSTAMP1');

/** Stamps block `block` of a write with sequence number `seq` into `target` (BLOCK bytes). */
export function stampBlock(target: Buffer, block: number, seq: number): void {
  MAGIC.copy(target, 0);
  target.writeBigUInt64LE(BigInt(block) * BigInt(BLOCK), 8);
  target.writeUInt32LE(seq, 16);
  let x = (Math.imul(block + 1, 0x9e3779b1) ^ seq) >>> 0 || 1;
  for (let at = 20; at < BLOCK - 4; at += 4) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    target.writeUInt32LE(x, at);
  }
  target.writeUInt32LE(crc32(target.subarray(0, BLOCK - 4)), BLOCK - 4);
}

/** The sequence number a block read back carries: 0 for a never-written (zero) block, -1 for a damaged one. */
export function readStamp(bytes: Buffer, block: number): number {
  if (bytes.readUInt32LE(BLOCK - 4) !== crc32(bytes.subarray(0, BLOCK - 4))) return isZero(bytes) ? 0 : -1;
  if (!bytes.subarray(0, 8).equals(MAGIC) || bytes.readBigUInt64LE(8) !== BigInt(block) * BigInt(BLOCK)) return -1;
  return bytes.readUInt32LE(16);
}

function isZero(bytes: Buffer): boolean {
  for (let at = 0; at < bytes.length; at += 8) if (bytes.readBigUInt64LE(at) !== 0n) return false;
  return true;
}

export interface StampWrite {
  seq: number;
  firstBlock: number;
  blockCount: number;
}

/**
 * Whether `seen` (the seq of each block in a snapshot) equals the volume after exactly the first `j` writes of the
 * log for some j in [low, high]: every write that completed before the cut is there, none that started after it is,
 * and each write in between is wholly in or wholly out. Returns the matching j, or the closest miss explained.
 */
export function matchCut(seen: Uint32Array | Int32Array, log: readonly StampWrite[], low: number, high: number): { cut: number } | { mismatches: number; explanation: string } {
  const state = new Int32Array(seen.length);
  for (let i = 0; i < low; i++) applyWrite(state, log[i]!);
  let mismatches = 0;
  for (let b = 0; b < seen.length; b++) if (state[b] !== seen[b]) mismatches++;
  let best = { at: low, mismatches };
  if (mismatches === 0) return { cut: low };
  for (let j = low; j < high; j++) {
    const w = log[j]!;
    for (let b = w.firstBlock; b < w.firstBlock + w.blockCount; b++) {
      const before = state[b] === seen[b];
      state[b] = w.seq;
      const after = state[b] === seen[b];
      mismatches += (before ? 1 : 0) - (after ? 1 : 0);
    }
    if (mismatches === 0) return { cut: j + 1 };
    if (mismatches < best.mismatches) best = { at: j + 1, mismatches };
  }
  const expected = new Int32Array(seen.length);
  for (let i = 0; i < best.at; i++) applyWrite(expected, log[i]!);
  const examples: string[] = [];
  for (let b = 0; b < seen.length && examples.length < 5; b++) {
    if (expected[b] !== seen[b]) examples.push(`block ${b}: seq ${seen[b]} seen, ${expected[b]} expected`);
  }
  return { mismatches: best.mismatches, explanation: `closest cut after ${best.at} writes (window ${low}..${high}): ${examples.join('; ')}` };
}

export function applyWrite(state: Int32Array, w: StampWrite): void {
  state.fill(w.seq, w.firstBlock, w.firstBlock + w.blockCount);
}
