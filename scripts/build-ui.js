// Build step: bundles the web UI (core/browser, preact) with rolldown into dist/ui: index.html, app.js, app.css.
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'rolldown';

const root = new URL('..', import.meta.url).pathname;
const out = `${root}dist/ui`;
mkdirSync(out, { recursive: true });
await build({
  input: `${root}core/browser/main.tsx`,
  platform: 'browser',
  tsconfig: `${root}core/browser/tsconfig.json`,
  output: { dir: out, format: 'esm', entryFileNames: 'app.js', chunkFileNames: 'chunks/[name]-[hash].js', minify: true, sourcemap: false },
  logLevel: 'warn',
});
for (const file of ['index.html', 'app.css']) copyFileSync(`${root}core/browser/${file}`, `${out}/${file}`);
const js = readFileSync(`${out}/app.js`);
console.log(`built dist/ui: app.js ${(statSync(`${out}/app.js`).size / 1024).toFixed(1)} KiB (${(gzipSync(js).length / 1024).toFixed(1)} KiB gzipped)`);
