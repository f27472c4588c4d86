#!/usr/bin/env node
// Launcher: runs the compiled CLI on Node 24, re-executing with the project's own Node when started by an older one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
const projectNode = `${root}node_modules/.bin/node`;
if (major < 24 && existsSync(projectNode) && !process.env.SHADOWDISK_NO_REEXEC) {
  const child = spawnSync(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, SHADOWDISK_NO_REEXEC: '1' } });
  process.exit(child.status ?? 1);
}
const cli = `${root}dist/core/node/cli/run.js`;
if (!existsSync(cli)) {
  process.stderr.write(`shadowdisk: ${cli} is missing; run 'npm run build' first\n`);
  process.exit(1);
}
await import(cli);
