// `repo check`: every chunk a snapshot references is in an index and its pack exists; with --read-data-subset, the
// chosen packs are downloaded, hashed against their names, and every chunk in them decrypted and hashed against its
// id. A problem names the object and the snapshots that use it.
import { createHash } from 'node:crypto';
import type { RunContext } from '../../../sdk/index.js';
import { decodeBlob } from './chunk-blob.js';
import { referencedChunks } from './repository-prune.js';
import { inParallel } from './in-parallel.js';
import { chunkLocations, packKey, type BrokenSnapshot, type PackIndex, type Repository } from './repository.js';

export interface CheckProblem {
  object: string;
  problem: string;
  snapshots: string[];
}

export interface CheckResult {
  snapshots: number;
  packs: number;
  packsRead: number;
  chunksRead: number;
  problems: CheckProblem[];
}

/** '100%', '10%' or 'n/t' (the n-th of t slices of the packs, so t runs read everything once). */
export function parseSubset(value: string): (pack: string, position: number, count: number) => boolean {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(value);
  if (percent && Number(percent[1]) <= 100) {
    const share = Number(percent[1]) / 100;
    // Packs are named by hashes: their first 8 hex digits are an even spread to sample from.
    return (pack) => share >= 1 || parseInt(pack.slice(0, 8), 16) / 0x1_0000_0000 < share;
  }
  const slice = /^(\d+)\/(\d+)$/.exec(value);
  if (slice && Number(slice[1]) >= 1 && Number(slice[1]) <= Number(slice[2])) return (pack) => parseInt(pack.slice(0, 8), 16) % Number(slice[2]) === Number(slice[1]) - 1;
  throw new Error(`--read-data-subset must be a percentage (10%, 100%) or a slice n/t (1/5), got '${value}'`);
}

export async function checkRepository(repository: Repository, readSubset: ((pack: string, position: number, count: number) => boolean) | undefined, run: RunContext): Promise<CheckResult> {
  const indexes = await repository.readIndexes(undefined, { fromStore: true });
  const problems: CheckProblem[] = [];
  // A snapshot whose chunk lists cannot be read is a problem of its own; the objects it names still count as used.
  const broken: BrokenSnapshot[] = [];
  const snapshots = await repository.snapshots({ index: chunkLocations(indexes), onBroken: (b) => broken.push(b) });
  const packs = new Set((await repository.store.list('data/')).map((o) => o.key.slice(o.key.lastIndexOf('/') + 1)));
  const where = new Map<string, string>();
  for (const index of indexes) for (const [id] of index.blobs) if (!where.has(id)) where.set(id, index.pack);
  const uses = new Map([...snapshots.map((s) => [s.id, referencedChunks([s])] as const), ...broken.map((b) => [b.id, new Set(b.lists)] as const)]);
  const users = (chunks: Set<string>) => [...uses].filter(([, used]) => [...chunks].some((id) => used.has(id))).map(([id]) => id);
  for (const b of broken) problems.push({ object: `snapshots/${b.id}`, problem: b.error.message, snapshots: [b.id] });
  for (const s of snapshots) {
    const missing = [...uses.get(s.id)!].filter((id) => !where.has(id) || !packs.has(where.get(id)!));
    if (missing.length > 0) problems.push({ object: `snapshots/${s.id}`, problem: `${missing.length} referenced chunk(s) are missing (first ${missing[0]!.slice(0, 16)}${where.has(missing[0]!) ? ` in pack ${where.get(missing[0]!)}` : ', in no index'})`, snapshots: [s.id] });
  }
  let packsRead = 0;
  let chunksRead = 0;
  if (readSubset) {
    const chosen = indexes.filter((i, n) => packs.has(i.pack) && readSubset(i.pack, n, indexes.length));
    await inParallel(chosen, 4, async (index) => {
      const problem = await checkPack(repository, index);
      packsRead++;
      chunksRead += index.blobs.length;
      run.progress({ phase: 'read data', done: packsRead, total: chosen.length });
      if (problem) problems.push({ object: packKey(index.pack), problem, snapshots: users(new Set(index.blobs.map(([id]) => id))) });
    });
  }
  return { snapshots: snapshots.length + broken.length, packs: packs.size, packsRead, chunksRead, problems };
}

async function checkPack(repository: Repository, index: PackIndex): Promise<string | undefined> {
  const key = packKey(index.pack);
  const bytes = await repository.store.get(key);
  const bad: string[] = [];
  if (createHash('sha256').update(bytes).digest('hex') !== index.pack) bad.push('its SHA-256 is not its name');
  for (const [id, offset, length, plainLength] of index.blobs) {
    try {
      decodeBlob(repository.keys, id, bytes.subarray(offset, offset + length), plainLength, key);
    } catch (error) {
      bad.push((error as Error).message);
    }
  }
  return bad.length > 0 ? bad.join('; ') : undefined;
}
