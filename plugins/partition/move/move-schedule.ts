// The order in which a move copies its data: pure arithmetic over byte ranges, shared by the first run and recovery.
// A move to the left copies from the front, a move to the right from the back, so no step reads bytes an earlier step
// wrote. A step whose destination overlaps its own source (the shift is smaller than the step) saves its source to
// the journal before writing, because a cut in the middle of that write destroys the only other copy.

export interface MoveSpec {
  /** The disk a copy reads from, when it is another disk than the one written (its bytes never overlap the destination). */
  readonly srcDisk?: string;
  readonly srcBytes: number;
  readonly dstBytes: number;
  readonly lengthBytes: number;
  readonly stepBytes: number;
}

export interface MoveChunk {
  readonly index: number;
  readonly srcBytes: number;
  readonly dstBytes: number;
  readonly lengthBytes: number;
  /** The destination overlaps this step's own source: the source goes to the journal first. */
  readonly saveFirst: boolean;
}

export const MiB = 1024 * 1024;
/** The largest step: one journal record and one device flush per step, so steps are as large as safety allows. */
export const MAX_STEP_BYTES = 64 * MiB;
/** Below this, a step costs more in flushes than it moves. */
export const MIN_STEP_BYTES = MiB;

/**
 * The step size when none is asked for: the largest that needs no saved copy (at most the shift), between 1 and 64
 * MiB, in whole multiples of `granuleBytes`; a shift under 1 MiB takes 1 MiB steps with saved copies.
 */
export function chooseStepBytes(srcBytes: number, dstBytes: number, lengthBytes: number, granuleBytes: number): number {
  const shift = Math.abs(dstBytes - srcBytes);
  const limit = shift >= lengthBytes ? MAX_STEP_BYTES : Math.min(MAX_STEP_BYTES, Math.max(MIN_STEP_BYTES, shift));
  return Math.max(granuleBytes, Math.floor(limit / granuleBytes) * granuleBytes);
}

export function chunkCount(spec: MoveSpec): number {
  return Math.ceil(spec.lengthBytes / spec.stepBytes);
}

export function moveChunk(spec: MoveSpec, index: number): MoveChunk {
  const count = chunkCount(spec);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`Step ${index} is outside 0–${count - 1}`);
  const forward = spec.srcDisk !== undefined || spec.dstBytes <= spec.srcBytes;
  const from = forward ? index * spec.stepBytes : Math.max(0, spec.lengthBytes - (index + 1) * spec.stepBytes);
  const to = forward ? Math.min(spec.lengthBytes, from + spec.stepBytes) : spec.lengthBytes - index * spec.stepBytes;
  const lengthBytes = to - from;
  return { index, srcBytes: spec.srcBytes + from, dstBytes: spec.dstBytes + from, lengthBytes, saveFirst: spec.srcDisk === undefined && Math.abs(spec.dstBytes - spec.srcBytes) < lengthBytes };
}
