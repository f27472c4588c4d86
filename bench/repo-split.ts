// Where a repository's second generation spends its bytes: bench/repo's data and change (ext4, /usr files, 10% of the
// files rewritten) backed up twice into a local repository, then every chunk the second snapshot added is laid over the
// disk and its stored bytes shared out, by the bytes it covers, among what the filesystem keeps there: the changed
// files, other files, the journal, inode tables, bitmaps, superblocks and group descriptors, and the rest (directories,
// extent blocks). Restic backs the mounted filesystem up to a local repository beside it, for scale.
// Run: npm run bench:repo-split [-- --size-mib 512 --fill-mib 300 --change packages]
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { includedRanges, sliceRanges } from '../plugins/backup/engine/packed-stream.js';
import { LocalObjectStore } from '../plugins/backup/repository/object-store.js';
import { chunkLocations, Repository } from '../plugins/backup/repository/repository.js';
import { changeFiles, fillCommand, listFiles } from './repo-data.js';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '512' }, 'fill-mib': { type: 'string', default: '300' }, change: { type: 'string', default: 'packages' } } });
const MIB = 1024 * 1024;
const sizeMiB = Number(values['size-mib']);
const fillMiB = Number(values['fill-mib']);
const sh = (command: string, env?: Record<string, string>) => execSync(command, { stdio: ['ignore', 'pipe', 'pipe'], shell: '/bin/bash', env: { ...process.env, ...env }, maxBuffer: 256 * MIB }).toString();
const duBytes = (path: string) => Number(sh(`du -sb ${path}`).split('\t')[0]);
const dir = mkdtempSync(join(tmpdir(), 'shadowdisk-bench-split-'));
const image = join(dir, 'disk.img');
const mnt = join(dir, 'mnt');
mkdirSync(mnt);
execFileSync('truncate', ['-s', `${sizeMiB}M`, image]);
const device = sh(`losetup --find --show ${image}`).trim();
const env = { SHADOWDISK_HOME: join(dir, 'state'), SHADOWDISK_PASSPHRASE: 'bench passphrase' };
const resticEnv = { RESTIC_PASSWORD: 'bench passphrase', RESTIC_REPOSITORY: join(dir, 'restic') };
const repoDir = join(dir, 'repo');
const node = process.execPath;
try {
  sh(`mkfs.ext4 -q -F ${device}`);
  sh(`mount ${device} ${mnt}`);
  sh(fillCommand(mnt, fillMiB));
  sh(`umount ${mnt}`);
  sh(`${node} bin/shadowdisk.js repo init file://${repoDir}`, env);
  sh('restic init', resticEnv);
  const backup = () => {
    sh(`${node} bin/shadowdisk.js image backup ${device} --repo file://${repoDir}`, env);
    sh(`mount -o ro ${device} ${mnt}`);
    sh(`restic backup --quiet ${mnt}`, resticEnv);
    sh(`umount ${mnt}`);
    return { ours: duBytes(repoDir), restic: duBytes(resticEnv.RESTIC_REPOSITORY) };
  };
  const first = backup();
  sh(`mount ${device} ${mnt}`);
  const { files: changed, bytes: changedBytes } = changeFiles(mnt, values.change as 'packages' | 'scattered');
  const files = listFiles(mnt);
  sh(`umount ${mnt}`);
  const second = backup();

  // The filesystem's regions, in 4 KiB blocks.
  const BLOCK = 4096;
  const kind = new Uint8Array((sizeMiB * MIB) / BLOCK);
  const KINDS = ['not a file or fs metadata', 'changed files', 'other files', 'journal', 'inode tables', 'bitmaps', 'sb+gdt', ] as const;
  const mark = (first: number, last: number, k: number) => kind.fill(k, first, last + 1);
  const dump = sh(`dumpe2fs ${device} 2>/dev/null`);
  for (const m of dump.matchAll(/(?:superblock at|Group descriptors at|Reserved GDT blocks at) (\d+)(?:-(\d+))?/g)) mark(Number(m[1]), Number(m[2] ?? m[1]), 6);
  for (const m of dump.matchAll(/(?:Block|Inode) bitmap at (\d+)/g)) mark(Number(m[1]), Number(m[1]), 5);
  for (const m of dump.matchAll(/Inode table at (\d+)-(\d+)/g)) mark(Number(m[1]), Number(m[2]), 4);
  for (const b of sh(`debugfs -R 'blocks <8>' ${device} 2>/dev/null`).trim().split(/\s+/)) mark(Number(b), Number(b), 3);
  sh(`mount -o ro ${device} ${mnt}`);
  const changedSet = new Set(changed);
  // Every file's extents from one filefrag run (its output names each file before its extents).
  writeFileSync(join(dir, 'files'), files.join('\n'));
  let current = 2;
  for (const line of sh(`xargs -d '\\n' -a ${join(dir, 'files')} filefrag -e`).split('\n')) {
    const named = /^File size of (.*) is \d+/.exec(line);
    if (named) current = changedSet.has(named[1]!) ? 1 : 2;
    const extent = /^\s*\d+:\s+\d+\.\.\s*\d+:\s+(\d+)\.\.\s*(\d+):/.exec(line);
    if (extent) mark(Number(extent[1]), Number(extent[2]), current);
  }
  sh(`umount ${mnt}`);

  const repository = await Repository.open(new LocalObjectStore(repoDir), env.SHADOWDISK_PASSPHRASE);
  const index = chunkLocations(await repository.readIndexes());
  const [s1, s2] = await repository.snapshots({ index });
  /** The stored and raw bytes of the chunks of `snapshot` that `old` lacks, by region; and of its new list blobs. */
  const split = (snapshot: typeof s1 & {}, old: ReadonlySet<string>) => {
    const stored = new Map<string, number>(KINDS.map((k) => [k, 0]));
    const raw = new Map<string, number>(KINDS.map((k) => [k, 0]));
    const seen = new Set<string>();
    let lists = 0;
    for (const id of snapshot.lists ?? []) if (!old.has(id) && !seen.has(id)) (seen.add(id), (lists += index.get(id)!.length));
    for (const st of snapshot.streams) {
      const stream = snapshot.manifest.streams.find((s) => s.id === st.id)!;
      const ranges = includedRanges(stream);
      let packed = 0;
      for (const [id, length] of st.chunks) {
        if (!old.has(id) && !seen.has(id)) {
          seen.add(id);
          const counts = new Map<number, number>();
          for (const r of sliceRanges(ranges, packed, length)) {
            for (let at = r.offsetBytes; at < r.offsetBytes + r.lengthBytes; ) {
              const block = Math.floor(at / BLOCK);
              const next = Math.min((block + 1) * BLOCK, r.offsetBytes + r.lengthBytes);
              const k = kind[block]!;
              counts.set(k, (counts.get(k) ?? 0) + next - at);
              at = next;
            }
          }
          const sealed = index.get(id)!.length;
          for (const [k, n] of counts) {
            stored.set(KINDS[k]!, stored.get(KINDS[k]!)! + (sealed * n) / length);
            raw.set(KINDS[k]!, raw.get(KINDS[k]!)! + n);
          }
        }
        packed += length;
      }
    }
    return { stored, raw, lists, chunks: seen.size };
  };
  const gen1 = split(s1!, new Set());
  const gen2 = split(s2!, new Set([...s1!.streams.flatMap((st) => st.chunks.map(([id]) => id)), ...(s1!.lists ?? [])]));
  const mib = (n: number) => (n / MIB).toFixed(2).padStart(9);
  console.log(`\next4 ${sizeMiB} MiB, ~${fillMiB} MiB of /usr files; generation 2: ${changed.length} files (${mib(changedBytes).trim()} MiB) rewritten (${values.change})`);
  console.log(`repository size after gen 1 / gen 2 (du): ours ${mib(first.ours)} / ${mib(second.ours)} MiB, restic ${mib(first.restic)} / ${mib(second.restic)} MiB`);
  console.log(`added by gen 2: ours ${mib(second.ours - first.ours)} MiB, restic ${mib(second.restic - first.restic)} MiB`);
  console.log(`\nours, each generation's new chunks by what they cover on the disk (the kinds as the second generation left them):`);
  console.log(`${'region'.padEnd(26)}  gen 1 raw MiB  stored MiB   gen 2 raw MiB  stored MiB`);
  for (const k of KINDS) console.log(`${k.padEnd(26)}${mib(gen1.raw.get(k)!).padStart(15)} ${mib(gen1.stored.get(k)!).padStart(11)} ${mib(gen2.raw.get(k)!).padStart(15)} ${mib(gen2.stored.get(k)!).padStart(11)}`);
  console.log(`${'chunk lists'.padEnd(26)}${''.padStart(15)} ${mib(gen1.lists).padStart(11)} ${''.padStart(15)} ${mib(gen2.lists).padStart(11)}`);
  console.log(`${'chunks'.padEnd(26)}${''.padStart(15)} ${String(gen1.chunks).padStart(11)} ${''.padStart(15)} ${String(gen2.chunks).padStart(11)}`);
  await repository.close();
} finally {
  sh(`mountpoint -q ${mnt} && umount ${mnt}; true`);
  sh(`losetup -d ${device}`);
  rmSync(dir, { recursive: true, force: true });
}
