// The palette's recently used commands, newest first, kept in the browser's localStorage.
const KEY = 'shadowdisk.palette.recent';
const LIMIT = 20;

export function recentCommands(): string[] {
  try {
    const list: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberCommand(id: string): void {
  localStorage.setItem(KEY, JSON.stringify([id, ...recentCommands().filter((x) => x !== id)].slice(0, LIMIT)));
}
