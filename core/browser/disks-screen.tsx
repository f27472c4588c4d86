// The Disks screen: every disk with its map, the selected disk's planned layout, partition details and pending operations.
import { useState } from 'preact/hooks';
import { commandId, useApp } from './app-context.js';
import { DiskBar, type Layout } from './disk-map.js';
import { formatBytes } from './format.js';
import { PendingOperations, type Plan } from './pending-operations.js';
import { partitionTypeName } from './partition-types.js';
import { useCommandData } from './use-command-data.js';

interface Disk {
  path: string;
  sizeBytes: number;
  logicalSectorSize: number;
  model: string | null;
  busy: boolean;
  partitions: { number: number; startBytes: number; sizeBytes: number; mountpoints: string[] }[];
}

interface FsUsage {
  partitions: { number: number; filesystem: string | null; label: string | null; usedBytes: number | null; sizeBytes: number }[];
}

/** The kernel's view of a disk as a layout for a small bar. */
function kernelLayout(disk: Disk): Layout {
  const ss = disk.logicalSectorSize || 512;
  return {
    table: '',
    geometry: { sectorSize: ss, sectorCount: Math.floor(disk.sizeBytes / ss) },
    partitions: disk.partitions.map((p) => ({ number: p.number, startLba: Math.floor(p.startBytes / ss), sizeSectors: Math.floor(p.sizeBytes / ss) })),
  };
}

export function DisksScreen() {
  const app = useApp();
  const disks = useCommandData<{ disks: Disk[] }>('disks');
  const list = disks.data?.disks.filter((d) => d.sizeBytes > 0) ?? [];
  return (
    <div class="disks-screen">
      <section class="disk-list" aria-label="Disks">
        <header class="screen-header"><h2>Disks</h2><button onClick={() => app.refresh()} title="Read the disks again">Refresh</button></header>
        {disks.error && <p class="error">{disks.error}</p>}
        {list.map((d) => (
          <div key={d.path} class={`disk-row${app.selectedDisk === d.path ? ' selected' : ''}`} data-disk={d.path}>
            <button class="disk-name" onClick={() => app.selectDisk(d.path)} aria-pressed={app.selectedDisk === d.path}>
              <strong>{d.path}</strong> <span class="muted">{formatBytes(d.sizeBytes)}{d.model ? ` · ${d.model}` : ''}{d.busy ? ' · busy' : ''}</span>
            </button>
            <DiskBar layout={kernelLayout(d)} disk={d.path} />
          </div>
        ))}
        {!disks.loading && list.length === 0 && <p class="muted">No disks found.</p>}
      </section>
      {app.selectedDisk ? <DiskDetails disk={app.selectedDisk} /> : <p class="muted hint">Select a disk to see its partitions and plan.</p>}
    </div>
  );
}

function DiskDetails({ disk }: { disk: string }) {
  const app = useApp();
  const [selected, setSelected] = useState<number | null>(null);
  const plan = useCommandData<Plan & { predicted: Layout | null }>('part plan', [disk]);
  const usage = useCommandData<FsUsage>(app.commands.some((c) => c.cli === 'fs usage') ? 'fs usage' : null, [disk]);
  const layout = plan.data?.predicted ?? null;
  const details = Object.fromEntries((usage.data?.partitions ?? []).map((p) => [p.number, p]));
  const ask = (cli: string) => app.openPalette(commandId(app.commands, cli));
  return (
    <section class="disk-details" aria-label={`Disk ${disk}`}>
      <header>
        <h2>{disk} {layout && <span class="muted">{layout.table.toUpperCase()} · {formatBytes(layout.geometry.sectorCount * layout.geometry.sectorSize)}</span>}</h2>
        <div class="toolbar">
          <button onClick={() => ask('part create-table')}>New table…</button>
          <button onClick={() => ask('part create')}>New partition…</button>
          <button disabled={selected === null} onClick={() => selected !== null && app.run(commandId(app.commands, 'part delete'), [disk, String(selected)]).catch(() => undefined)}>Delete</button>
        </div>
      </header>
      {plan.error && <p class="error">{plan.error}</p>}
      {layout ? <DiskBar layout={layout} disk={disk} selected={selected} onSelect={setSelected} details={details} /> : !plan.loading && <p class="muted">No partition table.</p>}
      {layout && (
        <table class="partitions" aria-label="Partitions">
          <thead><tr><th>Partition</th><th>Type</th><th>Name</th><th>Filesystem</th><th>Start (LBA)</th><th>Sectors</th><th>Size</th><th>Used</th><th>Free</th></tr></thead>
          <tbody>
            {layout.partitions.slice().sort((a, b) => a.number - b.number).map((p) => {
              const size = p.sizeSectors * layout.geometry.sectorSize;
              const u = details[p.number];
              return (
                <tr key={p.number} class={selected === p.number ? 'selected' : ''} onClick={() => setSelected(p.number)} data-partition={p.number}>
                  <td>{disk}{/\d$/.test(disk) ? 'p' : ''}{p.number}</td><td>{partitionTypeName(p)}</td><td>{p.gpt?.name ?? ''}</td><td>{u?.filesystem ?? '–'}</td>
                  <td class="num">{p.startLba}</td><td class="num">{p.sizeSectors}</td><td class="num">{formatBytes(size)}</td>
                  <td class="num">{u?.usedBytes != null ? formatBytes(u.usedBytes) : '–'}</td><td class="num">{u?.usedBytes != null ? formatBytes(size - u.usedBytes) : '–'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {plan.data && <PendingOperations plan={plan.data} />}
    </section>
  );
}
