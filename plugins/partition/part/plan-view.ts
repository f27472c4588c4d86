// What `part plan` and every queueing command print: the steps, and the predicted layout as a table and an sfdisk dump.
import type { CommandResult } from '../../../sdk/index.js';
import { formatBytes, renderTable } from '../../../sdk/index.js';
import { layoutToJson } from '../ops/layout-json.js';
import { describeOperation } from '../ops/operation.js';
import type { Plan } from '../ops/plan-store.js';
import { partitionPath, sfdiskDump } from '../ops/sfdisk-dump.js';
import { gptTypeName } from '../table/gpt-types.js';
import type { Layout } from '../table/layout.js';

export function planResult(plan: Plan, predicted: Layout | null): CommandResult {
  const steps = plan.operations.map((operation, i) => ({ step: i + 1, description: describeOperation(operation), operation }));
  const data = { disk: plan.disk, steps, canRedo: plan.redo.length, predicted: predicted && layoutToJson(predicted), sfdiskDump: predicted && sfdiskDump(predicted, plan.disk) };
  const text = [
    steps.length ? `Pending operations on ${plan.disk}:\n${steps.map((s) => `  ${s.step}. ${s.description}`).join('\n')}` : `No pending operations on ${plan.disk}`,
    '',
    predicted ? `Predicted layout:\n${layoutTable(predicted, plan.disk)}\n\n${data.sfdiskDump}` : 'Predicted layout: no partition table',
  ].join('\n');
  return { data, text };
}

export function layoutTable(layout: Layout, disk: string): string {
  const rows = layout.partitions.map((p) => [
    partitionPath(disk, p.number), p.startLba, p.startLba + p.sizeSectors - 1, formatBytes(p.sizeSectors * layout.geometry.sectorSize),
    p.mbr ? `${p.mbr.role} 0x${p.mbr.type.toString(16).padStart(2, '0')}${p.mbr.bootable ? ' boot' : ''}` : (gptTypeName(p.gpt!.typeGuid)?.alias ?? p.gpt!.typeGuid),
    p.gpt?.name || null,
  ]);
  const header = `${layout.table.toUpperCase()} on ${disk}: ${layout.geometry.sectorCount} sectors of ${layout.geometry.sectorSize} bytes (${formatBytes(layout.geometry.sectorCount * layout.geometry.sectorSize)}), id ${layout.diskId}`;
  return `${header}\n${rows.length ? renderTable(['DEVICE', 'START', 'END', 'SIZE', 'TYPE', 'NAME'], rows) : '(no partitions)'}`;
}
