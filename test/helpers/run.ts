// Runs a system tool for tests and helpers, failing with its stderr so a broken step names itself.
import { execFile } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export function run(command: string, args: readonly string[], options: { input?: string; allowFailure?: boolean } = {}): Promise<RunResult & { code: number }> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      if (error && !options.allowFailure) {
        reject(new Error(`${command} ${args.join(' ')} failed (exit ${String(error.code)}): ${stderr.trim() || error.message}`));
        return;
      }
      resolve({ stdout, stderr, code });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a command until it succeeds (a device or mount can stay busy for a moment after its last user), 2 s at most. */
export async function runUntilDone(command: string, args: readonly string[], what: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const { code, stderr } = await run(command, args, { allowFailure: true });
    if (code === 0) return;
    if (attempt >= 20) throw new Error(`Cannot ${what}: ${stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
