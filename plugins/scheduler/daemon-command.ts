// `shadowdisk daemon`: one per state directory; marks runs a dead process left in flight as interrupted, catches up
// missed runs per schedule, then runs schedules until SIGTERM/SIGINT (in-flight runs are then recorded interrupted).
import { join } from 'node:path';
import { ShadowError, type CommandArgs, type CommandResult, type RunContext } from '../../sdk/index.js';
import { stringOption } from './command-args.js';
import { BOOT_ID, processAlive } from './process-liveness.js';
import type { SchedulerServices } from './services.js';
import { installUnit, UNIT_NAME } from './systemd-unit.js';

/** Serves the web UI until the signal aborts (the workbench's `serve`); the daemon carries on without it if it cannot. */
export type ServeUi = (signal: AbortSignal) => Promise<unknown>;

export async function daemonCommand(services: SchedulerServices, run: RunContext, serveUi?: ServeUi): Promise<CommandResult> {
  const { store, scheduler, clock } = services;
  const startedAt = clock.now();
  const other = store.claimDaemon(process.pid, BOOT_ID, startedAt, processAlive);
  if (other) throw new ShadowError('TARGET_BUSY', `A scheduler daemon already runs for this state directory (pid ${other.pid}, since ${new Date(other.startedAt).toISOString()}); stop it first`);
  try {
    const interrupted = scheduler.recoverInterrupted();
    run.log.info(`Scheduler daemon started (pid ${process.pid}); ${interrupted.length} run(s) left in flight by a dead process recorded as interrupted`);
    const serving = serveUi?.(run.signal).catch((error: Error) => run.log.warn(`The web UI is not served by this daemon: ${error.message}`));
    await scheduler.runUntil(run.signal);
    await serving;
    return { data: { pid: process.pid, startedAt: new Date(startedAt).toISOString(), stoppedAt: new Date(clock.now()).toISOString(), interruptedAtStart: interrupted.map((r) => r.id) }, text: 'Scheduler daemon stopped' };
  } finally {
    store.releaseDaemon(process.pid);
  }
}

export function daemonInstallCommand(args: CommandArgs, stateDir: string, root: string): CommandResult {
  const unitDir = stringOption(args, 'unit-dir') ?? '/etc/systemd/system';
  const options = { nodePath: process.execPath, launcher: join(root, 'bin', 'shadowdisk.js'), docsPath: join(root, 'docs', 'cli.md'), stateDir };
  const { path, unit } = installUnit(unitDir, options, args.options['force'] === true);
  return { data: { path, unit }, text: `Wrote ${path}; enable it with 'systemctl daemon-reload && systemctl enable --now ${UNIT_NAME}'` };
}
