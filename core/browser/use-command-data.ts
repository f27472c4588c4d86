// Loads a command's result for a screen and reloads it whenever another command ran.
import { useEffect, useState } from 'preact/hooks';
import { useApp } from './app-context.js';

export function useCommandData<T>(cli: string | null, argv: string[] = []): { data: T | null; error: string | null; loading: boolean } {
  const app = useApp();
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  const key = `${cli} ${argv.join(' ')}`;
  useEffect(() => {
    if (!cli) return;
    let live = true;
    const command = app.commands.find((c) => c.cli === cli);
    if (!command) {
      setState({ data: null, error: `No plugin contributes 'shadowdisk ${cli}'`, loading: false });
      return;
    }
    setState((s) => ({ ...s, loading: true }));
    app.rpc.execute<T>(command.id, argv).then(
      (r) => live && setState({ data: r.data, error: null, loading: false }),
      (e: Error) => live && setState({ data: null, error: e.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [key, app.revision]);
  return state;
}
