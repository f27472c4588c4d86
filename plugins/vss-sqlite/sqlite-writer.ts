// SQLite as a shadow-copy writer: at freeze a write transaction (BEGIN IMMEDIATE) is opened on each database, so no
// other connection can write until thaw, and a second connection then checkpoints the write-ahead log into the main
// file (PASSIVE: with every writer held off and no older reader left, it copies every frame). The snapshot then holds
// each database whole in its main file. node:sqlite is synchronous: the retry deadline bounds how long the
// coordinator's thread waits for another writer's lock.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ShadowError, type Logger, type ShadowWriter, type ShadowWriterContext, type VetoResult, type WriterMetadata } from '../../sdk/index.js';

const SQLITE_BUSY = 5;

function databasesOf(ctx: ShadowWriterContext): string[] {
  const paths = (ctx.options['path'] ?? '').split('+').filter(Boolean).map((p) => resolve(p));
  if (paths.length === 0) throw new ShadowError('INVALID_ARGUMENT', "The sqlite writer needs the database files: --writer 'sqlite:path=FILE[+FILE...]'");
  for (const path of paths) if (!existsSync(path)) throw new ShadowError('NOT_FOUND', `SQLite database '${path}' does not exist`);
  return paths;
}

/**
 * BEGIN IMMEDIATE, retried at once on SQLITE_BUSY until the deadline: SQLite's own busy handler sleeps between tries
 * and so never sees the microseconds a busy writer leaves between its transactions.
 */
function beginImmediate(db: DatabaseSync, timeoutMs: number): void {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      db.exec('BEGIN IMMEDIATE');
      return;
    } catch (error) {
      if ((error as { errcode?: number }).errcode !== SQLITE_BUSY || performance.now() > deadline) throw error;
    }
  }
}

/** Takes the write lock, then checkpoints the log into the main file from another connection. */
function holdStill(path: string, timeoutMs: number, log: Logger): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: 0 });
  let step = 'BEGIN IMMEDIATE';
  try {
    beginImmediate(db, timeoutMs);
    step = 'the log checkpoint';
    if ((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode === 'wal') {
      const checkpointer = new DatabaseSync(path, { timeout: timeoutMs });
      try {
        const result = checkpointer.prepare('PRAGMA wal_checkpoint(PASSIVE)').get() as { busy: number; log: number; checkpointed: number };
        if (result.log !== result.checkpointed) log.warn(`${path}: ${result.checkpointed} of ${result.log} log frames checkpointed; the snapshot needs its -wal file too`);
      } finally {
        checkpointer.close();
      }
    }
    return db;
  } catch (error) {
    db.close();
    throw new ShadowError('TARGET_BUSY', `Cannot hold SQLite database '${path}' still (${step}): ${(error as Error).message}`, { cause: error });
  }
}

export class SqliteWriter implements ShadowWriter {
  private readonly held = new Map<string, DatabaseSync[]>();

  async identify(ctx: ShadowWriterContext): Promise<WriterMetadata> {
    return { components: databasesOf(ctx).map((path) => ({ name: path, paths: [path] })) };
  }

  async freeze(ctx: ShadowWriterContext): Promise<VetoResult> {
    const held: DatabaseSync[] = [];
    this.held.set(ctx.setId, held);
    for (const path of databasesOf(ctx)) held.push(holdStill(path, Math.min(5000, Number(ctx.options['busy-timeout-ms'] ?? 5000)), ctx.log));
    return undefined;
  }

  async thaw(ctx: ShadowWriterContext): Promise<void> {
    this.release(ctx.setId);
  }

  async abort(ctx: ShadowWriterContext): Promise<void> {
    this.release(ctx.setId);
  }

  private release(setId: string): void {
    for (const db of this.held.get(setId) ?? []) {
      if (db.isTransaction) db.exec('ROLLBACK');
      db.close();
    }
    this.held.delete(setId);
  }
}
