// The command palette: Ctrl+Shift+P, fuzzy match, recently used first, keybinding labels, `enablement` clauses; a
// command with arguments asks for them as CLI words (its usage shown), then runs through the same command as the CLI.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useApp } from './app-context.js';
import { keyLabel } from './format.js';
import { argumentPrefill, paletteItems } from './palette-items.js';
import { recentCommands, rememberCommand } from './recent-commands.js';
import type { CommandInfo } from './rpc-client.js';
import { splitWords } from './split-words.js';

export function CommandPalette({ onClose, initialCommandId }: { onClose(): void; initialCommandId?: string }) {
  const app = useApp();
  const initial = initialCommandId ? app.commands.find((c) => c.id === initialCommandId) : undefined;
  const [query, setQuery] = useState(initial ? argumentPrefill(initial, app.selectedDisk) : '');
  const [active, setActive] = useState(0);
  const [chosen, setChosen] = useState<CommandInfo | undefined>(initial);
  const [hint, setHint] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const recent = useMemo(() => recentCommands(), []);
  const items = useMemo(() => (chosen ? [] : paletteItems(app.commands, query, recent, app.whenContext)), [query, chosen]);
  useEffect(() => input.current?.focus(), [chosen]);
  useEffect(() => {
    document.getElementById(`palette-item-${active}`)?.scrollIntoView({ block: 'nearest' });
  }, [active]);

  const run = (command: CommandInfo, argv: string[]) => {
    rememberCommand(command.id);
    onClose();
    app.run(command.id, argv).then((r) => {
      if (r.text) app.toast('info', r.text.split('\n').slice(0, 3).join('\n'));
    }, () => undefined);
  };

  const choose = (index: number) => {
    const item = items[index];
    if (!item) return;
    if (!item.enabled) {
      setHint(`'${item.label}' is not available now (${item.command.enablement})`);
      return;
    }
    if (item.command.usage) {
      setChosen(item.command);
      setQuery(argumentPrefill(item.command, app.selectedDisk));
      setHint(null);
    } else {
      run(item.command, []);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      if (chosen && !initial) {
        setChosen(undefined);
        setQuery('');
      } else onClose();
    } else if (e.key === 'ArrowDown' && !chosen) {
      e.preventDefault();
      setActive((a) => Math.min(items.length - 1, a + 1));
    } else if (e.key === 'ArrowUp' && !chosen) {
      e.preventDefault();
      setActive((a) => Math.max(0, a - 1));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (chosen) run(chosen, splitWords(query));
      else choose(active);
    }
  };

  return (
    <div class="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div class="palette" role="dialog" aria-label="Command palette" aria-modal="true">
        {chosen && <div class="palette-chosen">{chosen.category ? `${chosen.category}: ` : ''}{chosen.title}<code>shadowdisk {chosen.cli} {chosen.usage}</code></div>}
        <input ref={input} class="palette-input" role="combobox" aria-expanded={!chosen} aria-controls="palette-list" aria-activedescendant={chosen ? undefined : `palette-item-${active}`}
          placeholder={chosen ? 'Arguments, as on the command line; Enter runs' : 'Type a command'} value={query}
          onInput={(e) => { setQuery((e.target as HTMLInputElement).value); setActive(0); setHint(null); }} onKeyDown={onKeyDown} />
        {hint && <div class="palette-hint" role="status">{hint}</div>}
        {!chosen && (
          <ul id="palette-list" class="palette-list" role="listbox">
            {items.slice(0, 200).map((item, i) => (
              <li id={`palette-item-${i}`} key={item.command.id} role="option" aria-selected={i === active} aria-disabled={!item.enabled}
                class={`palette-item${i === active ? ' active' : ''}${item.enabled ? '' : ' disabled'}`} data-command={item.command.id}
                onMouseMove={() => setActive(i)} onClick={() => choose(i)}>
                <span class="label">{highlight(item.label, item.positions)}</span>
                {item.recent && <span class="tag">recently used</span>}
                <span class="meta">{item.command.cli ? `shadowdisk ${item.command.cli}` : item.command.pluginId}</span>
                {item.command.keybinding && <kbd>{keyLabel(item.command.keybinding)}</kbd>}
              </li>
            ))}
            {items.length === 0 && <li class="palette-empty">No command matches '{query}'</li>}
          </ul>
        )}
      </div>
    </div>
  );
}

function highlight(text: string, positions: number[]) {
  if (positions.length === 0) return text;
  const marked = new Set(positions);
  return [...text].map((ch, i) => (marked.has(i) ? <b key={i}>{ch}</b> : ch));
}
