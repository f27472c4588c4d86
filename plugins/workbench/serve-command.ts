// `shadowdisk serve`: the web UI on 127.0.0.1 until stopped (also started by `shadowdisk daemon`), and `serve url`.
import { join } from 'node:path';
import { ShadowError, type CommandArgs, type CommandResult, type PluginContext, type RunContext } from '../../sdk/index.js';
import { HOST_VERSION, packageRoot } from '../../core/node/index.js';
import { checkUiRoot, readLiveServerRecord, removeServerRecord, WebServer, writeServerRecord } from '../../core/node/server/index.js';
import { backendApiOf } from './backend-api.js';

export async function serveCommand(ctx: PluginContext, args: CommandArgs, run: RunContext): Promise<CommandResult> {
  const port = portOption(args);
  const running = readLiveServerRecord(ctx.stateDir);
  if (running && running.pid !== process.pid) {
    throw new ShadowError('TARGET_BUSY', `A web UI server already runs for this state directory (pid ${running.pid}, ${running.origin}); 'shadowdisk serve url' prints its URL`);
  }
  const uiRoot = join(packageRoot(), 'dist', 'ui');
  checkUiRoot(uiRoot);
  const startedAt = new Date().toISOString();
  await using server = await WebServer.start({ api: backendApiOf(ctx), uiRoot, port, hostVersion: HOST_VERSION });
  writeServerRecord(ctx.stateDir, { pid: process.pid, origin: server.origin, url: server.openingUrl, startedAt });
  try {
    run.log.info(`Web UI at ${server.openingUrl}`);
    run.progress({ phase: 'serving', done: 0, total: 0 });
    await new Promise<void>((resolve) => {
      if (run.signal.aborted) resolve();
      else run.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    removeServerRecord(ctx.stateDir, process.pid);
  }
  return { data: { origin: server.origin, startedAt, stoppedAt: new Date().toISOString() }, text: `Web UI at ${server.origin} stopped` };
}

export function serveUrlCommand(ctx: PluginContext): CommandResult {
  const running = readLiveServerRecord(ctx.stateDir);
  if (!running) throw new ShadowError('NOT_FOUND', `No web UI server runs for the state directory '${ctx.stateDir}'; start one with 'shadowdisk serve'`);
  return { data: running, text: running.url };
}

function portOption(args: CommandArgs): number {
  const value = args.options['port'];
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ShadowError('INVALID_ARGUMENT', `--port must be a whole number from 0 (any free port) to 65535, got '${String(value)}'`);
  return port;
}
