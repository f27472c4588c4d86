// Display helpers: sizes and durations exactly as the CLI prints them (the SDK's pure helpers), and key labels.
export { formatBytes, formatDuration } from '../../sdk/format.js';

/** `ctrl+shift+p` as `Ctrl+Shift+P`. */
export function keyLabel(key: string): string {
  return key.split('+').map((part) => (part.length === 1 ? part.toUpperCase() : part[0]!.toUpperCase() + part.slice(1))).join('+');
}
