// Plugins: the loaded ones with their state, the installed (isolated) ones with disable/enable/uninstall, and install
// from a package file with its permissions shown (a dry run) before consent.
import { useState } from 'preact/hooks';
import { commandId, useApp } from './app-context.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { useCommandData } from './use-command-data.js';

interface LoadedPlugin {
  id: string;
  version: string;
  state: string;
  contributions: Record<string, string[]>;
  error?: { message: string };
}

interface InstalledPlugin {
  id: string;
  version: string;
  enabled: boolean;
  state: string;
  permissions: string[];
}

export function PluginsScreen() {
  const app = useApp();
  const loaded = useCommandData<{ plugins: LoadedPlugin[] }>('plugins').data?.plugins ?? [];
  const installed = useCommandData<{ plugins: InstalledPlugin[] }>('plugin list').data?.plugins ?? [];
  const [file, setFile] = useState('');
  const [review, setReview] = useState<{ text: string; permissions: string[] } | null>(null);
  const act = (cli: string, id: string) => app.run(commandId(app.commands, cli), [id]).then((r) => r.text && app.toast('info', r.text), () => undefined);
  const check = async () => {
    try {
      const r = await app.run<{ permissions?: string[] }>(commandId(app.commands, 'plugin install'), [file, '--dry-run']);
      setReview({ text: r.text ?? '', permissions: r.data.permissions ?? [] });
    } catch {
      /* the toast shows it */
    }
  };
  return (
    <div class="plugins-screen">
      <h2>Installed plugins</h2>
      {installed.length === 0 ? <p class="muted">No third-party plugins installed.</p> : (
        <table class="data" aria-label="Installed plugins">
          <thead><tr><th>Plugin</th><th>Version</th><th>State</th><th>Permissions</th><th /></tr></thead>
          <tbody>{installed.map((p) => (
            <tr key={p.id} data-plugin={p.id}>
              <td>{p.id}</td><td>{p.version}</td><td>{p.state}</td><td>{p.permissions.join(', ') || 'none'}</td>
              <td class="row-actions">
                <button onClick={() => act(p.enabled ? 'plugin disable' : 'plugin enable', p.id)}>{p.enabled ? 'Disable' : 'Enable'}</button>
                <button onClick={() => act('plugin uninstall', p.id)}>Uninstall</button>
              </td>
            </tr>
          ))}</tbody>
        </table>
      )}
      <form class="wizard inline" aria-label="Install a plugin" onSubmit={(e) => { e.preventDefault(); void check(); }}>
        <label>Install from a package file (npm pack)<input name="file" value={file} onInput={(e) => setFile((e.target as HTMLInputElement).value)} placeholder="/tmp/acme-tools-1.0.0.tgz" /></label>
        <div class="actions"><button class="primary" type="submit" disabled={file === ''}>Check…</button></div>
      </form>
      {review && (
        <ConfirmDialog title="Install this plugin?" confirmLabel="Install" onCancel={() => setReview(null)} onConfirm={() => {
          setReview(null);
          app.run(commandId(app.commands, 'plugin install'), [file, '--yes']).then((r) => r.text && app.toast('info', r.text), () => undefined);
        }}>
          <p>Permissions asked: <strong>{review.permissions.join(', ') || 'none'}</strong></p>
          <pre class="preview">{review.text}</pre>
        </ConfirmDialog>
      )}
      <h2>Loaded plugins</h2>
      <table class="data" aria-label="Loaded plugins">
        <thead><tr><th>Plugin</th><th>Version</th><th>State</th><th>Contributes</th></tr></thead>
        <tbody>{loaded.map((p) => (
          <tr key={p.id}><td>{p.id}</td><td>{p.version}</td><td>{p.state}{p.error ? `: ${p.error.message}` : ''}</td>
            <td>{Object.entries(p.contributions).map(([point, ids]) => `${ids.length} ${point}`).join(', ')}</td></tr>
        ))}</tbody>
      </table>
    </div>
  );
}
