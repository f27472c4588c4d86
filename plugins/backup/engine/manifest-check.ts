// Reading a backup manifest out of an image, refusing anything that is not one of ours.
import { ShadowError } from '../../../sdk/index.js';
import type { ImageReader } from '../image/index.js';
import { MANIFEST_KIND, MANIFEST_VERSION, type BackupManifest } from './backup-manifest.js';

export function manifestOf(reader: ImageReader, source: string): BackupManifest {
  const manifest = reader.manifest as Partial<BackupManifest> | null;
  if (!manifest || manifest.kind !== MANIFEST_KIND || manifest.version !== MANIFEST_VERSION || !Array.isArray(manifest.streams) || !manifest.source) {
    throw new ShadowError('IMAGE_CORRUPT', `${source} holds no Shadowdisk backup manifest (kind '${String(manifest?.kind)}', version ${String(manifest?.version)})`);
  }
  return manifest as BackupManifest;
}
