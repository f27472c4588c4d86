// @ts-check
// Example plugin: mirrors the newest `keep` images (.sdimg) of a folder into another and prunes the rest there. The file
// data moves inside this plugin's process (copyFile), never over the backend's RPC; only names and sizes cross it.
import { copyFile, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { ShadowError } from '@shadowdisk/sdk';

/** @typedef {{ name: string, sizeBytes: number, modified: string, mtimeMs: number }} ImageFile */

/** The .sdimg files of `folder`, newest first. @param {string} folder @returns {Promise<ImageFile[]>} */
async function images(folder) {
  let names;
  try {
    names = await readdir(folder);
  } catch (error) {
    throw new ShadowError('NOT_FOUND', `Cannot list images in '${folder}': ${/** @type {Error} */ (error).message}`);
  }
  const files = [];
  for (const name of names.filter((n) => n.endsWith('.sdimg'))) {
    const s = await stat(join(folder, name));
    if (s.isFile()) files.push({ name, sizeBytes: s.size, modified: s.mtime.toISOString(), mtimeMs: s.mtimeMs });
  }
  return files.sort((a, b) => b.mtimeMs - a.mtimeMs || a.name.localeCompare(b.name));
}

/** @type {import('@shadowdisk/sdk').TaskRunner} */
async function mirror(params, run) {
  const { source, target, keep = 3 } = /** @type {{ source: string, target: string, keep?: number }} */ (params);
  const wanted = (await images(source)).slice(0, keep);
  const present = new Set((await images(target)).map((f) => f.name));
  const total = wanted.filter((f) => !present.has(f.name)).reduce((sum, f) => sum + f.sizeBytes, 0);
  const copied = [];
  let done = 0;
  for (const file of wanted) {
    if (run.signal.aborted) throw run.signal.reason;
    if (present.has(file.name)) continue;
    await copyFile(join(source, file.name), join(target, file.name));
    // Keep the source's time, so "newest" means the same in both folders.
    await utimes(join(target, file.name), new Date(file.mtimeMs), new Date(file.mtimeMs));
    copied.push(file.name);
    done += file.sizeBytes;
    run.progress({ phase: 'copy', done, total });
  }
  const keepNames = new Set(wanted.map((f) => f.name));
  const pruned = [];
  for (const file of await images(target)) {
    if (keepNames.has(file.name)) continue;
    await rm(join(target, file.name));
    pruned.push(file.name);
  }
  run.log.info(`mirrored ${copied.length} image(s), pruned ${pruned.length}`);
  return { bytes: done, copied, pruned };
}

/** @param {import('@shadowdisk/sdk').PluginContext} ctx */
export function activate(ctx) {
  ctx.register('taskTypes', 'acme.image-mirror.mirror', mirror);
  ctx.commands.registerCommand('acme.image-mirror.status', async (args) => {
    const folder = args.positionals[0];
    if (!folder) throw new ShadowError('INVALID_ARGUMENT', 'Name the mirror folder: shadowdisk mirror status <folder>');
    const list = (await images(folder)).map(({ name, sizeBytes, modified }) => ({ name, sizeBytes, modified }));
    return { data: { folder, images: list }, text: list.map((f) => `${f.modified}  ${String(f.sizeBytes).padStart(12)}  ${f.name}`).join('\n') || 'no images' };
  });
}
