// Talks to a running hotcore engine over its control socket: one JSON request per line, one JSON reply per line.
import { connect } from 'node:net';
import { ShadowError } from '../../sdk/index.js';

export interface EngineSnapshotStatus {
  state: 'none' | 'active' | 'failed';
  id?: number;
  createdAtMs?: number;
  diffStoreBytes?: number;
  /** How far the diff store can grow: --diff-limit-mib, or what its filesystem has free above the reserve (at the last step). */
  diffStoreLimitBytes?: number;
  /** The store file's allocated size: it grows in steps of 64 MiB as old blocks arrive. */
  diffStoreAllocatedBytes?: number;
  /** Kept free on the store's filesystem: 5% of its size, at least one step. */
  diffStoreReserveBytes?: number;
  /** Memory of the block-to-slot index: pages of 65,536 blocks, allocated where blocks were preserved. */
  slotIndexBytes?: number;
  /** The highest of 80, 90 and 95 (% of the limit) the diff store has reached, or null below 80%. */
  diffStoreWarningPercent?: number | null;
  diffStorePath?: string;
  /** Why a failed snapshot failed: `DIFF_STORE_FULL` when the diff store could hold no more. */
  error?: { code: string; message: string; atMs: number };
}

/** What `hot attach --transport` asks the engine for. */
export type EngineTransport = 'auto' | 'dev-fuse';

export interface EngineStatus {
  pid: number;
  origin: string;
  mountDir: string;
  sizeBytes: number;
  blockSize: number;
  directIo: boolean;
  generation: number;
  changedBlocks: number;
  /** Whether the map holds every write since its generation began (false after a crash or on a first attachment). */
  changedBlocksTrusted: boolean;
  /** Why it is not trusted; the next backup must then read everything. */
  changedBlocksDistrust?: string;
  snapshot: EngineSnapshotStatus;
  diffStoreBytes: number;
  /** Copy-before-write granularity: the first write into a chunk preserves all of it (the changed-block map stays at blockSize). */
  cowChunkBytes: number;
  ioFlusher: boolean;
  memoryLocked: boolean;
  /** How requests reach the engine: FUSE over io_uring (one ring per CPU) or libfuse's /dev/fuse threads (fallback). */
  transport: 'io_uring' | 'dev-fuse';
  ringQueues: number;
}

export interface ChangedBlockMap {
  generation: number;
  nextGeneration: number;
  changedBlocks: number;
  /** Whether this generation's map holds every write made during it. */
  trusted: boolean;
  blocks: number;
  blockSize: number;
  path: string;
}

type Reply = { ok: true } & Record<string, unknown> | { ok: false; code: string; message: string };

/** Sends one request and resolves with the reply; an engine error becomes a ShadowError naming the engine's code. */
export function engineRequest(socketPath: string, request: Record<string, unknown>, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ShadowError('TIMEOUT', `The hotcore engine at '${socketPath}' did not answer '${String(request['cmd'])}' within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      const newline = received.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      socket.end();
      const reply = JSON.parse(received.slice(0, newline)) as Reply;
      if (reply.ok) resolve(reply);
      else reject(new ShadowError(reply.code === 'TARGET_BUSY' ? 'TARGET_BUSY' : reply.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'IO_ERROR', `hotcore ${String(request['cmd'])}: ${reply.message}`, { details: { engineCode: reply.code } }));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ShadowError('IO_ERROR', `Cannot reach the hotcore engine at '${socketPath}' (${error.code ?? error.message}); is it running?`, { cause: error }));
    });
  });
}

/** Typed wrappers over the engine's commands. */
export class EngineClient {
  constructor(readonly socketPath: string) {}

  async status(timeoutMs?: number): Promise<EngineStatus> {
    return (await engineRequest(this.socketPath, { cmd: 'status' }, timeoutMs)) as unknown as EngineStatus;
  }

  /**
   * The diff store and maps made ready outside the cut, so the next snapshot-create only switches (the filesystem is
   * frozen meanwhile). False from an engine older than this command: its snapshot-create then does it all.
   */
  async prepareSnapshot(): Promise<boolean> {
    try {
      await engineRequest(this.socketPath, { cmd: 'snapshot-prepare' });
      return true;
    } catch (error) {
      if ((error as ShadowError).details?.['engineCode'] === 'INVALID_ARGUMENT') return false;
      throw error;
    }
  }

  async createSnapshot(): Promise<EngineSnapshotStatus> {
    return ((await engineRequest(this.socketPath, { cmd: 'snapshot-create' })) as { snapshot: EngineSnapshotStatus }).snapshot;
  }

  /** A snapshot and a changed-block generation turn at one cut: `cbtPath` gets the blocks changed since the last turn. */
  async createSnapshotWithChangedBlocks(cbtPath: string): Promise<{ snapshot: EngineSnapshotStatus; changedBlocks: ChangedBlockMap }> {
    return (await engineRequest(this.socketPath, { cmd: 'snapshot-create', cbtPath })) as unknown as { snapshot: EngineSnapshotStatus; changedBlocks: ChangedBlockMap };
  }

  /** A store prepared and never cut dropped; a snapshot that exists is left alone. */
  async dropPrepared(): Promise<void> {
    if ((await this.status(5000)).snapshot.state !== 'none') return;
    await this.deleteSnapshot().catch((error: unknown) => {
      if ((error as ShadowError).code !== 'NOT_FOUND') throw error;
    });
  }

  /** Drops the snapshot, or a store prepared for one and never cut (NOT_FOUND when there is neither). */
  async deleteSnapshot(): Promise<void> {
    await engineRequest(this.socketPath, { cmd: 'snapshot-delete' });
  }

  /** Writes the changed-block bitmap (bit b of byte b/8 is block b) to `path` and starts a new generation. */
  async takeChangedBlocks(path: string): Promise<ChangedBlockMap> {
    return (await engineRequest(this.socketPath, { cmd: 'cbt-get', path })) as unknown as ChangedBlockMap;
  }

  /** Unmounts the FUSE directory and stops the engine; TARGET_BUSY while a loop device still holds the volume. */
  async shutdown(): Promise<void> {
    await engineRequest(this.socketPath, { cmd: 'shutdown' });
  }
}
