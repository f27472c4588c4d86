// What a script run by `shadowdisk script run FILE.js` gets: the commands every plugin offers, and whether it is a dry run.
import type { Logger } from './job.js';
import type { CommandArgs, CommandInfo, CommandResult } from './plugin-context.js';

export interface ScriptContext {
  /** True under `--dry-run`: commands that have a dry run get `--dry-run`, other disk-changing ones are refused. */
  readonly dryRun: boolean;
  /** Words after the script's file on the command line. */
  readonly args: readonly string[];
  /** Runs a command by its CLI words, as typed after `shadowdisk`: `sd.cli('part', 'create', disk, '--size', '32MiB')`; resolves with its data. */
  cli(...words: string[]): Promise<unknown>;
  executeCommand(id: string, args?: Partial<CommandArgs>): Promise<CommandResult>;
  readonly commands: readonly CommandInfo[];
  readonly log: Logger;
}

/** A script module: its default export runs with the context; what it returns is printed as the result. */
export interface ScriptModule {
  default(sd: ScriptContext): unknown;
}
