// Test handles for shadow copies (declare the pool before the host: the host deletes its sets first): a host on a fresh state folder, a "pool" filesystem (XFS or btrfs, so image files on
// it can be cloned) and volumes that are loop devices on image files in the pool, formatted and mounted. Disposing the
// host deletes every set it made (their loop devices and clones) before the pool goes.
import { join } from 'node:path';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import type { ShadowSetRecord } from '../../plugins/vss/index.js';
import { loopDevice, mkfs, mount, sparseImage, tempDir, tempStateDir, type TestFsType } from '../helpers/index.js';

const MiB = 1024 * 1024;

export interface VssHost extends AsyncDisposable {
  readonly host: ShadowdiskHost;
  readonly stateDir: string;
  create(volumes: string[], options?: Record<string, string | boolean>): Promise<ShadowSetRecord>;
  command(verb: 'list' | 'mount' | 'unmount' | 'delete' | 'backup', positionals?: string[], options?: Record<string, string | boolean>): Promise<unknown>;
}

export async function vssHost(options: { extraPluginRoots?: string[] } = {}): Promise<VssHost> {
  const state = await tempStateDir();
  const host = await createHost({ stateDir: state.path, logSink: () => undefined, ...(options.extraPluginRoots ? { extraPluginRoots: options.extraPluginRoots } : {}) });
  const command = async (verb: string, positionals: string[] = [], opts: Record<string, string | boolean> = {}) =>
    (await host.executeCommand(`shadowdisk.vss.${verb}`, { positionals, options: opts })).data;
  return {
    host,
    stateDir: state.path,
    create: async (volumes, opts = {}) => (await command('create', volumes, opts)) as ShadowSetRecord,
    command,
    async [Symbol.asyncDispose]() {
      try {
        const { sets } = (await command('list')) as { sets: ShadowSetRecord[] };
        for (const set of sets) await command('delete', [set.id], { force: true });
      } finally {
        await host[Symbol.asyncDispose]();
        await state[Symbol.asyncDispose]();
      }
    },
  };
}

export interface Pool extends AsyncDisposable {
  readonly path: string;
  /** A mounted filesystem on a loop device on an image file in the pool. */
  volume(name: string, sizeBytes: number, type: TestFsType): Promise<PoolVolume>;
}

export interface PoolVolume {
  readonly device: string;
  readonly mountpoint: string;
  readonly image: string;
}

/** A mounted XFS (or btrfs) holding the volumes' image files; everything is released in reverse order on dispose. */
export async function pool(sizeBytes = 1024 * MiB, type: 'xfs' | 'btrfs' = 'xfs'): Promise<Pool> {
  const stack = new AsyncDisposableStack();
  try {
    const dir = stack.use(await tempDir('shadowdisk-pool-'));
    const image = stack.use(await sparseImage(sizeBytes, { dir: dir.path, name: 'pool.img' }));
    const loop = stack.use(await loopDevice(image.path));
    await mkfs(loop.path, type);
    const mounted = stack.use(await mount(loop.path));
    const moved = stack.move();
    const volumes = new AsyncDisposableStack();
    return {
      path: mounted.mountpoint,
      async volume(name, size, fsType) {
        const file = volumes.use(await sparseImage(size, { dir: mounted.mountpoint, name: `${name}.img` }));
        const device = volumes.use(await loopDevice(file.path));
        await mkfs(device.path, fsType);
        const m = volumes.use(await mount(device.path));
        return { device: device.path, mountpoint: m.mountpoint, image: join(mounted.mountpoint, `${name}.img`) };
      },
      async [Symbol.asyncDispose]() {
        try {
          await volumes.disposeAsync();
        } finally {
          await moved.disposeAsync();
        }
      },
    };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}
