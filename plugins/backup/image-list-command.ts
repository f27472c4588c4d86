// `image list [DIR]`: the images in a folder with their source, kind, parent, time, size and encryption, chains in
// order. Only headers, trailers and manifests are read (no chunk); a file that cannot be read is listed with why.
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { CommandArgs, CommandResult } from '../../sdk/index.js';
import { formatBytes, renderTable, ShadowError } from '../../sdk/index.js';
import { passphrase } from './command-args.js';
import { ImageReader, readImageHeader, fileImageSource, type ImageHeader } from './image/index.js';
import type { BackupManifest } from './engine/backup-manifest.js';
import { orderChains, type ParentState } from './engine/chain-order.js';
import { manifestOf } from './engine/manifest-check.js';

const EXTENSION = '.sdimg';

export interface ListedImage {
  file: string;
  sizeBytes: number;
  imageId: string | null;
  createdAt: string | null;
  encrypted: boolean | null;
  /** null when the manifest could not be read (damaged, or encrypted and no passphrase given). */
  kind: 'full' | 'incremental' | 'differential' | null;
  parent: { file: string; imageId: string; state: ParentState } | null;
  source: { path: string; kind: 'disk' | 'volume'; sizeBytes: number; table: string | null } | null;
  chain: number;
  depth: number;
  error: { code: string; message: string } | null;
}

interface Probe {
  path: string;
  sizeBytes: number;
  header?: ImageHeader;
  manifest?: BackupManifest;
  error?: ShadowError;
}

/** Header first (readable without a key), then the manifest when the image is not encrypted or a passphrase is given. */
async function probe(path: string, secret: string | undefined): Promise<Probe> {
  const sizeBytes = (await stat(path)).size;
  const source = await fileImageSource(path).catch((error: unknown) => ShadowError.from(error, 'IO_ERROR'));
  if (source instanceof ShadowError) return { path, sizeBytes, error: source };
  let header: ImageHeader | undefined;
  try {
    header = await readImageHeader(source);
    if (header.encrypted && secret === undefined) return { path, sizeBytes, header };
    const reader = await ImageReader.open(source, header.encrypted ? { passphrase: secret! } : {});
    return { path, sizeBytes, header, manifest: manifestOf(reader, path) };
  } catch (error) {
    return { path, sizeBytes, ...(header ? { header } : {}), error: ShadowError.from(error, 'IMAGE_CORRUPT') };
  } finally {
    await source[Symbol.asyncDispose]();
  }
}

export async function imageListCommand(args: CommandArgs): Promise<CommandResult> {
  const dir = resolve(args.positionals[0] ?? '.');
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.name.endsWith(EXTENSION) && !e.isDirectory()).map((e) => e.name).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ShadowError(code === 'ENOENT' ? 'NOT_FOUND' : code === 'ENOTDIR' ? 'INVALID_ARGUMENT' : 'IO_ERROR', `Cannot list images in '${dir}': ${code === 'ENOTDIR' ? 'it is not a folder' : (error as Error).message}`);
  }
  const secret = passphrase(args);
  // One at a time: with a passphrase each encrypted image costs a scrypt run (128 MiB by default).
  const probes: Probe[] = [];
  for (const name of names) probes.push(await probe(join(dir, name), secret));
  const { order, chains } = orderChains(probes.map((p) => ({
    path: p.path,
    ...(p.header ? { imageId: p.header.imageId, createdAtMs: p.header.createdAtMs } : {}),
    ...(p.manifest?.parent ? { parent: { file: p.manifest.parent.file, imageId: p.manifest.parent.imageId } } : {}),
  })));
  const images: ListedImage[] = order.map(({ index, depth, chain, parentState }) => {
    const p = probes[index]!;
    const m = p.manifest;
    return {
      file: relative(dir, p.path),
      sizeBytes: p.sizeBytes,
      imageId: p.header?.imageId ?? null,
      createdAt: p.header ? new Date(p.header.createdAtMs).toISOString() : null,
      encrypted: p.header?.encrypted ?? null,
      kind: m ? (m.parent?.mode ?? 'full') : null,
      parent: m?.parent ? { file: m.parent.file, imageId: m.parent.imageId, state: parentState ?? 'missing' } : null,
      source: m ? { path: m.source.path, kind: m.source.kind, sizeBytes: m.source.sizeBytes, table: m.table?.kind ?? null } : null,
      chain,
      depth,
      error: p.error ? { code: p.error.code, message: p.error.message } : null,
    };
  });
  const data = { dir, images, chains: chains.map((c) => c.map((i) => relative(dir, probes[i]!.path))) };
  return { data, text: images.length === 0 ? `No ${EXTENSION} images in ${dir}` : renderList(images) };
}

function kindText(image: ListedImage): string {
  if (image.error) return 'unreadable';
  if (!image.kind) return 'encrypted (pass --passphrase-file to read it)';
  if (!image.parent) return image.kind;
  const note = image.parent.state === 'found' ? '' : image.parent.state === 'missing' ? ' (missing)' : ' (a different image now)';
  return `${image.kind} of ${image.parent.file}${note}`;
}

function renderList(images: readonly ListedImage[]): string {
  const rows = images.map((image) => [
    `${'  '.repeat(image.depth)}${image.file}`,
    kindText(image),
    image.createdAt?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? null,
    formatBytes(image.sizeBytes),
    image.encrypted === null ? null : image.encrypted ? 'yes' : 'no',
    image.error ? `${image.error.message} [${image.error.code}]` : image.source ? `${image.source.kind} ${image.source.path} (${formatBytes(image.source.sizeBytes)}${image.source.table && image.source.table !== 'none' ? `, ${image.source.table.toUpperCase()}` : ''})` : null,
  ]);
  return renderTable(['image', 'kind', 'created', 'size', 'encrypted', 'source'], rows);
}
