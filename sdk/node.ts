// @shadowdisk/sdk/node: helpers for plugins' Node side (the browser never loads this module).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ShadowError } from './errors.js';

export { listStateFiles, readStateFile, stateFileFor, writeStateFileDurably } from './durable-json.js';

/**
 * Whether process `pid` exists and has not exited: a process of another user counts (EPERM), a killed one nobody has
 * reaped yet (a zombie, state Z) does not.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** `mkfs.ext4 -F /dev/loop3p1`, for messages and check reports. */
  commandLine: string;
}

/**
 * Runs a system tool without a shell. Resolves with its exit code and output; `okCodes` lists the exit codes that are
 * not failures (default [0]) and anything else throws IO_ERROR naming the command and its stderr. Aborts kill it.
 */
export function runTool(command: string, args: readonly string[], options: { signal?: AbortSignal; okCodes?: readonly number[]; input?: string } = {}): Promise<ToolResult> {
  const commandLine = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...(options.signal ? { signal: options.signal } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') reject(new ShadowError('ABORTED', `'${commandLine}' was cancelled`, { cause: error }));
      else if (error.code === 'ENOENT') reject(new ShadowError('UNSUPPORTED', `'${command}' is not installed; install the package that provides it (see scripts/debian-packages.txt)`, { cause: error }));
      else reject(new ShadowError('IO_ERROR', `Cannot run '${commandLine}': ${error.message}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      const exitCode = code ?? 128;
      if (!(options.okCodes ?? [0]).includes(exitCode)) {
        reject(new ShadowError('IO_ERROR', `'${commandLine}' failed (${signal ? `killed by ${signal}` : `exit ${exitCode}`}): ${(stderr || stdout).trim().split('\n').slice(-3).join(' ')}`, { details: { exitCode, stderr } }));
        return;
      }
      resolve({ exitCode, stdout, stderr, commandLine });
    });
  });
}
