// Argument readers shared by the backup plugin's commands.
import { readFileSync } from 'node:fs';
import type { CommandArgs } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';

export function positional(args: CommandArgs, index: number, what: string): string {
  const value = args.positionals[index];
  if (value === undefined) throw new ShadowError('INVALID_ARGUMENT', `Missing ${what}`);
  return value;
}

/** From --passphrase-file (first line) or SHADOWDISK_PASSPHRASE; never from the command line, where `ps` shows it. */
export function passphrase(args: CommandArgs): string | undefined {
  const file = args.options['passphrase-file'];
  if (typeof file === 'string') {
    try {
      return readFileSync(file, 'utf8').split('\n')[0]!;
    } catch (error) {
      throw new ShadowError('NOT_FOUND', `Cannot read the passphrase file '${file}': ${(error as Error).message}`);
    }
  }
  return process.env['SHADOWDISK_PASSPHRASE'] || undefined;
}

export function integer(args: CommandArgs, name: string, min: number, max: number): number | undefined {
  const value = args.options[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ShadowError('INVALID_ARGUMENT', `--${name} must be a whole number from ${min} to ${max}, got '${String(value)}'`);
  return n;
}
