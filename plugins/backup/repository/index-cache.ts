// A local copy of a remote repository's index objects, kept in the state directory (restic keeps one too): an index
// object is named after its pack, whose name is the SHA-256 of its content, and written deterministically, so a name
// always holds the same bytes and a copy never goes stale; it only goes away when a prune deletes the pack. A backup
// then lists `index/` and downloads only the objects it has not seen, instead of every one of them each time. Copies
// are the sealed bytes as stored: they are authenticated again at every read, and one that fails is fetched anew.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export class IndexCache {
  /** `dir`: this repository's own folder (named after the repository's id). */
  constructor(private readonly dir: string) {}

  private pathOf(key: string): string {
    return join(this.dir, key.slice(key.lastIndexOf('/') + 1));
  }

  /** The sealed bytes kept for `key`, or undefined. */
  async get(key: string): Promise<Buffer | undefined> {
    return readFile(this.pathOf(key)).catch(() => undefined);
  }

  /**
   * Keeps `bytes` for `key` (written aside and renamed: readers in other processes never see half a copy). A copy is
   * a saving, never a need: when it cannot be written (a full or read-only state directory) nothing fails.
   */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    const temporary = `${this.pathOf(key)}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(temporary, bytes);
      await rename(temporary, this.pathOf(key));
    } catch {
      await rm(temporary, { force: true }).catch(() => undefined);
    }
  }

  async drop(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true }).catch(() => undefined);
  }

  /**
   * Removes the copies of objects the repository no longer lists (their packs were pruned), as of a listing taken at
   * `listedAt` (ms): copies made since may be of objects another process wrote after it, and stay.
   */
  async retain(keys: readonly string[], listedAt: number): Promise<void> {
    const listed = new Set(keys.map((k) => k.slice(k.lastIndexOf('/') + 1)));
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      if (listed.has(name)) continue;
      const modified = (await stat(join(this.dir, name)).catch(() => undefined))?.mtimeMs;
      if (modified === undefined || modified >= listedAt) continue;
      // A half-written copy may be another process's at work; one an hour old was left by a process that died.
      if (name.includes('.tmp-') && Date.now() - modified < 3_600_000) continue;
      await rm(join(this.dir, name), { force: true }).catch(() => undefined);
    }
  }
}
