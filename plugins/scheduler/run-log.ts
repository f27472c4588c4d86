// A run's log: every line goes to the plugin's logger and into an excerpt kept with the run (the head and the tail).
import type { Logger } from '../../sdk/index.js';

const HEAD_BYTES = 2048;
const TAIL_BYTES = 6144;

export class RunLog implements Logger {
  private head = '';
  private tail = '';
  private dropped = 0;

  constructor(private readonly now: () => number, private readonly forward?: Logger) {}

  private add(level: 'info' | 'warn' | 'error', message: string): void {
    this.forward?.[level](message);
    const line = `${new Date(this.now()).toISOString()} ${level} ${message}\n`;
    if (this.head.length + line.length <= HEAD_BYTES && this.tail === '') {
      this.head += line;
      return;
    }
    this.tail += line;
    if (this.tail.length > TAIL_BYTES) {
      const cut = this.tail.indexOf('\n', this.tail.length - TAIL_BYTES);
      this.dropped += this.tail.slice(0, cut + 1).split('\n').length - 1;
      this.tail = this.tail.slice(cut + 1);
    }
  }

  info(message: string): void {
    this.add('info', message);
  }

  warn(message: string): void {
    this.add('warn', message);
  }

  error(message: string): void {
    this.add('error', message);
  }

  excerpt(): string {
    return this.head + (this.dropped > 0 ? `... ${this.dropped} line(s) left out ...\n` : '') + this.tail;
  }
}
