// Scripts: the Monaco editor (its own page, loaded only when this screen opens) with the SDK's script types; save,
// dry run and run go through `script save` and `script run` like the CLI.
import { useRef, useState } from 'preact/hooks';
import { commandId, useApp } from './app-context.js';
import type { ScriptEditorApi } from './script-editor/editor-page.js';

export function ScriptScreen() {
  const app = useApp();
  const frame = useRef<HTMLIFrameElement>(null);
  const [file, setFile] = useState('/tmp/shadowdisk-script.mjs');
  const [output, setOutput] = useState<{ ok: boolean; text: string } | null>(null);
  const editor = () => (frame.current?.contentWindow as unknown as { scriptEditor?: ScriptEditorApi } | null)?.scriptEditor;
  const run = async (mode: 'save' | 'dry-run' | 'run') => {
    const text = editor()?.getValue();
    if (text === undefined) return app.toast('error', 'The editor is still loading');
    try {
      await app.run(commandId(app.commands, 'script save'), [file, `--text=${text}`]);
      if (mode === 'save') return setOutput({ ok: true, text: `Saved ${file}` });
      const r = await app.run<{ result?: unknown }>(commandId(app.commands, 'script run'), [file, ...(mode === 'dry-run' ? ['--dry-run'] : [])]);
      setOutput({ ok: true, text: `${r.text ?? ''}\n\nResult:\n${JSON.stringify(r.data.result ?? null, null, 2)}` });
    } catch (error) {
      setOutput({ ok: false, text: (error as Error).message });
    }
  };
  return (
    <div class="script-screen">
      <header class="screen-header">
        <h2>Script</h2>
        <div class="toolbar">
          <input class="script-file" name="file" value={file} onInput={(e) => setFile((e.target as HTMLInputElement).value)} aria-label="Script file" />
          <button onClick={() => void run('save')}>Save</button>
          <button onClick={() => void run('dry-run')}>Dry run</button>
          <button class="primary" onClick={() => void run('run')}>Run</button>
        </div>
      </header>
      <iframe ref={frame} class="script-frame" src="/editor.html" title="Script editor" />
      {output && <pre class={`preview${output.ok ? '' : ' failed'}`} aria-label="Script output" data-outcome={output.ok ? 'succeeded' : 'failed'}>{output.text}</pre>}
    </div>
  );
}
