// Where a repository's objects live: a flat namespace of keys ('config', 'data/ab/abcd…') with whole-object writes,
// ranged reads, listing by prefix and deletes. Kinds come from `repositories` contributions (local folder, S3).
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ShadowError } from '../../../sdk/index.js';

export interface StoredObject {
  readonly key: string;
  readonly sizeBytes: number;
  readonly modified: Date;
}

export interface ObjectStore {
  /** How the store names itself in messages: 'file:///srv/repo', 's3://bucket/prefix'. */
  readonly url: string;
  /** Writes a whole object; it is visible to others only once complete (rename, or S3's completed upload). */
  put(key: string, data: Uint8Array): Promise<void>;
  /** Creates the object only if no object has that key; returns false when one exists. */
  putIfAbsent(key: string, data: Uint8Array): Promise<boolean>;
  /** The object, or bytes [offset, offset + length) of it. NOT_FOUND when it does not exist. */
  get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array>;
  /** Every object whose key starts with `prefix`. */
  list(prefix: string): Promise<StoredObject[]>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** What a `repositories` contribution implements. */
export interface RepositoryKind {
  readonly schemes: readonly string[];
  open(url: URL, options: { settings: (key: string) => unknown }): Promise<ObjectStore>;
}

export function objectMissing(url: string, key: string, cause?: unknown): ShadowError {
  return new ShadowError('NOT_FOUND', `Object '${key}' is missing from the repository ${url}`, { cause, details: { object: key } });
}

async function writeSynced(path: string, flags: 'w' | 'wx', data: Uint8Array): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A folder: objects are files under it, written to a temporary name and renamed, so readers never see half an object. */
export class LocalObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  get url(): string {
    return `file://${this.root}`;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const path = join(this.root, key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    await writeSynced(temporary, 'w', data);
    await rename(temporary, path);
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const path = join(this.root, key);
    await mkdir(dirname(path), { recursive: true });
    try {
      await writeSynced(path, 'wx', data);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  async get(key: string, range?: { offset: number; length: number }): Promise<Uint8Array> {
    const path = join(this.root, key);
    try {
      if (!range) return await readFile(path);
      const handle = await open(path, 'r');
      try {
        const buffer = Buffer.alloc(range.length);
        const { bytesRead } = await handle.read(buffer, 0, range.length, range.offset);
        if (bytesRead !== range.length) throw new ShadowError('IMAGE_CORRUPT', `Object '${key}' of ${this.url} ends before byte ${range.offset + range.length}`, { details: { object: key } });
        return buffer;
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw objectMissing(this.url, key, error);
      throw error;
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const walk = async (folder: string): Promise<void> => {
      const entries = await readdir(join(this.root, folder), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      for (const entry of entries) {
        const key = folder ? `${folder}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(key);
        else if (!entry.name.includes('.tmp-') && key.startsWith(prefix)) {
          const info = await stat(join(this.root, key)).catch(() => undefined);
          if (info) out.push({ key, sizeBytes: info.size, modified: info.mtime });
        }
      }
    };
    // Walk only the folder the prefix names (keys use '/' as folders).
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await walk(folder);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async delete(key: string): Promise<void> {
    await rm(join(this.root, key), { force: true });
  }

  async close(): Promise<void> {}
}
