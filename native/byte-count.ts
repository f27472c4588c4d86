// Argument checks for byte offsets and lengths, done in TypeScript so the message names the parameter.
/** Throws a RangeError unless `value` is a non-negative bigint; names the argument so callers see which one was wrong. */
export function assertByteCount(name: string, value: bigint): void {
  if (typeof value !== 'bigint' || value < 0n || value >= 2n ** 63n) {
    throw new RangeError(`Expected ${name} to be a bigint in 0..2^63-1, got ${String(value)}`);
  }
}
