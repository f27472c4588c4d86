#!/usr/bin/env node
// Launcher: runs the compiled CLI on Node 24, re-executing with the project's own Node when started by an older one.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
const projectNode = `${root}node_modules/.bin/node`;
if (major < 24 && existsSync(projectNode) && !process.env.SHADOWDISK_NO_REEXEC) {
  const child = spawn(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, SHADOWDISK_NO_REEXEC: '1' } });
  // SIGTERM sent to this process alone (kill PID, a service manager) reaches the real CLI, which cancels its work
  // cleanly. Not SIGINT: a terminal's Ctrl-C already reaches both, and a second one would kill the CLI mid-cleanup.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  process.on('SIGINT', () => undefined);
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
} else {
  await runCli();
}

async function runCli() {
  const cli = `${root}dist/core/node/cli/run.js`;
  if (!existsSync(cli)) {
    process.stderr.write(`shadowdisk: ${cli} is missing; run 'npm run build' first\n`);
    process.exit(1);
  }
  await import(cli);
}
