// The restore spool: a private file under the state directory holding the sealed (still encrypted) bytes of every
// chunk a restore needs, written while they are verified, so each pack is downloaded once and the write pass reads
// them back locally. Removed when the restore ends; a spool left by a process that died is removed by the next restore.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, statfs, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '../../../sdk/index.js';
import { processAlive } from '../../../sdk/node.js';

/** Room left beside the spool: the state directory's filesystem is not filled to the last MiB. */
const HEADROOM_BYTES = 64 * 1024 * 1024;

export class RestoreSpool implements AsyncDisposable {
  private readonly places = new Map<string, { offset: number; length: number }>();
  private end = 0;

  private constructor(readonly path: string, private readonly handle: FileHandle) {}

  /**
   * A new spool in `dir` for `needBytes`, or why there is none (not enough room there); removes spools whose
   * process is gone.
   */
  static async create(dir: string, needBytes: number): Promise<RestoreSpool | { reason: string }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(dir)) {
      const pid = Number(name.split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) await rm(join(dir, name), { force: true });
    }
    const fs = await statfs(dir);
    const free = fs.bavail * fs.bsize;
    if (free < needBytes + HEADROOM_BYTES) {
      return { reason: `${dir} has ${formatBytes(free)} free but the spool needs ${formatBytes(needBytes)} (and ${formatBytes(HEADROOM_BYTES)} to spare)` };
    }
    const path = join(dir, `${process.pid}-${randomBytes(6).toString('hex')}.spool`);
    return new RestoreSpool(path, await open(path, 'wx+', 0o600));
  }

  get sizeBytes(): number {
    return this.end;
  }

  /** Appends a chunk's sealed bytes (once per chunk id). */
  async put(id: string, sealed: Uint8Array): Promise<void> {
    if (this.places.has(id)) return;
    const offset = this.end;
    this.end += sealed.length;
    this.places.set(id, { offset, length: sealed.length });
    await this.handle.write(sealed, 0, sealed.length, offset);
  }

  async get(id: string): Promise<Buffer> {
    const place = this.places.get(id);
    if (!place) throw new Error(`Chunk ${id.slice(0, 16)} is not in the restore spool ${this.path}`);
    const buffer = Buffer.allocUnsafe(place.length);
    const { bytesRead } = await this.handle.read(buffer, 0, place.length, place.offset);
    if (bytesRead !== place.length) throw new Error(`The restore spool ${this.path} ends before byte ${place.offset + place.length}`);
    return buffer;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}
