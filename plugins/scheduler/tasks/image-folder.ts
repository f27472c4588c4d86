// The images a scheduled backup keeps in its folder: named `<name>-<due instant>.sdimg`, read through `image list`.
import { join } from 'node:path';
import type { CommandResult, PluginContext, RunContext } from '../../../sdk/index.js';

export type Commands = Pick<PluginContext['commands'], 'executeCommand'>;

export interface FolderImage {
  file: string;
  path: string;
  /** The due instant in the name (the scheduler's clock), else the image's creation time. */
  atMs: number;
  kind: 'full' | 'incremental' | 'differential' | null;
  parent: string | null;
  depth: number;
  sizeBytes: number;
  error: { code: string; message: string } | null;
}

interface ListedImage {
  file: string;
  sizeBytes: number;
  createdAt: string | null;
  kind: FolderImage['kind'];
  parent: { file: string } | null;
  depth: number;
  error: { code: string; message: string } | null;
}

/** `backup-20260329T010000Z.sdimg` (and `-2`, `-3` when one instant has several). */
export function imageFileName(name: string, atMs: number, serial = 1): string {
  const stamp = new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  return `${name}-${stamp}${serial > 1 ? `-${serial}` : ''}.sdimg`;
}

function stampOf(name: string, file: string): number | undefined {
  if (!file.startsWith(`${name}-`)) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-\d+)?\.sdimg$/.exec(file.slice(name.length + 1));
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : undefined;
}

export function passphraseOptions(passphraseFile: string | undefined): Record<string, string> {
  return passphraseFile === undefined ? {} : { 'passphrase-file': passphraseFile };
}

/** This schedule's images in the folder (by name), oldest first. */
export async function folderImages(commands: Commands, dir: string, name: string, passphraseFile: string | undefined, run: RunContext): Promise<FolderImage[]> {
  const listed: CommandResult = await commands.executeCommand('shadowdisk.backup.image-list', { positionals: [dir], options: passphraseOptions(passphraseFile) }, run);
  const images = (listed.data as { images: ListedImage[] }).images;
  const ours: FolderImage[] = [];
  for (const image of images) {
    const stamp = stampOf(name, image.file);
    if (stamp === undefined) continue;
    ours.push({
      file: image.file, path: join(dir, image.file), atMs: stamp, kind: image.kind, parent: image.parent?.file ?? null,
      depth: image.depth, sizeBytes: image.sizeBytes, error: image.error,
    });
  }
  return ours.sort((a, b) => a.atMs - b.atMs || a.file.localeCompare(b.file));
}
