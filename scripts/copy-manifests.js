// Build step: copies plugin manifests (package.json) beside their compiled code in dist/, so each plugin folder there is a complete package.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let copied = 0;
for (const folder of ['plugins', 'sdk']) {
  const dirs = folder === 'sdk' ? [''] : readdirSync(join(root, folder));
  for (const dir of dirs) {
    const manifest = join(root, folder, dir, 'package.json');
    if (!existsSync(manifest)) continue;
    mkdirSync(join(root, 'dist', folder, dir), { recursive: true });
    copyFileSync(manifest, join(root, 'dist', folder, dir, 'package.json'));
    copied++;
  }
}
console.log(`copied ${copied} manifest(s) into dist/`);
