// A real backend for UI tests: `shadowdisk serve` (or `daemon`) as its own process on a temporary state directory;
// disposing stops it with SIGTERM (SIGKILL after 10 s) and waits for its exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/index.js';

export interface Backend extends AsyncDisposable {
  readonly process: ChildProcess;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  /** The opening URL with the token. */
  readonly url: string;
  readonly token: string;
  readonly output: () => string;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(root, 'bin', 'shadowdisk.js');
export const NODE = join(root, 'node_modules', '.bin', 'node');

export async function startBackend(stateDir: string, argv: string[] = ['serve'], env: NodeJS.ProcessEnv = {}): Promise<Backend> {
  const child = spawn(NODE, [CLI, ...argv, '--json'], { env: { ...process.env, SHADOWDISK_HOME: stateDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const record = await waitForRecord(stateDir, child, () => output);
    const token = new URL(record.url).searchParams.get('token')!;
    return { process: child, origin: record.origin, url: record.url, token, output: () => output, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForRecord(stateDir: string, child: ChildProcess, output: () => string): Promise<{ url: string; origin: string; pid: number }> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`The backend exited with ${child.exitCode} before serving:\n${output()}`);
    try {
      const record = JSON.parse(readFileSync(join(stateDir, 'web-ui', 'server.json'), 'utf8')) as { url: string; origin: string; pid: number };
      if (record.pid === child.pid) return record;
    } catch {
      /* not written yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`The backend did not serve within 30 s:\n${output()}`);
}

/** Runs the CLI on the same state directory as the backend (the independent view of what the UI did). */
export async function cli(stateDir: string, argv: string[], allowFailure = false): Promise<{ stdout: string; stderr: string; code: number }> {
  return run('env', [`SHADOWDISK_HOME=${stateDir}`, NODE, CLI, ...argv], { allowFailure });
}
