// One job's progress as a bar with phase, amounts, rate and ETA.
import { formatBytes, formatDuration } from './format.js';
import type { ProgressEvent } from './rpc-client.js';

export function ProgressLine({ progress }: { progress: ProgressEvent }) {
  const fraction = progress.total > 0 ? Math.min(1, progress.done / progress.total) : 0;
  return (
    <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.floor(fraction * 100)}>
      <span class="phase" data-testid="phase">{progress.phase}</span>
      <span class="bar"><span class="fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} /></span>
      <span class="percent">{Math.floor(fraction * 100)}%</span>
      <span class="amounts">{progress.total > 0 ? `${formatBytes(progress.done)} / ${formatBytes(progress.total)}` : formatBytes(progress.done)}</span>
      <span class="rate" data-testid="rate">{progress.bytesPerSec > 0 ? `${formatBytes(progress.bytesPerSec)}/s` : '–'}</span>
      <span class="eta" data-testid="eta">{progress.etaSec === null ? 'ETA --:--' : `ETA ${formatDuration(progress.etaSec)}`}</span>
    </div>
  );
}
