// The script editor page: Monaco from its prebuilt AMD build (/monaco/vs), loaded only when this page opens, with the
// SDK's script types (sdk-script.d.ts, generated at build time) so `sd.` completes. The Script screen embeds this page
// and reads and writes the text through `window.scriptEditor`; its own CSP allows Monaco's injected styles, the app's does not.

interface MonacoModel { getValue(): string; setValue(text: string): void }
interface Monaco {
  editor: { create(el: HTMLElement, options: Record<string, unknown>): { getModel(): MonacoModel; focus(): void } };
  languages: { typescript: { javascriptDefaults: { addExtraLib(text: string, uri: string): void; setCompilerOptions(o: Record<string, unknown>): void } } };
}
type AmdRequire = ((deps: string[], ready: () => void) => void) & { config(options: Record<string, unknown>): void };

export interface ScriptEditorApi {
  getValue(): string;
  setValue(text: string): void;
}

const TEMPLATE = `// A Shadowdisk script: 'shadowdisk script run FILE.js [args] [--dry-run]' runs its default export.
/** @param {ScriptContext} sd */
export default async function (sd) {
  const { disks } = await sd.cli('disks');
  sd.log.info(\`\${disks.length} disk(s)\`);
  return disks.map((d) => d.path);
}
`;

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`Cannot load ${src}`));
    document.head.appendChild(script);
  });
}

const page = globalThis as unknown as { require: AmdRequire; monaco: Monaco; scriptEditor?: ScriptEditorApi };
await loadScript('/monaco/vs/loader.js');
page.require.config({ paths: { vs: '/monaco/vs' } });
await new Promise<void>((resolve) => page.require(['vs/editor/editor.main'], resolve));
const types = await (await fetch('/sdk-script.d.ts')).text();
const js = page.monaco.languages.typescript.javascriptDefaults;
js.setCompilerOptions({ checkJs: true, allowJs: true, allowNonTsExtensions: true, target: 99, module: 99 });
js.addExtraLib(types, 'file:///shadowdisk/sdk-script.d.ts');
const editor = page.monaco.editor.create(document.getElementById('editor')!, { value: TEMPLATE, language: 'javascript', automaticLayout: true, minimap: { enabled: false }, fontSize: 13 });
page.scriptEditor = { getValue: () => editor.getModel().getValue(), setValue: (text) => editor.getModel().setValue(text) };
document.body.dataset['ready'] = 'true';
