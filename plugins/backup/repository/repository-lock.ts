// Lock objects, as restic keeps them: locks/ID holds who (host, pid), what (backup: shared; prune: one at a time) and
// when, refreshed while the holder works. A lock is stale once not refreshed for staleAfterMs, or at once when it is
// this host's and its process is gone (kill -9): stale locks are ignored and removed by the next prune.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ShadowError } from '../../../sdk/index.js';
import { processAlive } from '../../../sdk/node.js';
import type { Repository } from './repository.js';

export type LockKind = 'backup' | 'prune';

export interface LockRecord {
  host: string;
  pid: number;
  kind: LockKind;
  /** Last refresh. */
  time: string;
  started: string;
  /** A backup says 'flushed' once every chunk it will upload is uploaded and indexed (see repository-peers.ts). */
  phase?: 'running' | 'flushed';
}

export interface HeldLock {
  key: string;
  record: LockRecord;
  stale: boolean;
}

const minutes = (name: string, fallback: number) => Number(process.env[name] ?? fallback) * 60_000;
/** Refresh every 5 minutes; stale after 30 (SHADOWDISK_REPO_LOCK_STALE_MIN overrides, for tests). */
export const lockTiming = () => ({ refreshMs: minutes('SHADOWDISK_REPO_LOCK_REFRESH_MIN', 5), staleAfterMs: minutes('SHADOWDISK_REPO_LOCK_STALE_MIN', 30) });

export function isStale(record: LockRecord, now = Date.now()): boolean {
  if (now - Date.parse(record.time) > lockTiming().staleAfterMs) return true;
  return record.host === hostname() && !processAlive(record.pid);
}

export async function listLocks(repository: Repository): Promise<HeldLock[]> {
  const out: HeldLock[] = [];
  for (const object of await repository.store.list('locks/')) {
    try {
      const record = await repository.readJson<LockRecord>(object.key, 'lock');
      out.push({ key: object.key, record, stale: isStale(record) });
    } catch (error) {
      if (error instanceof ShadowError && error.code === 'NOT_FOUND') continue;
      throw error;
    }
  }
  return out;
}

export class RepositoryLock implements AsyncDisposable {
  private readonly timer: NodeJS.Timeout;
  private refreshing: Promise<void> = Promise.resolve();
  private readonly started = new Date().toISOString();
  private phase: LockRecord['phase'] = 'running';

  private constructor(private readonly repository: Repository, readonly key: string, private readonly kind: LockKind) {
    this.timer = setInterval(() => {
      this.refreshing = this.write().catch(() => undefined);
    }, lockTiming().refreshMs);
    this.timer.unref();
  }

  /** Writes the lock first, then looks for conflicting ones, so two prunes racing both see each other. */
  static async acquire(repository: Repository, kind: LockKind): Promise<RepositoryLock> {
    const lock = new RepositoryLock(repository, `locks/${randomBytes(16).toString('hex')}`, kind);
    await lock.write();
    if (kind === 'prune') {
      const other = (await listLocks(repository)).find((l) => l.key !== lock.key && l.record.kind === 'prune' && !l.stale);
      if (other) {
        await lock[Symbol.asyncDispose]();
        throw new ShadowError('TARGET_BUSY', `Another prune of ${repository.url} is running (host ${other.record.host}, pid ${other.record.pid}, since ${other.record.time}); wait for it to finish`);
      }
    }
    return lock;
  }

  async setPhase(phase: NonNullable<LockRecord['phase']>): Promise<void> {
    this.phase = phase;
    await this.refreshing;
    await this.write();
  }

  private async write(): Promise<void> {
    const record: LockRecord = { host: hostname(), pid: process.pid, kind: this.kind, time: new Date().toISOString(), started: this.started, ...(this.phase ? { phase: this.phase } : {}) };
    await this.repository.store.put(this.key, this.repository.sealJson(record, 'lock'));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
    await this.repository.store.delete(this.key);
  }
}
