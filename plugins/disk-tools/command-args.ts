// Argument readers for the disk tools' commands.
import type { CommandArgs } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';

export function positional(args: CommandArgs, index: number, what: string): string {
  const value = args.positionals[index];
  if (value === undefined) throw new ShadowError('INVALID_ARGUMENT', `Missing ${what}`);
  return value;
}

export function integerOption(args: CommandArgs, name: string, min: number, max: number): number | undefined {
  const value = args.options[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ShadowError('INVALID_ARGUMENT', `--${name} must be a whole number from ${min} to ${max}, got '${String(value)}'`);
  return n;
}

export function choiceOption<T extends string>(args: CommandArgs, name: string, choices: readonly T[]): T | undefined {
  const value = args.options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw new ShadowError('INVALID_ARGUMENT', `--${name} must be one of ${choices.join(', ')}, got '${String(value)}'`);
  }
  return value as T;
}

const UNITS: Readonly<Record<string, number>> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** A position or size in bytes: `4096B`, `64MiB`, `2GiB`; a plain number or `N s` counts sectors of `sectorSize`. */
export function parseBytes(text: string, sectorSize: number, what: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|B|KiB|MiB|GiB|TiB)?$/.exec(text.trim());
  if (!match) throw new ShadowError('INVALID_ARGUMENT', `Cannot read ${what} '${text}'; write it like 2048 (sectors), 2048s, 512MiB or 2GiB`);
  const unit = match[2] === undefined || match[2] === 's' ? sectorSize : UNITS[match[2]]!;
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes)) throw new ShadowError('INVALID_ARGUMENT', `${what} '${text}' is not a whole number of bytes`);
  return bytes;
}
