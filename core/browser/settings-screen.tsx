// Settings rendered from the plugins' configuration schemas: each key with its type, default, description and value.
import { useEffect, useState } from 'preact/hooks';
import { useApp } from './app-context.js';

interface SettingInfo {
  key: string;
  pluginId: string;
  section: string;
  schema: { type: string; default?: unknown; description?: string; enum?: unknown[] };
  value: unknown;
}

export function SettingsScreen() {
  const app = useApp();
  const [settings, setSettings] = useState<SettingInfo[]>([]);
  useEffect(() => {
    app.rpc.call<SettingInfo[]>('settings.list').then(setSettings, (e: Error) => app.toast('error', e.message));
  }, []);
  const sections = [...new Set(settings.map((s) => s.section))];
  return (
    <div class="settings-screen">
      <h2>Settings</h2>
      <p class="muted">Values come from settings.json in the state directory over each plugin's defaults.</p>
      {sections.map((section) => (
        <fieldset key={section} class="settings-section">
          <legend>{section}</legend>
          {settings.filter((s) => s.section === section).map((s) => (
            <label key={s.key} class="setting" data-setting={s.key}>
              <span class="setting-key">{s.key}</span>
              {s.schema.type === 'boolean' ? <input type="checkbox" checked={Boolean(s.value)} disabled />
                : s.schema.type === 'number' || s.schema.type === 'integer' ? <input type="number" value={s.value === null || s.value === undefined ? '' : String(s.value)} readOnly />
                : <input type="text" value={s.value === null || s.value === undefined ? '' : String(s.value)} readOnly />}
              <span class="muted">{s.schema.description ?? ''}{s.schema.default !== undefined ? ` (default ${JSON.stringify(s.schema.default)})` : ''}</span>
            </label>
          ))}
        </fieldset>
      ))}
    </div>
  );
}
