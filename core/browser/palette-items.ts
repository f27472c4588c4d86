// The palette's list: commands matched fuzzily against "Category: Title" and their CLI verbs, recently used first.
import { fuzzyMatch } from './fuzzy-match.js';
import type { CommandInfo } from './rpc-client.js';
import { evaluateWhen, type WhenContext } from './when-clause.js';

export interface PaletteItem {
  command: CommandInfo;
  label: string;
  positions: number[];
  enabled: boolean;
  recent: boolean;
}

export function paletteItems(commands: readonly CommandInfo[], query: string, recent: readonly string[], context: WhenContext): PaletteItem[] {
  const items: (PaletteItem & { score: number })[] = [];
  for (const command of commands) {
    const label = command.category ? `${command.category}: ${command.title}` : command.title;
    const byLabel = fuzzyMatch(query, label);
    const byCli = command.cli ? fuzzyMatch(query, command.cli) : undefined;
    const match = byLabel ?? (byCli ? { score: byCli.score - 1, positions: [] } : undefined);
    if (!match) continue;
    const rank = recent.indexOf(command.id);
    let enabled = true;
    try {
      enabled = evaluateWhen(command.enablement, context);
    } catch {
      enabled = false;
    }
    // A query found as written, in a label that says little else, ranks first: 'create a partition' is not the table one.
    const exact = query.trim() !== '' && label.toLowerCase().includes(query.trim().toLowerCase()) ? 10 - (label.length - query.trim().length) * 0.05 : 0;
    items.push({ command, label, positions: byLabel?.positions ?? [], enabled, recent: rank !== -1, score: match.score + exact });
  }
  const recentRank = (item: PaletteItem) => (item.recent ? recent.indexOf(item.command.id) : recent.length);
  return items.sort((a, b) => {
    if (query.trim() === '' && a.recent !== b.recent) return a.recent ? -1 : 1;
    if (query.trim() === '' && a.recent && b.recent) return recent.indexOf(a.command.id) - recent.indexOf(b.command.id);
    return b.score - a.score || recentRank(a) - recentRank(b) || a.label.localeCompare(b.label);
  });
}

/** The words to prefill for a command's arguments: the selected disk where its usage starts with a disk or source. */
export function argumentPrefill(command: CommandInfo, selectedDisk: string | null): string {
  return selectedDisk && /^<(disk|device|source|disk\|partition\|file)>/.test(command.usage ?? '') ? `${selectedDisk} ` : '';
}
