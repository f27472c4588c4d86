// Argument readers of the scheduler's commands.
import { readFileSync } from 'node:fs';
import { ShadowError, type CommandArgs } from '../../sdk/index.js';

export function positional(args: CommandArgs, index: number, what: string): string {
  const value = args.positionals[index];
  if (value === undefined) throw new ShadowError('INVALID_ARGUMENT', `Missing ${what}`);
  return value;
}

export function stringOption(args: CommandArgs, name: string): string | undefined {
  const value = args.options[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ShadowError('INVALID_ARGUMENT', `--${name} needs a value`);
  return value;
}

export function integerOption(args: CommandArgs, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = args.options[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ShadowError('INVALID_ARGUMENT', `--${name} must be a whole number from ${min} to ${max}, got '${String(value)}'`);
  return n;
}

/** --params JSON or --params-file FILE (JSON); undefined when neither is given. */
export function paramsOption(args: CommandArgs): unknown {
  const inline = stringOption(args, 'params');
  const file = stringOption(args, 'params-file');
  if (inline !== undefined && file !== undefined) throw new ShadowError('INVALID_ARGUMENT', 'Give --params or --params-file, not both');
  let text = inline;
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ShadowError('NOT_FOUND', `Cannot read the params file '${file}': ${(error as Error).message}`);
    }
  }
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ShadowError('INVALID_ARGUMENT', `The params are not valid JSON (${(error as Error).message}); give an object like '{"source":"/dev/sdb"}'`);
  }
}
