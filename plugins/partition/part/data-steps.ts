// The data steps of an apply (mkfs, filesystem labels), each marked done in the journal as it finishes.
import type { RunContext } from '../../../sdk/index.js';
import type { ApplyJournal } from '../ops/apply-journal.js';
import { handlerForType } from '../fs/filesystem-handler.js';
import type { DiskGeometry, Layout } from '../table/layout.js';
import type { DataStep } from './apply-checks.js';
import type { PartServices } from './part-services.js';
import { probeFilesystem, withPartitionDevice } from './partition-device.js';
import { ShadowError } from '../../../sdk/index.js';
import { growPartitionFilesystem } from '../resize/resize-steps.js';
import { giveNewFilesystemId } from '../move/filesystem-id.js';

export interface DataStepContext {
  disk: string;
  isBlockDevice: boolean;
  geometry: DiskGeometry;
  target: Layout;
  steps: readonly DataStep[];
  journal: ApplyJournal;
}

/** The data steps an apply journal lists, with their partitions looked up in its target layout. */
export function journaledDataSteps(journal: ApplyJournal, target: Layout): DataStep[] {
  return journal.dataSteps.map((s) => {
    const number = (s.operation as { number: number }).number;
    const partition = target.partitions.find((p) => p.number === number);
    if (!partition) throw new ShadowError('IMAGE_CORRUPT', `The apply journal of ${journal.disk} names partition ${number}, which its own target layout does not have`);
    return { operation: s.operation as DataStep['operation'], partition };
  });
}

export async function runDataSteps(services: PartServices, context: DataStepContext, run: RunContext, progressBase: number): Promise<void> {
  const journal = structuredClone(context.journal);
  const total = progressBase + context.steps.length;
  for (const [index, step] of context.steps.entries()) {
    if (journal.dataSteps[index]?.done) continue;
    run.signal.throwIfAborted();
    run.progress({ phase: `${{ resize: 'grow', copy: 'new filesystem id for', format: 'format', 'set-label': 'label' }[step.operation.op]} ${step.partition.number}`, done: progressBase + index, total });
    await withPartitionDevice(context.disk, context.isBlockDevice, context.geometry, step.partition, async (device) => {
      if (step.operation.op === 'resize') {
        await growPartitionFilesystem(device, step.partition.number, run);
        return;
      }
      if (step.operation.op === 'copy') {
        await giveNewFilesystemId(device, step.partition.number, run);
        return;
      }
      if (step.operation.op === 'format') {
        await handlerForType(step.operation.fs).mkfs(device, { type: step.operation.fs, ...(step.operation.label !== undefined ? { label: step.operation.label } : {}) }, run);
        return;
      }
      const type = await probeFilesystem(device, run.signal);
      if (!type) throw new ShadowError('NOT_FOUND', `Partition ${step.partition.number} holds no filesystem to label; format it first`);
      await handlerForType(type).setLabel(device, type, step.operation.label, run);
    });
    journal.dataSteps[index]!.done = true;
    services.journals.save(journal);
  }
  run.progress({ phase: 'done', done: total, total });
}
