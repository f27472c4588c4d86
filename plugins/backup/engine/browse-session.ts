// `image browse` and friends: the volumes of an image (or a repository snapshot) served as files through our FUSE file
// server, a read-only loop device on each volume to mount, and the filesystem mounted read-only without replaying its
// journal, so nothing is ever written to the backup. Every chunk is checked (SHA-256, or AES-GCM when encrypted) as it
// is read; a damaged one fails the reads it serves with EIO and is named in the log.
import { mkdir, mkdtemp, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachLoop, detachLoop, serveFiles, type FuseFileServer } from '../../../native/index.js';
import type { Logger } from '../../../sdk/index.js';
import { ShadowError } from '../../../sdk/index.js';
import { runTool } from '../../../sdk/node.js';
import { ChainView } from './chain-view.js';
import type { ViewVolume, VolumeView } from './extent-view.js';
import { openChain } from './image-chain.js';

/** How each filesystem is mounted read-only without writing to its device (no journal or log replay). */
export const MOUNT_OPTIONS: Record<string, { type: string; options: string }> = {
  ext2: { type: 'ext2', options: 'ro' },
  ext3: { type: 'ext3', options: 'ro,noload' },
  ext4: { type: 'ext4', options: 'ro,noload' },
  xfs: { type: 'xfs', options: 'ro,norecovery,nouuid' },
  btrfs: { type: 'btrfs', options: 'ro,rescue=nologreplay' },
  vfat: { type: 'vfat', options: 'ro' },
  ntfs: { type: 'ntfs-3g', options: 'ro' },
};

export function isMountable(volume: ViewVolume): boolean {
  return MOUNT_OPTIONS[volume.filesystem] !== undefined;
}

export interface BrowseMount {
  readonly volume: ViewVolume;
  readonly device: string;
  readonly mountpoint: string;
}

/** An open backup to browse; the session owns it from `openBrowse` on and disposes it when it closes. */
export interface OpenedView extends AsyncDisposable {
  /** How messages name it: the image file, or 'snapshot ID of URL'. */
  readonly label: string;
  readonly view: VolumeView;
}

/** A single-file image and its ancestors. */
export async function openImageView(path: string, passphrase: string | undefined): Promise<OpenedView> {
  const chain = await openChain(path, passphrase);
  try {
    return { label: path, view: new ChainView(chain.links), [Symbol.asyncDispose]: () => chain[Symbol.asyncDispose]() };
  } catch (error) {
    await chain[Symbol.asyncDispose]();
    throw error;
  }
}

export interface BrowseSession extends AsyncDisposable {
  /** How messages name what is browsed: the image file, or 'snapshot ID of URL'. */
  readonly image: string;
  readonly volumes: readonly ViewVolume[];
  /** The FUSE directory holding one raw file per volume ('disk', 'p1', ... or 'volume'). */
  readonly rawDir: string;
  readonly mounts: readonly BrowseMount[];
  /** What failed to read so far (damaged chunks), one message each. */
  readonly damaged: ReadonlySet<string>;
  close(): Promise<void>;
}

export interface BrowseOptions {
  /** Mount only this partition (its number on the source disk); else every partition with a mountable filesystem. */
  partition?: number;
  /** Where to mount: one volume directly there, several in `p<N>` folders under it. Created when missing. */
  mountpoint: string;
  log: Logger;
}

/** The volumes a browse mounts: the one asked for, or every mountable one. */
export function chooseVolumes(volumes: readonly ViewVolume[], partition: number | undefined, image: string): ViewVolume[] {
  const candidates = volumes.filter((v) => v.name !== 'disk');
  if (partition !== undefined) {
    const chosen = candidates.find((v) => v.partition === partition);
    if (!chosen) throw new ShadowError('NOT_FOUND', `${image} holds no partition ${partition}; it holds ${describe(candidates)}`);
    if (!isMountable(chosen)) throw new ShadowError('UNSUPPORTED', `Partition ${partition} of ${image} holds ${chosen.filesystem}, which cannot be mounted to browse; read it raw with 'image browse' (the p${partition} file)`);
    return [chosen];
  }
  const mountable = candidates.filter(isMountable);
  if (mountable.length === 0) throw new ShadowError('UNSUPPORTED', `${image} holds no filesystem that can be browsed (${describe(candidates)})`);
  return mountable;
}

function describe(volumes: readonly ViewVolume[]): string {
  return volumes.map((v) => `${v.partition !== undefined ? `partition ${v.partition}` : 'a volume'} (${v.filesystem})`).join(', ') || 'no volumes';
}

/** Mounts the volumes of `opened` (taking it over: it is disposed with the session, or at once if this fails). */
export async function openBrowse(opened: OpenedView, options: BrowseOptions): Promise<BrowseSession> {
  const image = opened.label;
  const undo: (() => Promise<void>)[] = [async () => {
    await opened[Symbol.asyncDispose]();
  }];
  const close = async () => {
    const errors: unknown[] = [];
    for (const step of undo.splice(0).reverse()) await step().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  };
  try {
    const { view } = opened;
    const volumes = view.volumes();
    const chosen = chooseVolumes(volumes, options.partition, image);

    const work = await mkdtemp(join(tmpdir(), 'shadowdisk-browse-'));
    undo.push(() => rm(work, { recursive: true, force: true }));
    const rawDir = join(work, 'raw');
    await mkdir(rawDir);
    const damaged = new Set<string>();
    const server: FuseFileServer = serveFiles(rawDir, volumes.map((v) => ({
      name: v.name,
      sizeBytes: v.sizeBytes,
      read: (offset: number, length: number) => view.read(v.startBytes + offset, length),
    })), {
      onError: (error) => {
        if (damaged.has(error.message)) return;
        damaged.add(error.message);
        options.log.error(`Reading ${image} failed: ${error.message}`);
      },
    });
    undo.push(() => closeServer(server));

    const createdMountpoint = await ensureEmptyDir(options.mountpoint);
    if (createdMountpoint) undo.push(() => rmdir(options.mountpoint));
    const mounts: BrowseMount[] = [];
    for (const volume of chosen) {
      const mountpoint = chosen.length === 1 ? options.mountpoint : join(options.mountpoint, volume.name);
      if (chosen.length > 1) {
        await mkdir(mountpoint);
        undo.push(() => rmdir(mountpoint));
      }
      const device = attachLoop(join(rawDir, volume.name), { readOnly: true });
      undo.push(async () => detachLoop(device));
      const how = MOUNT_OPTIONS[volume.filesystem]!;
      try {
        await runTool('mount', ['-t', how.type, '-o', how.options, device, mountpoint]);
      } catch (error) {
        throw new ShadowError('IO_ERROR', `Cannot mount ${volume.name} (${volume.filesystem}) of ${image}: ${(error as Error).message}`, { cause: error });
      }
      undo.push(() => unmount(mountpoint));
      mounts.push({ volume, device, mountpoint });
    }
    return { image, volumes, rawDir, mounts, damaged, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** Makes sure `path` is an empty directory; true when it was created here. */
async function ensureEmptyDir(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    await mkdir(path, { recursive: true });
    return true;
  }
  if (!info.isDirectory()) throw new ShadowError('INVALID_ARGUMENT', `Mount point '${path}' is not a directory`);
  if ((await readdir(path)).length > 0) throw new ShadowError('INVALID_ARGUMENT', `Mount point '${path}' is not empty; give an empty or new folder`);
  return false;
}

/** Unmounts a browse mount; a file still open there makes it busy, and then the reason is named. */
async function unmount(mountpoint: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await runTool('umount', [mountpoint]);
      return;
    } catch (error) {
      if (attempt >= 20) throw new ShadowError('TARGET_BUSY', `Cannot unmount ${mountpoint}: it is still in use (${(error as Error).message}); close the files open there and run 'umount ${mountpoint}'`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The loop devices on the FUSE files let go a moment after their detach; until then the FUSE mount is busy. */
async function closeServer(server: FuseFileServer): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await server.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
