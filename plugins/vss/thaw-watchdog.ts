// The thaw watchdog: a separate process that thaws every filesystem the coordinator holds frozen when the coordinator
// dies (its end of our stdin closes) or the hold outlives its deadline. Only node: imports and erasable TypeScript, so
// Node runs this file as it is when the sources are not compiled.
//
// Protocol, one JSON object per line: in `{"hold":[mountpoints],"deadlineMs":N}`, `{"release":true}`; out
// `{"ready":true}` at start, `{"ok":true}` after each request, `{"expired":[mountpoints]}` when a deadline thawed them.
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

let held: string[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;

function say(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** FITHAW through util-linux; a filesystem that is not frozen (EINVAL) is fine. */
function thawAll(): string[] {
  const thawed: string[] = [];
  for (const mountpoint of held) {
    const result = spawnSync('fsfreeze', ['--unfreeze', mountpoint], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
    if (result.status === 0) thawed.push(mountpoint);
  }
  held = [];
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  return thawed;
}

function onLine(line: string): void {
  if (line.trim() === '') return;
  const request = JSON.parse(line) as { hold?: string[]; deadlineMs?: number; release?: boolean };
  if (request.hold !== undefined) {
    held = [...request.hold];
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => say({ expired: thawAll() }), request.deadlineMs ?? 10_000);
  } else if (request.release === true) {
    held = [];
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  }
  say({ ok: true });
}

// The coordinator going away is the reason this process exists: thaw, then leave.
const finish = (): void => {
  thawAll();
  process.exit(0);
};
process.on('SIGTERM', finish);
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
process.stdout.on('error', () => undefined);
const lines = createInterface({ input: process.stdin });
lines.on('line', onLine);
lines.on('close', finish);
say({ ready: true });
