// Runs a script's default export with a ScriptContext. Under --dry-run every command that has a dry run gets one, and a
// command that changes disks (it takes --yes) without one is refused, so a dry run writes to no disk.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CommandArgs, CommandInfo, CommandResult, PluginContext, RunContext, ScriptContext, ScriptModule } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';
import { matchCommand, parseCommandLine } from '../../core/node/cli/command-line.js';

interface ScriptCall {
  command: string;
  positionals: readonly string[];
  dryRun: boolean;
}

export async function runScript(ctx: PluginContext, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  const [fileArg, ...scriptArgs] = args.positionals;
  if (!fileArg) throw new ShadowError('INVALID_ARGUMENT', 'Name the script: shadowdisk script run <file.js> [args...] [--dry-run]');
  const file = resolve(fileArg);
  const dryRun = args.options['dry-run'] === true;
  const commands = ctx.commands.list();
  const calls: ScriptCall[] = [];

  const executeCommand = async (id: string, callArgs: Partial<CommandArgs> = {}): Promise<CommandResult> => {
    const info = commands.find((c) => c.id === id);
    if (!info) throw new ShadowError('COMMAND_NOT_FOUND', `Script ${file} runs command '${id}', which no plugin contributes`);
    if (id === 'shadowdisk.scripting.run') throw new ShadowError('INVALID_ARGUMENT', `Script ${file} runs another script; call its code instead`);
    const options = { ...(callArgs.options ?? {}) };
    const positionals = callArgs.positionals ?? [];
    if (dryRun) {
      if (hasOption(info, 'dry-run')) options['dry-run'] = true;
      else if (hasOption(info, 'yes')) {
        throw new ShadowError('UNSUPPORTED', `Dry run of ${file}: '${info.cli ?? id}' changes disks and has no --dry-run, so it was not run; nothing was written by it`);
      }
    }
    calls.push({ command: info.cli ?? id, positionals, dryRun: options['dry-run'] === true });
    run.log.info(`${options['dry-run'] === true ? 'dry run: ' : ''}${info.cli ?? id} ${positionals.join(' ')}`.trim());
    return ctx.commands.executeCommand(id, { positionals, options }, run);
  };

  const sd: ScriptContext = {
    dryRun, args: scriptArgs, commands, log: run.log, executeCommand,
    async cli(...words: string[]) {
      const match = matchCommand(commands, parseCommandLine(words));
      if (!match) throw new ShadowError('COMMAND_NOT_FOUND', `Script ${file} runs '${words.join(' ')}', which is no command; 'shadowdisk commands' lists them`);
      return (await executeCommand(match.command.id, match.args)).data;
    },
  };

  let module: Partial<ScriptModule>;
  try {
    module = (await import(pathToFileURL(file).href)) as Partial<ScriptModule>;
  } catch (error) {
    throw new ShadowError('NOT_FOUND', `Cannot load script ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (typeof module.default !== 'function') throw new ShadowError('INVALID_ARGUMENT', `Script ${file} has no default export function; write 'export default async function (sd) { ... }'`);
  const result = (await module.default(sd)) ?? null;
  const text = `${dryRun ? 'Dry run: no disk was written.\n' : ''}${calls.map((c) => `${c.dryRun ? '(dry run) ' : ''}${c.command} ${c.positionals.join(' ')}`).join('\n')}`;
  return { data: { file, dryRun, calls, result }, text };
}

/** Whether a command's usage names `--option`. */
function hasOption(info: CommandInfo, option: string): boolean {
  return new RegExp(`--${option}\\b`).test(info.usage ?? '');
}
