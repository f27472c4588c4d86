// The pending-operations panel: the queued steps of the selected disk's plan, preview (sfdisk dump), undo, redo,
// clear and apply with confirmation; every button runs the same `part` command as the CLI.
import { useState } from 'preact/hooks';
import { commandId, useApp } from './app-context.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { ProgressLine } from './progress-line.js';
import type { ProgressEvent } from './rpc-client.js';

export interface Plan {
  disk: string;
  steps: { step: number; description: string }[];
  canRedo: number;
  sfdiskDump: string | null;
}

export function PendingOperations({ plan }: { plan: Plan }) {
  const app = useApp();
  const [preview, setPreview] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  const part = (verb: string, ...extra: string[]) => app.run(commandId(app.commands, `part ${verb}`), [plan.disk, ...extra]).catch(() => undefined);
  const apply = async () => {
    setConfirming(false);
    try {
      const r = await app.run(commandId(app.commands, 'part apply'), [plan.disk, '--yes'], (e) => e.type === 'progress' && setProgress(e));
      app.toast('info', r.text ?? `Applied the plan to ${plan.disk}`);
    } catch {
      /* the toast shows it */
    } finally {
      setProgress(null);
    }
  };
  const count = plan.steps.length;
  return (
    <section class="pending" aria-label="Pending operations">
      <header>
        <h3>Pending operations <span class="count">{count}</span></h3>
        <div class="toolbar">
          <button onClick={() => part('undo')} disabled={count === 0}>Undo</button>
          <button onClick={() => part('redo')} disabled={plan.canRedo === 0}>Redo</button>
          <button onClick={() => part('plan clear')} disabled={count === 0}>Clear</button>
          <button onClick={() => setPreview(!preview)} aria-pressed={preview}>Preview</button>
          <button class="primary" onClick={() => setConfirming(true)} disabled={count === 0}>Apply</button>
        </div>
      </header>
      {count === 0 ? <p class="muted">No operations queued. Queue some from the toolbar above or the command palette.</p> : (
        <ol class="steps">{plan.steps.map((s) => <li key={s.step} data-step={s.step}>{s.description}</li>)}</ol>
      )}
      {preview && <pre class="preview" aria-label="Preview of the table after the plan">{plan.sfdiskDump ?? 'no partition table'}</pre>}
      {progress && <ProgressLine progress={progress} />}
      {confirming && (
        <ConfirmDialog title={`Apply ${count} operation${count === 1 ? '' : 's'} to ${plan.disk}?`} confirmLabel="Apply" onConfirm={() => void apply()} onCancel={() => setConfirming(false)}>
          <p>This writes the disk. The table sectors are saved first and each step is journaled.</p>
          <ol>{plan.steps.map((s) => <li key={s.step}>{s.description}</li>)}</ol>
        </ConfirmDialog>
      )}
    </section>
  );
}
