// Starts a hotcore engine in its own session (setsid: a stopped, orphaned group would get SIGHUP) with its log in its
// folder, waits until it answers, and waits for it to end. Also the last resort for a hung engine: aborting its FUSE
// connection, which fails pending I/O with EIO instead of leaving writers in D state.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hotcoreExecutable } from '../../native/index.js';
import { ShadowError } from '../../sdk/index.js';
import { processAlive } from '../../sdk/node.js';
import { EngineClient, type EngineStatus, type EngineTransport } from './engine-client.js';

export interface EngineLaunch {
  origin: string;
  engineDir: string;
  controlPath: string;
  /** The changed-block map file kept between attachments. */
  changedBlocksFile: string;
  diffDir: string;
  diffLimitBytes?: number;
  /** Copy-before-write chunk in KiB, a power of two from 4 to 256 (the engine's default: 64). */
  cowChunkKib?: number;
  /** 'auto' (default): FUSE over io_uring where the kernel offers it, else /dev/fuse; 'dev-fuse' forces the latter. */
  transport?: EngineTransport;
  /** Seconds without progress (while requests wait) after which the engine's watchdog aborts it; 0: no watchdog. */
  watchdogSec?: number;
  readyTimeoutMs?: number;
}

export interface StartedEngine {
  pid: number;
  mountDir: string;
  controlPath: string;
  logPath: string;
  client: EngineClient;
  status: EngineStatus;
}

/**
 * A stalled engine (stopped, or stuck with requests waiting) is aborted after this long, so writers get EIO as after a
 * kill instead of waiting forever in D state. Generous: one request waits in the engine at most for the disk.
 */
export const DEFAULT_WATCHDOG_SEC = 60;

export async function startEngine(launch: EngineLaunch): Promise<StartedEngine> {
  const mountDir = join(launch.engineDir, 'mnt');
  const controlPath = launch.controlPath;
  mkdirSync(dirname(controlPath), { recursive: true, mode: 0o700 });
  const logPath = join(launch.engineDir, 'engine.log');
  mkdirSync(mountDir, { recursive: true, mode: 0o700 });
  const args = ['--origin', launch.origin, '--mount', mountDir, '--diff-dir', launch.diffDir, '--control', controlPath];
  if (launch.diffLimitBytes !== undefined) args.push('--diff-limit-bytes', String(launch.diffLimitBytes));
  if (launch.cowChunkKib !== undefined) args.push('--cow-chunk-kib', String(launch.cowChunkKib));
  if (launch.transport !== undefined) args.push('--transport', launch.transport);
  args.push('--watchdog', String(launch.watchdogSec ?? DEFAULT_WATCHDOG_SEC));
  mkdirSync(dirname(launch.changedBlocksFile), { recursive: true, mode: 0o700 });
  args.push('--cbt-file', launch.changedBlocksFile);
  const log = openSync(logPath, 'a', 0o600);
  let exitCode: number | null | undefined;
  // cwd '/': an engine outlives the command that started it and must not pin the folder it was started from.
  const child = spawn(hotcoreExecutable(), args, { detached: true, cwd: '/', stdio: ['ignore', log, log] });
  closeSync(log);
  child.once('exit', (code, signal) => (exitCode = code ?? (signal ? 128 : null)));
  child.unref();
  const client = new EngineClient(controlPath);
  const deadline = Date.now() + (launch.readyTimeoutMs ?? 10_000);
  for (;;) {
    try {
      const status = await client.status(1000);
      return { pid: child.pid!, mountDir, controlPath, logPath, client, status };
    } catch (error) {
      if (exitCode !== undefined || Date.now() > deadline) {
        if (exitCode === undefined) child.kill('SIGKILL');
        throw new ShadowError('IO_ERROR', `The hotcore engine for '${launch.origin}' did not start (${exitCode === undefined ? 'no answer' : `exit ${String(exitCode)}`}): ${lastLogLines(logPath)}`, { cause: error });
      }
      await sleep(20);
    }
  }
}

export function isRunning(pid: number): boolean {
  return processAlive(pid);
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Aborts the FUSE connection behind `mountDir` (its device number names /sys/fs/fuse/connections/N): every pending
 * and later request fails with EIO. For an engine that stopped answering; fusectl is mounted if it is not.
 */
export function abortFuseConnection(mountDir: string): boolean {
  // From the mount table, not stat(): a hung engine would never answer the GETATTR.
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => decodeMountField(l.split(' ')[4] ?? '') === mountDir);
  const minor = line?.split(' ')[2]?.split(':')[1];
  if (minor === undefined) return false;
  const connections = '/sys/fs/fuse/connections';
  if (readdirSync(connections).length === 0) spawnSync('mount', ['-t', 'fusectl', 'none', connections], { stdio: 'ignore' });
  try {
    writeFileSync(join(connections, String(minor), 'abort'), '1');
    return true;
  } catch {
    return false;
  }
}

export function isMountpoint(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => decodeMountField(l.split(' ')[4] ?? '') === dir);
}

/**
 * Lifts the FUSE mount an engine left when it died (kill -9 leaves it mounted with a dead connection, every access
 * failing with ENOTCONN); only ever called on an attachment's own mount folder. True when it is gone.
 */
export function unmountOrphanedMount(mountDir: string): boolean {
  if (!isMountpoint(mountDir)) return true;
  spawnSync('umount', [mountDir], { stdio: 'ignore' });
  if (isMountpoint(mountDir)) spawnSync('umount', ['-l', mountDir], { stdio: 'ignore' });
  return !isMountpoint(mountDir);
}

/** The mount table's octal escapes (`\\040` for a space) decoded. */
export function decodeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function lastLogLines(logPath: string, lines = 5): string {
  try {
    return readFileSync(logPath, 'utf8').trim().split('\n').slice(-lines).join(' | ') || '(empty log)';
  } catch {
    return '(no log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
