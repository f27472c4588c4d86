// Hot processing and shadow copies: attached volumes with their snapshots, and the shadow-copy sets.
import { DataTable, rowsOf } from './data-table.js';
import { useCommandData } from './use-command-data.js';

function StatusTable({ cli, title }: { cli: string; title: string }) {
  const result = useCommandData<unknown>(cli);
  const rows = rowsOf(result.data);
  return (
    <section class="view" aria-label={title}>
      <h2>{title} <span class="muted">shadowdisk {cli}</span></h2>
      {result.error && <p class="error">{result.error}</p>}
      {rows && <DataTable rows={rows} label={title} />}
    </section>
  );
}

export function StatusScreen() {
  return (
    <div class="status-screen">
      <StatusTable cli="hot status" title="Hot processing: attached volumes" />
      <StatusTable cli="hot snapshot list" title="Hot snapshots" />
      <StatusTable cli="shadow list" title="Shadow copies" />
    </div>
  );
}
