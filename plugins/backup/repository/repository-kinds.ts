// The two first-party `repositories` kinds, and opening a repository URL through whichever kind claims its scheme.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginContext } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { LocalObjectStore, type ObjectStore, type RepositoryKind } from './object-store.js';

export const localRepositoryKind: RepositoryKind = {
  schemes: ['file'],
  open: async (url) => new LocalObjectStore(fileURLToPath(url)),
};

export const s3RepositoryKind: RepositoryKind = {
  schemes: ['s3'],
  open: async (url, { settings }) => {
    // The AWS SDK takes a while to load: only when an s3:// repository is opened.
    const { S3ObjectStore, s3Location } = await import('./s3-object-store.js');
    return new S3ObjectStore(s3Location(url, settings));
  },
};

/** `file:///srv/repo`, `s3://bucket/prefix`, or a plain folder path (the local kind). */
export async function openObjectStore(ctx: PluginContext, value: string): Promise<ObjectStore> {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? new URL(value) : new URL(`file://${resolve(value)}`);
  const scheme = url.protocol.slice(0, -1);
  for (const info of ctx.providers.list('repositories')) {
    const kind = (await ctx.providers.get('repositories', info.id)) as Partial<RepositoryKind>;
    if (kind.schemes?.includes(scheme) && kind.open) return kind.open(url, { settings: (key) => ctx.settings.get(key) });
  }
  throw new ShadowError('UNSUPPORTED', `No repository kind handles '${scheme}://' (repository '${value}'); known kinds: ${ctx.providers.list('repositories').map((p) => p.id).join(', ')}`);
}
