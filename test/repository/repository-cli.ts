// Runs the shadowdisk CLI as its own process (a "machine" backing up into a shared repository): --json result parsed,
// the child kept for kill -9. Needs `npm run build:ts` (the CLI runs dist/).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  /** What it has written to standard error so far (NDJSON events with --json). */
  stderr(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; data: Record<string, unknown>; stdout: string; stderr: string }>;
}

export function shadowdisk(env: Record<string, string>, ...args: string[]): CliRun {
  const child = spawn(`${root}node_modules/.bin/node`, [`${root}bin/shadowdisk.js`, ...args, '--json'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Awaited<CliRun['done']>>((resolve) => {
    child.on('close', (code, signal) => {
      let data: Record<string, unknown> = {};
      try {
        data = JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        // Killed or crashed: no JSON.
      }
      resolve({ code, signal, data, stdout, stderr });
    });
  });
  return { child, done, stderr: () => stderr };
}

/** Runs to the end and expects success; the failure message carries the command's own output. */
export async function ok(env: Record<string, string>, ...args: string[]): Promise<Record<string, unknown>> {
  const result = await shadowdisk(env, ...args).done;
  if (result.code !== 0) throw new Error(`shadowdisk ${args.join(' ')} exited ${result.code ?? result.signal}: ${result.stdout} ${result.stderr.slice(-2000)}`);
  return result.data;
}

export async function sha256Of(path: string, lengthBytes?: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, lengthBytes !== undefined ? { end: lengthBytes - 1 } : {})) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Polls until `condition` holds; fails after `timeoutMs` naming `what`. */
export async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
