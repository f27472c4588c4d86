// Schedules: the scheduler's table views, and a form to create or edit one with a readable cron helper, then history.
import { useState } from 'preact/hooks';
import { commandId, useApp } from './app-context.js';
import { CRON_PRESETS, describeCron } from './cron-text.js';
import { DataTable } from './data-table.js';
import { useCommandData } from './use-command-data.js';

interface ScheduleRow {
  id: string;
  taskType: string;
  cron: string;
  timezone: string;
  params: unknown;
  enabled: boolean;
  [key: string]: unknown;
}

interface TaskType {
  id: string;
  title: string;
  paramsSchema?: { properties?: Record<string, { default?: unknown }>; required?: string[] };
}

export function SchedulesScreen() {
  const app = useApp();
  const list = useCommandData<{ schedules: ScheduleRow[] }>('schedule list');
  const history = useCommandData<{ runs: Record<string, unknown>[] }>('schedule history', ['--limit', '20']);
  const [editing, setEditing] = useState<ScheduleRow | 'new' | null>(null);
  const schedules = list.data?.schedules ?? [];
  return (
    <div class="schedules-screen">
      <header class="screen-header">
        <h2>Schedules</h2>
        <div class="toolbar"><button class="primary" onClick={() => setEditing('new')}>New schedule…</button></div>
      </header>
      {list.error && <p class="error">{list.error}</p>}
      {schedules.length === 0 ? <p class="muted">No schedules yet.</p> : (
        <table class="data" aria-label="Schedules">
          <thead><tr><th>Id</th><th>Task</th><th>When</th><th>Time zone</th><th>Enabled</th><th /></tr></thead>
          <tbody>
            {schedules.map((s) => (
              <tr key={s.id} data-schedule={s.id}>
                <td>{s.id}</td><td>{s.taskType}</td><td title={s.cron}>{describeCron(s.cron)}</td><td>{s.timezone}</td><td>{s.enabled ? 'yes' : 'no'}</td>
                <td class="row-actions">
                  <button onClick={() => setEditing(s)}>Edit</button>
                  <button onClick={() => app.run(commandId(app.commands, 'schedule run-now'), [s.id]).catch(() => undefined)}>Run now</button>
                  <button onClick={() => app.run(commandId(app.commands, 'schedule remove'), [s.id]).catch(() => undefined)}>Remove</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && <ScheduleEditor schedule={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      <h3>History</h3>
      {history.data && <DataTable rows={history.data.runs} label="Run history" />}
    </div>
  );
}

function defaultParams(type: TaskType | undefined): string {
  const props = type?.paramsSchema?.properties ?? {};
  const required = type?.paramsSchema?.required ?? [];
  return JSON.stringify(Object.fromEntries(required.map((k) => [k, props[k]?.default ?? ''])), null, 2);
}

function ScheduleEditor({ schedule, onDone }: { schedule: ScheduleRow | null; onDone(): void }) {
  const app = useApp();
  const types = useCommandData<{ taskTypes: TaskType[] }>('schedule types').data?.taskTypes ?? [];
  const [id, setId] = useState(schedule?.id ?? '');
  const [task, setTask] = useState(schedule?.taskType ?? '');
  const [cron, setCron] = useState(schedule?.cron ?? '30 3 * * *');
  const [timezone, setTimezone] = useState(schedule?.timezone ?? 'UTC');
  const [params, setParams] = useState(schedule ? JSON.stringify(schedule.params, null, 2) : '{}');
  const save = async () => {
    const argv = [id, '--task', task, '--cron', cron, '--timezone', timezone, '--params', params];
    try {
      await app.run(commandId(app.commands, schedule ? 'schedule edit' : 'schedule add'), argv);
      app.toast('info', `Schedule '${id}' saved`);
      onDone();
    } catch {
      /* the toast shows it */
    }
  };
  return (
    <form class="wizard schedule-editor" aria-label={schedule ? `Edit schedule ${schedule.id}` : 'New schedule'} onSubmit={(e) => { e.preventDefault(); void save(); }}>
      <label>Id<input name="id" value={id} readOnly={schedule !== null} onInput={(e) => setId((e.target as HTMLInputElement).value)} placeholder="nightly-root" /></label>
      <label>Task type
        <select name="task" value={task} onChange={(e) => {
          const next = (e.target as HTMLSelectElement).value;
          setTask(next);
          if (!schedule) setParams(defaultParams(types.find((t) => t.id === next)));
        }}>
          <option value="">Choose…</option>
          {types.map((t) => <option key={t.id} value={t.id}>{t.title}</option>)}
        </select>
      </label>
      <label>When (cron: minute hour day month weekday)
        <input name="cron" value={cron} onInput={(e) => setCron((e.target as HTMLInputElement).value)} />
        <span class="cron-text" data-testid="cron-text">{describeCron(cron)}</span>
      </label>
      <div class="presets">{CRON_PRESETS.map((p) => <button type="button" key={p.cron} onClick={() => setCron(p.cron)}>{p.label}</button>)}</div>
      <label>Time zone<input name="timezone" value={timezone} onInput={(e) => setTimezone((e.target as HTMLInputElement).value)} /></label>
      <label>Params (JSON)<textarea name="params" rows={5} value={params} onInput={(e) => setParams((e.target as HTMLTextAreaElement).value)} /></label>
      <div class="actions"><button type="button" onClick={onDone}>Cancel</button><button class="primary" type="submit" disabled={id === '' || task === ''}>Save schedule</button></div>
    </form>
  );
}
