// <stateDir>/web-ui/server.json (mode 0600): where a running server listens and its token, for the Electron shell and
// for a second `serve` or daemon on the same state directory, which then leaves the running one be.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../../../sdk/node.js';

export interface ServerRecord {
  pid: number;
  origin: string;
  url: string;
  startedAt: string;
}

export function serverFilePath(stateDir: string): string {
  return join(stateDir, 'web-ui', 'server.json');
}

export function writeServerRecord(stateDir: string, record: ServerRecord): void {
  mkdirSync(join(stateDir, 'web-ui'), { recursive: true, mode: 0o700 });
  writeFileSync(serverFilePath(stateDir), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

/** The record of a server whose process is still alive, or undefined. */
export function readLiveServerRecord(stateDir: string, alive: (pid: number) => boolean = processAlive): ServerRecord | undefined {
  let record: ServerRecord;
  try {
    record = JSON.parse(readFileSync(serverFilePath(stateDir), 'utf8')) as ServerRecord;
  } catch {
    return undefined;
  }
  return typeof record.pid === 'number' && typeof record.url === 'string' && alive(record.pid) ? record : undefined;
}

export function removeServerRecord(stateDir: string, pid: number): void {
  if (readLiveServerRecord(stateDir, () => true)?.pid === pid) rmSync(serverFilePath(stateDir), { force: true });
}

