// Shows job events: a progress bar with ETA on a terminal, NDJSON on stderr with --json, nothing otherwise but warnings.
import { formatBytes, formatDuration } from '../../../sdk/index.js';
import type { JobEvent } from '../../common/index.js';

export interface OutputStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

export class ProgressRenderer {
  private barShown = false;

  constructor(private readonly io: OutputStreams, private readonly json: boolean) {}

  readonly onEvent = (event: JobEvent): void => {
    if (this.json) {
      this.io.stderr.write(`${JSON.stringify(event)}\n`);
      return;
    }
    if (event.type === 'log') {
      if (event.level !== 'info' || this.io.stderr.isTTY) this.printLine(`${event.level}: ${event.message}`);
    } else if (event.type === 'progress') {
      if (this.io.stderr.isTTY && (event.total > 0 || event.phase !== 'starting')) this.drawBar(event);
    } else if (this.barShown) {
      this.io.stderr.write('\r\x1b[2K');
      this.barShown = false;
    }
  };

  private printLine(line: string): void {
    if (this.barShown) this.io.stderr.write('\r\x1b[2K');
    this.io.stderr.write(`${line}\n`);
    this.barShown = false;
  }

  private drawBar(event: Extract<JobEvent, { type: 'progress' }>): void {
    this.io.stderr.write(`\r\x1b[2K${renderBar(event, this.io.stderr.columns ?? 80)}`);
    this.barShown = true;
  }
}

/** `phase [#######.......]  45%  1.2 GiB/2.0 GiB  120 MiB/s  ETA 0:07` fitted to the terminal width. */
export function renderBar(event: { phase: string; done: number; total: number; bytesPerSec: number; etaSec: number | null }, columns: number): string {
  const fraction = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const amounts = event.total > 0 ? `${formatBytes(event.done)}/${formatBytes(event.total)}` : formatBytes(event.done);
  const rate = event.bytesPerSec > 0 ? `${formatBytes(event.bytesPerSec)}/s` : '';
  const eta = event.etaSec === null ? 'ETA --:--' : `ETA ${formatDuration(event.etaSec)}`;
  const tail = `${percent}  ${amounts}  ${rate}  ${eta}`;
  const width = Math.max(10, Math.min(40, columns - event.phase.length - tail.length - 6));
  const filled = Math.round(fraction * width);
  return `${event.phase} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${tail}`.slice(0, Math.max(20, columns - 1));
}
