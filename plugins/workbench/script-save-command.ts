// `shadowdisk script save <file.js> --text TEXT`: writes a script (the web UI's editor saves through it), mode 0600.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ShadowError, type CommandArgs, type CommandResult } from '../../sdk/index.js';

export function scriptSaveCommand(args: CommandArgs): CommandResult {
  const file = args.positionals[0];
  const text = args.options['text'];
  if (!file || !/\.m?js$/.test(file)) throw new ShadowError('INVALID_ARGUMENT', `Name a .js or .mjs file to save the script to, got '${file ?? ''}'`);
  if (typeof text !== 'string') throw new ShadowError('INVALID_ARGUMENT', 'Give the script as --text TEXT');
  const path = resolve(file);
  try {
    writeFileSync(path, text, { mode: 0o600 });
  } catch (error) {
    throw new ShadowError('IO_ERROR', `Cannot write the script '${path}': ${(error as Error).message}`);
  }
  return { data: { path, bytes: Buffer.byteLength(text) }, text: `Saved ${path}` };
}
