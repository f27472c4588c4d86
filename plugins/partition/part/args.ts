// What every `part` command reads from its arguments: the disk (canonical), partition numbers, the sector size of
// image files; and the fold options all of them share.
import { realpathSync } from 'node:fs';
import type { CommandArgs } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import type { FoldOptions } from '../ops/layout-fold.js';
import { resolveGptType } from '../table/gpt-types.js';

export const FOLD_OPTIONS: FoldOptions = { resolveGptType };

/** `--sector-size` for image files (block devices report their own). */
export function imageSectorSize(args: CommandArgs): number | undefined {
  const value = args.options['sector-size'];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (![512, 1024, 2048, 4096].includes(n)) throw new ShadowError('INVALID_ARGUMENT', `--sector-size must be 512, 1024, 2048 or 4096, got '${String(value)}'`);
  return n;
}

export function positional(args: CommandArgs, index: number, what: string): string {
  const value = args.positionals[index];
  if (value === undefined) throw new ShadowError('INVALID_ARGUMENT', `Missing ${what}`);
  return value;
}

/** The disk argument as the kernel names it: plans, journals and partition nodes are keyed by that name. */
export function diskArg(args: CommandArgs): string {
  const disk = positional(args, 0, 'the disk (a block device or an image file)');
  try {
    return realpathSync(disk);
  } catch {
    throw new ShadowError('NOT_FOUND', `Cannot find the disk '${disk}'; give a block device like /dev/sdb or an image file`);
  }
}

export function partitionNumber(args: CommandArgs, index: number): number {
  const text = positional(args, index, 'the partition number');
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new ShadowError('INVALID_ARGUMENT', `'${text}' is not a partition number`);
  return n;
}
