// The `shadowdisk` CLI: subcommands come from the command registry; --json everywhere; exit codes by error class.
import { ShadowError, type CommandInfo } from '../../../sdk/index.js';
import { Job } from '../../common/index.js';
import { createHost } from '../host.js';
import { HOST_VERSION } from '../version.js';
import { matchCommand, parseCommandLine } from './command-line.js';
import { ProgressRenderer, type OutputStreams } from './progress-renderer.js';

export interface CliIo extends OutputStreams {
  /** Aborts the running command (SIGINT in a real process). */
  signal?: AbortSignal;
  /** Asks a yes/no question on the terminal; absent when stdin is not a terminal. */
  confirm?: (question: string) => Promise<boolean>;
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const line = parseCommandLine(argv);
  const json = line.globals.json;
  if (line.globals.version && line.words.length === 0) {
    io.stdout.write(json ? `${JSON.stringify({ version: HOST_VERSION })}\n` : `shadowdisk ${HOST_VERSION}\n`);
    return 0;
  }
  const renderer = new ProgressRenderer(io, json);
  try {
    await using host = await createHost({
      logSink: (pluginId, level, message) => renderer.onEvent({ type: 'log', jobId: pluginId, level, message }),
    });
    const commands = host.listCommands();
    if (line.words.length === 0) {
      io.stdout.write(json ? `${JSON.stringify({ usage: usageOf(commands) })}\n` : helpText(commands));
      return line.globals.help ? 0 : 2;
    }
    const match = matchCommand(commands, line);
    if (!match) {
      throw new ShadowError('COMMAND_NOT_FOUND', `Unknown command '${line.words.join(' ')}'; run 'shadowdisk commands' to list the commands`);
    }
    if (line.globals.help) {
      const { command } = match;
      io.stdout.write(`shadowdisk ${command.cli} ${command.usage ?? ''}\n  ${command.title}${command.description ? `: ${command.description}` : ''}\n  id ${command.id}, from plugin ${command.pluginId}\n`);
      return 0;
    }
    const job = new Job({ title: match.command.id, onEvent: renderer.onEvent, ...(io.signal ? { signal: io.signal } : {}) });
    const confirm = io.confirm && !json ? io.confirm : async () => false;
    const result = await job.run((run) => host.executeCommand(match.command.id, match.args, { ...run, confirm }));
    const out = result.ownsStdout ? io.stderr : io.stdout;
    if (json) out.write(`${JSON.stringify(result.data, jsonReplacer, 2)}\n`);
    else if (!(result.ownsStdout && !result.text)) out.write(`${result.text ?? JSON.stringify(result.data, jsonReplacer, 2)}\n`);
    return 0;
  } catch (caught) {
    // A failure while shutting the host down must not hide the command's own error.
    const error = caught instanceof SuppressedError ? caught.suppressed ?? caught.error : caught;
    const shadow = ShadowError.from(error);
    if (json) io.stdout.write(`${JSON.stringify({ error: shadow.toJSON() }, jsonReplacer, 2)}\n`);
    else io.stderr.write(`shadowdisk: ${shadow.message} [${shadow.code}]\n`);
    if (shadow.code === 'INTERNAL' && process.env['SHADOWDISK_DEBUG'] && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return shadow.exitCode;
  }
}

/** BigInt values (device sizes) print as numbers when safe, as strings otherwise. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

function usageOf(commands: readonly CommandInfo[]): { cli: string; usage: string | null; title: string; id: string }[] {
  return commands.filter((c) => c.cli).map((c) => ({ cli: c.cli!, usage: c.usage ?? null, title: c.title, id: c.id }));
}

function helpText(commands: readonly CommandInfo[]): string {
  const rows = usageOf(commands).sort((a, b) => a.cli.localeCompare(b.cli));
  const width = Math.max(...rows.map((r) => `${r.cli} ${r.usage ?? ''}`.length), 10);
  return [
    `Usage: shadowdisk <command> [arguments] [--json]`,
    '',
    'Commands:',
    ...rows.map((r) => `  ${`${r.cli} ${r.usage ?? ''}`.padEnd(width)}  ${r.title}`),
    '',
    "Every command takes --json (result on stdout, progress as NDJSON on stderr). 'shadowdisk commands' lists them all.",
    '',
  ].join('\n');
}
