// Synthetic run history for the scheduler's history bench and test: runs of 20 schedules, one a minute, most
// succeeded, some failed, skipped or timed out, each with a short log excerpt.
import type { ScheduleStore } from '../plugins/scheduler/index.js';

const STATUSES = ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'skipped', 'timed-out', 'vetoed'] as const;

/** Inserts `count` finished runs in one transaction; returns how long it took in ms. */
export function seedHistory(store: ScheduleStore, count: number, startMs = Date.UTC(2026, 0, 1)): number {
  const started = performance.now();
  store.transaction(() => {
    for (let i = 0; i < count; i++) {
      const status = STATUSES[i % STATUSES.length]!;
      const dueAt = startMs + i * 60_000;
      store.insertRun({
        scheduleId: `schedule-${i % 20}`, taskType: 'shadowdisk.scheduler.backup', trigger: 'schedule', dueAt, startedAt: dueAt + 150, endedAt: dueAt + 45_000,
        status, errorCode: status === 'failed' ? 'IO_ERROR' : status === 'timed-out' ? 'TIMEOUT' : null,
        errorMessage: status === 'succeeded' ? null : `run ${i} ${status}`, bytes: (i * 7919) % 1_000_000_000,
        log: `2026-01-01T00:00:00.000Z info Incremental backup of /dev/sdb to /srv/images/sys-${i}.sdimg\n2026-01-01T00:00:45.000Z info Wrote ${(i * 7919) % 1_000_000_000} bytes\n`,
        pid: 1000 + (i % 50), bootId: 'bench',
      });
    }
  });
  return performance.now() - started;
}
