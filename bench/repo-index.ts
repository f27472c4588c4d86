// What a backup's start costs in a repository of many packs on S3: reading every index object from the store, against
// reading the copies a machine keeps (plugins/backup/repository/index-cache.ts) after listing `index/`. The repository
// on a single-node Ceph RGW on 127.0.0.1 gets --packs index objects of --blobs entries each (what a 16 MiB pack of
// ~30 KiB chunks holds), sealed as real ones are; each way is timed --rounds times (median).
// Run: npm run bench:repo-index [-- --packs 2000 --blobs 500 --rounds 3]
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inParallel } from '../plugins/backup/repository/in-parallel.js';
import { Repository, indexKey, type PackIndex } from '../plugins/backup/repository/repository.js';
import { S3ObjectStore } from '../plugins/backup/repository/s3-object-store.js';
import { cephRgw } from '../test/helpers/ceph-rgw.js';

const { values } = parseArgs({ options: { packs: { type: 'string', default: '2000' }, blobs: { type: 'string', default: '500' }, rounds: { type: 'string', default: '3' } } });
const packs = Number(values.packs);
const blobs = Number(values.blobs);
const rounds = Number(values.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'shadowdisk-bench-repo-index-'));
try {
  await using rgw = await cephRgw({ bucket: 'bench' });
  const store = () => new S3ObjectStore({ bucket: 'bench', prefix: 'repo', endpoint: rgw.endpoint, region: rgw.region, credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey } });
  const passphrase = 'bench passphrase';
  const made = await Repository.init(store(), passphrase, { N: 2 ** 10, r: 8, p: 1 });
  let uploaded = 0;
  await inParallel(Array.from({ length: packs }, (_, i) => i), 16, async () => {
    const pack = createHash('sha256').update(randomBytes(32)).digest('hex');
    let offset = 0;
    const index: PackIndex = { pack, blobs: Array.from({ length: blobs }, () => {
      const length = 8_000 + Math.floor(Math.random() * 40_000);
      const entry: PackIndex['blobs'][number] = [randomBytes(16).toString('hex'), offset, length, Math.floor(length * 2.5)];
      offset += length;
      return entry;
    }) };
    const sealed = made.sealJsonDeterministic(index, 'index');
    uploaded += sealed.length;
    await made.store.put(indexKey(pack), sealed);
  });
  await made.close();
  console.log(`\n${packs} index objects of ${blobs} entries (${(uploaded / 1048576).toFixed(1)} MiB) on Ceph RGW S3 on 127.0.0.1; median of ${rounds}`);
  const time = async (cacheDir: string | undefined, fromStore: boolean) => {
    const repository = await Repository.open(store(), passphrase, cacheDir ? { cacheDir } : {});
    const started = performance.now();
    const read = await repository.readIndexes(undefined, { fromStore });
    const seconds = (performance.now() - started) / 1000;
    await repository.close();
    if (read.length !== packs) throw new Error(`read ${read.length} indexes, not ${packs}`);
    return { seconds, ...repository.indexReads };
  };
  const fromStore: number[] = [];
  const filling: number[] = [];
  const cached: number[] = [];
  for (let round = 0; round < rounds; round++) {
    fromStore.push((await time(undefined, true)).seconds);
    const cacheDir = join(dir, `cache-${round}`);
    const first = await time(cacheDir, false);
    if (first.fetched !== packs) throw new Error(`the first read fetched ${first.fetched}`);
    filling.push(first.seconds);
    const again = await time(cacheDir, false);
    if (again.cached !== packs || again.fetched !== 0) throw new Error(`the second read took ${again.cached} copies and fetched ${again.fetched}`);
    cached.push(again.seconds);
  }
  console.log('read                                    seconds');
  console.log(`every object from the store (before)    ${median(fromStore).toFixed(2).padStart(7)}`);
  console.log(`first backup on a machine (fills copies) ${median(filling).toFixed(2).padStart(6)}`);
  console.log(`later backups (list, then local copies)  ${median(cached).toFixed(2).padStart(6)}   ${(median(fromStore) / median(cached)).toFixed(1)}x faster`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
