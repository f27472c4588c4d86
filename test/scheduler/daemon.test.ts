import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ScheduleStore, type RunRecord } from '../../plugins/scheduler/index.js';
import { run, tempDir } from '../helpers/index.js';
import { cli, useCliState } from './harness.js';

const launcher = fileURLToPath(new URL('../../bin/shadowdisk.js', import.meta.url));

const statePath = useCliState();

interface Daemon extends AsyncDisposable {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** `shadowdisk daemon` in its own process (the compiled CLI); killed at dispose if still running. */
function startDaemon(): Daemon {
  const child = spawn(process.execPath, [launcher, 'daemon'], { env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child, exited, output: () => output,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const storeFolder = () => join(statePath(), 'plugins', 'shadowdisk.scheduler');

describe('shadowdisk daemon', () => {
  it('after kill -9 during a run records that run as interrupted at the next start and loses nothing else', async () => {
    expect((await cli('schedule', 'add', 'quick', '--task', 'fixtures.chores.nap', '--cron', '0 0 1 1 *', '--params', '{"ms":1,"bytes":7}', '--json')).code).toBe(0);
    for (let i = 0; i < 3; i++) expect((await cli('schedule', 'run-now', 'quick', '--json')).code).toBe(0);
    expect((await cli('schedule', 'add', 'long', '--task', 'fixtures.chores.long-nap', '--cron', '* * * * * *', '--catch-up', 'none', '--params', '{"ms":600000}', '--json')).code).toBe(0);
    using store = new ScheduleStore(storeFolder());
    const before = store.history({ limit: 100 });
    expect(before.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);

    await using first = startDaemon();
    const inFlight = await waitFor('the long run to start', () => store.runningRuns('long')[0]);
    expect(inFlight.pid).toBe(first.child.pid);
    // A second daemon on the same state directory is refused while the first lives.
    const second = await run(process.execPath, [launcher, 'daemon', '--json'], { allowFailure: true });
    expect(second.code, second.stdout + second.stderr).toBe(4);
    expect(JSON.parse(second.stdout).error.message).toContain(`A scheduler daemon already runs for this state directory (pid ${first.child.pid}`);
    // run-now in another process while the daemon's run is in flight: skipped (concurrency skip holds across processes).
    const overlap = await cli('schedule', 'run-now', 'long', '--json');
    expect(overlap.code).toBe(0);
    expect(JSON.parse(overlap.out)).toMatchObject({ status: 'skipped', trigger: 'manual', error: { message: expect.stringContaining(`run ${inFlight.id} of schedule 'long' is still in flight`) } });
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(store.getRun(inFlight.id)!.status).toBe('running');
    const recordedAtKill = store.history({ limit: 10_000 }).filter((r) => r.id !== inFlight.id);

    await using restarted = startDaemon();
    const interrupted = await waitFor('the killed run to be marked', () => {
      const r = store.getRun(inFlight.id)!;
      return r.status === 'running' ? undefined : r;
    });
    expect(interrupted).toMatchObject({ status: 'interrupted', errorCode: 'ABORTED' });
    expect(interrupted.errorMessage).toContain(`process ${first.child.pid} that ran it ended while it was in flight`);
    expect(interrupted.log).toBe(inFlight.log);
    // Every other run recorded before the kill is still there, unchanged.
    const after = new Map(store.history({ limit: 10_000 }).map((r) => [r.id, r]));
    for (const r of recordedAtKill) expect(after.get(r.id)).toEqual(r);
    expect(store.listSchedules().map((s) => s.id)).toEqual(['long', 'quick']);

    // A clean stop (SIGTERM) records the run it cuts short as interrupted, and frees the daemon slot.
    const ownRun = await waitFor('the restarted daemon to start the long run', () => store.runningRuns('long').find((r) => r.pid === restarted.child.pid));
    restarted.child.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);
    expect(store.getRun(ownRun.id)).toMatchObject({ status: 'interrupted', errorCode: 'ABORTED', errorMessage: `Run ${ownRun.id} was stopped: the scheduler is shutting down` });
    expect(store.daemonRecord()).toBeUndefined();
    expect(store.runningRuns()).toEqual([] as RunRecord[]);
  });

  it('daemon install writes a systemd unit that runs the daemon on this state directory, and systemd-analyze accepts it', async () => {
    await using units = await tempDir();
    const { code, out } = await cli('daemon', 'install', '--unit-dir', units.path, '--json');
    expect(code).toBe(0);
    const { path } = JSON.parse(out) as { path: string };
    expect(path).toBe(join(units.path, 'shadowdisk-scheduler.service'));
    const unit = readFileSync(path, 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${launcher} daemon\n`);
    expect(unit).toContain(`Environment=SHADOWDISK_HOME=${statePath()}\n`);
    expect(unit).toMatch(/^\[Unit\]\n[\s\S]*\n\[Service\]\nType=simple\n[\s\S]*Restart=on-failure\n[\s\S]*\n\[Install\]\nWantedBy=multi-user.target\n$/);
    const verify = await run('systemd-analyze', ['verify', path], { allowFailure: true });
    expect(verify.stderr.trim()).toBe('');
    expect(verify.code).toBe(0);
    const again = await cli('daemon', 'install', '--unit-dir', units.path, '--json');
    expect(again.code).toBe(2);
    expect(JSON.parse(again.out).error.message).toBe(`'${path}' already exists; add --force to replace it`);
    expect((await cli('daemon', 'install', '--unit-dir', units.path, '--force', '--json')).code).toBe(0);
  });
});
