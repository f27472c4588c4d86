// Splits argv into global flags, the command's CLI verb(s) and its arguments.
import type { CommandArgs, CommandInfo } from '../../../sdk/index.js';

export interface GlobalFlags {
  json: boolean;
  help: boolean;
  version: boolean;
}

/** Options that never take a value, so `disks --json /dev/sda` keeps /dev/sda as an argument. */
// Flags that never take a value: a word after one is an argument (`image backup --hot /dev/loop3 img`).
const BOOLEAN_OPTIONS = new Set([
  'json', 'help', 'version', 'yes', 'dry-run', 'quiet', 'keep', 'force', 'verbose',
  'hot', 'vss', 'at-boot', 'keep-at-boot', 'verify', 'status', 'disabled', 'drop-names', 'no-retention', 'write-test', 'prune',
]);

export interface CommandLine {
  globals: GlobalFlags;
  words: string[];
  options: Record<string, string | boolean>;
}

/**
 * `--name=value` and `--name value` give strings; `--flag` (a known boolean, or followed by another option or nothing) gives true;
 * `--` ends options; `-h` is --help.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const words: string[] = [];
  const options: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (token === '-h') {
      options['help'] = true;
    } else if (token.startsWith('--') && token.length > 2) {
      const eq = token.indexOf('=');
      const name = eq === -1 ? token.slice(2) : token.slice(2, eq);
      if (eq !== -1) options[name] = token.slice(eq + 1);
      else if (!BOOLEAN_OPTIONS.has(name) && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) options[name] = argv[++i]!;
      else options[name] = true;
    } else {
      words.push(token);
    }
  }
  return { globals: { json: options['json'] === true, help: options['help'] === true, version: options['version'] === true }, words, options };
}

/** The command whose CLI verbs are the longest prefix of `words`, and the words left as its arguments. */
export function matchCommand(commands: readonly CommandInfo[], line: CommandLine): { command: CommandInfo; args: CommandArgs } | undefined {
  let best: CommandInfo | undefined;
  let bestLength = 0;
  for (const command of commands) {
    if (!command.cli) continue;
    const verbs = command.cli.split(' ');
    if (verbs.length > bestLength && verbs.every((verb, i) => line.words[i] === verb)) {
      best = command;
      bestLength = verbs.length;
    }
  }
  if (!best) return undefined;
  return { command: best, args: { positionals: line.words.slice(bestLength), options: line.options } };
}
