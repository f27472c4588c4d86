// shadowdisk.verify: verifies one image, or every image of a scheduled backup in its folder, without restoring.
import { resolve } from 'node:path';
import { ShadowError, type RunContext } from '../../../sdk/index.js';
import { folderImages, passphraseOptions, type Commands } from './image-folder.js';

export interface VerifyParams {
  image?: string;
  dir?: string;
  name: string;
  passphraseFile?: string;
}

export async function verifyTask(commands: Commands, params: unknown, run: RunContext): Promise<{ verified: string[]; bytes: number }> {
  const p = params as VerifyParams;
  let targets: { path: string; sizeBytes: number }[];
  if (p.image !== undefined) targets = [{ path: resolve(p.image), sizeBytes: 0 }];
  else if (p.dir !== undefined) targets = await folderImages(commands, resolve(p.dir), p.name, p.passphraseFile, run);
  else throw new ShadowError('INVALID_ARGUMENT', 'shadowdisk.verify needs params.image (one image) or params.dir (every image of a backup schedule)');
  if (targets.length === 0) throw new ShadowError('NOT_FOUND', `No '${p.name}-*.sdimg' images in '${p.dir}' to verify`);
  const verified: string[] = [];
  let bytes = 0;
  for (const target of targets) {
    await commands.executeCommand('shadowdisk.backup.image-verify', { positionals: [target.path], options: passphraseOptions(p.passphraseFile) }, run);
    run.log.info(`${target.path} is intact`);
    verified.push(target.path);
    bytes += target.sizeBytes;
  }
  return { verified, bytes };
}
