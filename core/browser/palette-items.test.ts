import { describe, expect, it } from 'vitest';
import { describeCron } from './cron-text.js';
import { fuzzyMatch } from './fuzzy-match.js';
import { argumentPrefill, paletteItems } from './palette-items.js';
import type { CommandInfo } from './rpc-client.js';
import { splitWords } from './split-words.js';

const command = (id: string, title: string, extra: Partial<CommandInfo> = {}): CommandInfo => ({ id, title, category: 'Partitions', pluginId: 'p', keybinding: null, ...extra });
const commands = [
  command('p.create-table', 'Create a partition table', { usage: '<disk> mbr|gpt' }),
  command('p.create', 'Create a partition', { usage: '<disk> [--size S]' }),
  command('p.apply', 'Apply pending operations', { enablement: 'diskSelected' }),
  command('w.commands', 'Show all commands', { category: 'Workbench', keybinding: 'ctrl+shift+p' }),
];

describe('palette items', () => {
  it('match fuzzily in order, and miss when a character is absent', () => {
    expect(fuzzyMatch('shw cmds', 'Workbench: Show all commands')?.positions).toHaveLength(7);
    expect(fuzzyMatch('xyz', 'Show all commands')).toBeUndefined();
  });

  it('put recently used first for an empty query, and the exact title first for a typed one', () => {
    const recent = ['p.create-table', 'w.commands'];
    expect(paletteItems(commands, '', recent, {}).map((i) => i.command.id).slice(0, 2)).toEqual(['p.create-table', 'w.commands']);
    expect(paletteItems(commands, 'create a partition', recent, {})[0]!.command.id).toBe('p.create');
    expect(paletteItems(commands, 'create partition table', [], {})[0]!.command.id).toBe('p.create-table');
  });

  it('grey out a command whose enablement does not hold', () => {
    const find = (ctx: Record<string, boolean>) => paletteItems(commands, 'apply', [], ctx).find((i) => i.command.id === 'p.apply')!;
    expect(find({ diskSelected: false }).enabled).toBe(false);
    expect(find({ diskSelected: true }).enabled).toBe(true);
  });

  it('prefill the selected disk for commands that start with one, and split argument lines like a shell', () => {
    expect(argumentPrefill(commands[0]!, '/dev/loop3')).toBe('/dev/loop3 ');
    expect(argumentPrefill(commands[3]!, '/dev/loop3')).toBe('');
    expect(splitWords(`/dev/loop3 --name "my data" --label 'a b'`)).toEqual(['/dev/loop3', '--name', 'my data', '--label', 'a b']);
  });

  it('describe cron patterns in words', () => {
    expect(describeCron('30 3 * * *')).toBe('Every day at 03:30');
    expect(describeCron('*/15 * * * *')).toBe('Every 15 minutes');
    expect(describeCron('0 2 * * 0')).toBe('Every Sunday at 02:00');
    expect(describeCron('0 4 1 * *')).toBe('On day 1 of every month at 04:00');
    expect(describeCron('0 4 * *')).toMatch(/needs 5 fields/);
  });
});
