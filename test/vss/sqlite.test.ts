// The SQLite writer under a process inserting one row per transaction into a WAL database: each set's snapshot holds
// the database whole in its main file (the log checkpointed into it), passes integrity_check on its own, and has
// every row committed before the set began, numbered without a gap.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/index.js';
import { pool, vssHost } from './vss-host.js';

const MiB = 1024 * 1024;

const INSERTER = `
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(process.argv[1], { timeout: 30000 });
db.exec('PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t(i INTEGER PRIMARY KEY, v TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
let i = 0, stop = false;
process.on('SIGTERM', () => { stop = true; });
(function step() {
  for (let n = 0; n < 10 && !stop; n++) { i++; insert.run(i, 'row ' + i); }
  if (stop) { db.close(); process.stdout.write(String(i)); process.exit(0); }
  setImmediate(step);
})();
`;

function rowsIn(path: string): { count: number; max: number; integrity: string } {
  const db = new DatabaseSync(path, { readOnly: true, timeout: 10_000 });
  try {
    const { count, max } = db.prepare('SELECT count(*) AS count, coalesce(max(i), 0) AS max FROM t').get() as { count: number; max: number };
    const { integrity_check: integrity } = db.prepare('PRAGMA integrity_check').get() as { integrity_check: string };
    return { count, max, integrity };
  } finally {
    db.close();
  }
}

describe('SQLite writer', () => {
  it('checkpoints and holds a WAL database still across the cut: the snapshot database is whole in its main file', async () => {
    await using p = await pool();
    await using vss = await vssHost();
    await using scratch = await tempDir('shadowdisk-sqlite-');
    const a = await p.volume('a', 64 * MiB, 'ext4');
    const database = join(a.mountpoint, 'app.db');
    const inserter = spawn(process.execPath, ['--no-warnings', '-e', INSERTER, database], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    inserter.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const done = new Promise<void>((resolve) => inserter.once('exit', () => resolve()));
    try {
      const started = (): boolean => {
        try {
          return rowsIn(database).count >= 100;
        } catch {
          return false; // the inserter has not made its table yet
        }
      };
      while (!started()) await new Promise((r) => setTimeout(r, 50));
      for (let round = 0; round < 4; round++) {
        const before = rowsIn(database).count;
        const set = await vss.create([a.mountpoint], { writer: `sqlite:path=${database}` });
        expect(set.writers[0]).toMatchObject({ id: 'shadowdisk.vss-sqlite.sqlite', components: [{ paths: [database] }] });
        const { mounted } = (await vss.command('mount', [set.id])) as { mounted: { mountpoint: string }[] };
        const view = mounted[0]!.mountpoint;
        // The main file alone, away from its log, holds as much as the main file with its log: the log was checkpointed.
        const alone = join(scratch.path, `alone-${round}`, 'app.db');
        const withLog = join(scratch.path, `with-log-${round}`, 'app.db');
        for (const dir of [dirname(alone), dirname(withLog)]) mkdirSync(dir);
        copyFileSync(join(view, 'app.db'), alone);
        copyFileSync(join(view, 'app.db'), withLog);
        if (existsSync(join(view, 'app.db-wal'))) copyFileSync(join(view, 'app.db-wal'), `${withLog}-wal`);
        const rows = rowsIn(alone);
        expect(rows.integrity).toBe('ok');
        expect(rows.count).toBe(rows.max);
        expect(rows.count).toBeGreaterThanOrEqual(before);
        expect(rowsIn(withLog)).toEqual(rows);
        await vss.command('unmount', [set.id]);
        await vss.command('delete', [set.id]);
      }
    } finally {
      inserter.kill('SIGTERM');
      await done;
    }
    expect(Number(out)).toBeGreaterThan(100);
  }, 60_000);
});
