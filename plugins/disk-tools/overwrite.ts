// Whole-target overwrites for `disk wipe`: zeros or random bytes written with O_DIRECT in large blocks, BLKDISCARD,
// and the read-back that checks what each left. Random passes come from AES-256-CTR under a per-pass key held in
// memory, so a verify regenerates exactly the bytes that were written without storing them.
import { createCipheriv, randomBytes, type Cipheriv } from 'node:crypto';
import { allocAligned, DirectFile, discardRange, flushBlockDevice } from '../../native/index.js';
import type { RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';

export const BLOCK_BYTES = 4 * 1024 * 1024;

/** What one pass writes: zeros, or the keystream of a key. */
export type Pattern = { kind: 'zero' } | { kind: 'random'; key: Buffer; iv: Buffer };

export function randomPattern(): Pattern {
  return { kind: 'random', key: randomBytes(32), iv: randomBytes(16) };
}

class PatternStream {
  readonly #cipher: Cipheriv | undefined;
  readonly #zeros = Buffer.alloc(BLOCK_BYTES);
  constructor(pattern: Pattern) {
    this.#cipher = pattern.kind === 'random' ? createCipheriv('aes-256-ctr', pattern.key, pattern.iv) : undefined;
  }
  /** The next `length` bytes of the pattern into `into`. */
  fill(into: Buffer, length: number): void {
    if (!this.#cipher) into.fill(0, 0, length);
    else this.#cipher.update(this.#zeros.subarray(0, length)).copy(into, 0, 0, length);
  }
}

function checkAligned(path: string, sizeBytes: number, alignment: number): void {
  if (sizeBytes % alignment !== 0) {
    throw new ShadowError('UNSUPPORTED', `Cannot overwrite ${path}: its size ${sizeBytes} is not a multiple of its ${alignment}-byte sectors. Nothing was written`);
  }
}

/** Writes the pattern over [0, sizeBytes) of `path`, two blocks in flight, reporting progress under `phase`. */
export async function writePattern(path: string, sizeBytes: number, pattern: Pattern, phase: string, run: RunContext): Promise<void> {
  using file = DirectFile.open(path, 'r+');
  checkAligned(path, sizeBytes, file.alignment);
  const stream = new PatternStream(pattern);
  const buffers = [allocAligned(BLOCK_BYTES), allocAligned(BLOCK_BYTES)];
  let inFlight: Promise<number> | undefined;
  let done = 0;
  for (let offset = 0, turn = 0; offset < sizeBytes; offset += BLOCK_BYTES, turn ^= 1) {
    run.signal.throwIfAborted();
    const length = Math.min(BLOCK_BYTES, sizeBytes - offset);
    const buffer = buffers[turn]!;
    stream.fill(buffer, length);
    const write = file.write(buffer.subarray(0, length), BigInt(offset));
    if (inFlight) done += await inFlight;
    inFlight = write;
    run.progress({ phase, done, total: sizeBytes });
  }
  if (inFlight) done += await inFlight;
  run.progress({ phase, done, total: sizeBytes });
}

/** BLKDISCARD over the whole device; UNSUPPORTED (nothing discarded) where the device takes no discards. */
export function discardAll(path: string, sizeBytes: number): void {
  try {
    discardRange(path, 0n, BigInt(sizeBytes));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EOPNOTSUPP' || code === 'ENOTTY' || code === 'EINVAL') {
      throw new ShadowError('UNSUPPORTED', `${path} does not take discards (${code}); use --method zero or random instead. Nothing was written`, { cause: error });
    }
    throw ShadowError.from(error, 'IO_ERROR');
  }
  flushBlockDevice(path);
}

export interface VerifyResult {
  checkedBytes: number;
  mismatchedBytes: number;
  /** Offset of the first byte that differs, or null. */
  firstMismatchOffset: number | null;
}

/** Reads [0, sizeBytes) back with O_DIRECT and compares it with the pattern. */
export async function verifyPattern(path: string, sizeBytes: number, pattern: Pattern, run: RunContext): Promise<VerifyResult> {
  using file = DirectFile.open(path, 'r');
  const stream = new PatternStream(pattern);
  const read = allocAligned(BLOCK_BYTES);
  const expected = Buffer.alloc(BLOCK_BYTES);
  let mismatchedBytes = 0;
  let firstMismatchOffset: number | null = null;
  for (let offset = 0; offset < sizeBytes; offset += BLOCK_BYTES) {
    run.signal.throwIfAborted();
    const length = Math.min(BLOCK_BYTES, sizeBytes - offset);
    const got = read.subarray(0, await file.read(read.subarray(0, length), BigInt(offset)));
    stream.fill(expected, length);
    if (!got.equals(expected.subarray(0, length))) {
      for (let i = 0; i < length; i++) {
        if (got[i] !== expected[i]) {
          mismatchedBytes++;
          firstMismatchOffset ??= offset + i;
        }
      }
    }
    run.progress({ phase: 'verify', done: offset + length, total: sizeBytes });
  }
  return { checkedBytes: sizeBytes, mismatchedBytes, firstMismatchOffset };
}
