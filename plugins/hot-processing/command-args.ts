// Argument readers shared by the hot-processing commands.
import type { CommandArgs } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';

export function positional(args: CommandArgs, index: number, what: string): string {
  const value = args.positionals[index];
  if (value === undefined) throw new ShadowError('INVALID_ARGUMENT', `Missing ${what}`);
  return value;
}
