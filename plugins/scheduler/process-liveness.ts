// Whether a run marked running is still in flight: its process must be alive, on this boot.
import { readFileSync } from 'node:fs';
import { processAlive as isAlive } from '../../sdk/node.js';

export const BOOT_ID = readBootId();

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** A pid from another boot names some other process (or none). */
export function processAlive(pid: number, bootId: string): boolean {
  return bootId === BOOT_ID && isAlive(pid);
}
