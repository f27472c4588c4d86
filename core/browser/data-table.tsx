// Renders command data declaratively: the first array of objects as a table, an object as fields, nested values as a tree.
import type { ComponentChildren } from 'preact';

/** The rows a table view shows: the data itself when it is an array, else its first array property. */
export function rowsOf(data: unknown): Record<string, unknown>[] | null {
  if (Array.isArray(data)) return data as Record<string, unknown>[];
  if (data && typeof data === 'object') {
    for (const value of Object.values(data)) if (Array.isArray(value)) return value as Record<string, unknown>[];
  }
  return null;
}

export function DataTable({ rows, label }: { rows: Record<string, unknown>[]; label: string }) {
  if (rows.length === 0) return <p class="muted">Nothing to show.</p>;
  const columns = [...new Set(rows.flatMap((r) => (r && typeof r === 'object' ? Object.keys(r) : ['value'])))].slice(0, 10);
  return (
    <table class="data" aria-label={label}>
      <thead><tr>{columns.map((c) => <th key={c}>{c}</th>)}</tr></thead>
      <tbody>{rows.map((r, i) => <tr key={i}>{columns.map((c) => <td key={c}>{cell(r && typeof r === 'object' ? r[c] : r)}</td>)}</tr>)}</tbody>
    </table>
  );
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function DataTree({ data, name = 'data' }: { data: unknown; name?: string }): ComponentChildren {
  if (data === null || typeof data !== 'object') return <li><span class="key">{name}</span> {cell(data)}</li>;
  const entries = Array.isArray(data) ? data.map((v, i) => [String(i), v] as const) : Object.entries(data);
  return (
    <li>
      <details open={entries.length <= 12}>
        <summary><span class="key">{name}</span> <span class="muted">{Array.isArray(data) ? `[${entries.length}]` : `{${entries.length}}`}</span></summary>
        <ul class="tree">{entries.map(([k, v]) => <DataTree key={k} data={v} name={k} />)}</ul>
      </details>
    </li>
  );
}

export function DataForm({ data, label }: { data: unknown; label: string }) {
  const fields = data && typeof data === 'object' && !Array.isArray(data) ? Object.entries(data) : [['value', data] as const];
  return (
    <form class="view-form" aria-label={label} onSubmit={(e) => e.preventDefault()}>
      {fields.map(([k, v]) => <label key={k}>{k}<input readOnly value={cell(v)} /></label>)}
    </form>
  );
}
