// An image and its ancestors: an incremental image names its parent (by id, in a file next to it); restoring or
// extending it needs the whole chain, each link checked to be the image it claims to be.
import { dirname, resolve } from 'node:path';
import { ShadowError } from '../../../sdk/index.js';
import { fileImageSource, ImageReader, type ClosableImageSource } from '../image/index.js';
import type { BackupManifest, StreamManifest } from './backup-manifest.js';
import { manifestOf } from './manifest-check.js';
import { readSegments, type StreamSegments } from './segments.js';

export interface ChainLink {
  path: string;
  reader: ImageReader;
  manifest: BackupManifest;
  segments: Map<number, StreamSegments>;
}

const MAX_CHAIN = 1000;

/** Opens `path` and its ancestors, newest first; the caller disposes the returned handle. */
export async function openChain(path: string, passphrase: string | undefined): Promise<{ links: ChainLink[] } & AsyncDisposable> {
  const sources: ClosableImageSource[] = [];
  const links: ChainLink[] = [];
  const dispose = async () => {
    for (const s of sources) await s[Symbol.asyncDispose]();
  };
  try {
    let next: { path: string; imageId?: string } | undefined = { path };
    while (next) {
      if (links.length >= MAX_CHAIN) throw new ShadowError('PARENT_MISMATCH', `The image chain of ${path} has more than ${MAX_CHAIN} links; it loops or is damaged`);
      const source = await fileImageSource(next.path).catch((error: unknown) => {
        if (next!.imageId === undefined) throw error;
        throw new ShadowError('PARENT_MISMATCH', `The parent image ${next!.path} of ${links.at(-1)!.path} cannot be opened (${(error as Error).message}); keep every image of a chain in the same folder`);
      });
      sources.push(source);
      const reader = await ImageReader.open(source, passphrase === undefined ? {} : { passphrase });
      if (next.imageId !== undefined && reader.header.imageId !== next.imageId) {
        throw new ShadowError('PARENT_MISMATCH', `${next.path} is image ${reader.header.imageId}, but ${links.at(-1)!.path} was made against parent ${next.imageId}; restore with the right parent in place`);
      }
      const manifest = manifestOf(reader, next.path);
      links.push({ path: next.path, reader, manifest, segments: await readSegments(reader, manifest, next.path) });
      next = manifest.parent ? { path: resolve(dirname(next.path), manifest.parent.file), imageId: manifest.parent.imageId } : undefined;
    }
    for (const link of links.slice(1)) sameLayout(links[0]!, link);
    return { links, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** A child's streams must lie where its parent's did: same source size, same table, same partitions. */
export function sameLayout(child: Pick<ChainLink, 'path' | 'manifest'>, parent: Pick<ChainLink, 'path' | 'manifest'>): void {
  const key = (s: StreamManifest) => `${s.id}:${s.kind}:${s.partition ?? ''}:${s.startBytes}:${s.sizeBytes}`;
  const a = child.manifest;
  const b = parent.manifest;
  const same = a.source.sizeBytes === b.source.sizeBytes && a.source.sectorSize === b.source.sectorSize
    && a.streams.filter((s) => !s.extents).map(key).join() === b.streams.filter((s) => !s.extents).map(key).join();
  if (!same) {
    throw new ShadowError('PARENT_MISMATCH', `${child.path} and its parent ${parent.path} describe different disks or partition layouts; make a full backup after repartitioning`);
  }
}
