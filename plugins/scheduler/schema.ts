// The scheduler database's migrations, applied in order; PRAGMA user_version records how many ran. Append, never edit.

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE schedules (
     id TEXT PRIMARY KEY,
     task_type TEXT NOT NULL,
     params TEXT NOT NULL,
     cron TEXT NOT NULL,
     timezone TEXT NOT NULL,
     catch_up TEXT NOT NULL CHECK (catch_up IN ('none', 'once', 'all')),
     retention TEXT,
     enabled INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     last_due_at INTEGER NOT NULL
   );
   CREATE TABLE runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     schedule_id TEXT,
     task_type TEXT NOT NULL,
     trigger TEXT NOT NULL,
     due_at INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     status TEXT NOT NULL,
     error_code TEXT,
     error_message TEXT,
     bytes INTEGER NOT NULL DEFAULT 0,
     log TEXT NOT NULL DEFAULT '',
     pid INTEGER NOT NULL,
     boot_id TEXT NOT NULL
   );
   CREATE INDEX runs_by_schedule ON runs (schedule_id, id);
   CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
   CREATE TABLE daemon (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     pid INTEGER NOT NULL,
     boot_id TEXT NOT NULL,
     started_at INTEGER NOT NULL
   );`,
];
