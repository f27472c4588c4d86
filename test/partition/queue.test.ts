// The pending-operation queue on real loop devices: what `part plan --json` predicts is what sfdisk reads after apply.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import type { LayoutJson } from '../../plugins/partition/ops/layout-json.js';
import { isShadowError } from '../../sdk/index.js';
import { loopDevice, mkfs, mount, prng, run, sparseImage, tempStateDir } from '../helpers/index.js';
import { layoutView, sfdiskView } from './sfdisk-judge.js';

const MiB = 1024 * 1024;
const SEQUENCES = Number(process.env['QUEUE_SEQUENCES'] ?? 100);


async function part(host: ShadowdiskHost, ...words: string[]) {
  const positionals: string[] = [];
  const options: Record<string, string | boolean> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.startsWith('--')) {
      const next = words[i + 1];
      if (next !== undefined && !next.startsWith('--') && w !== '--yes') options[w.slice(2)] = words[++i]!;
      else options[w.slice(2)] = true;
    } else positionals.push(w);
  }
  const [verb, ...rest] = positionals;
  return host.executeCommand(`shadowdisk.partition.part-${verb}`, { positionals: rest, options });
}

const predicted = async (host: ShadowdiskHost, disk: string) => ((await part(host, 'plan', disk)).data as { predicted: LayoutJson }).predicted;

/** Queues a random, valid-by-construction-or-refused sequence; refused steps must leave the plan unchanged. */
async function randomSequence(host: ShadowdiskHost, disk: string, random: () => number): Promise<void> {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const table = random() < 0.5 ? 'gpt' : 'mbr';
  await part(host, 'create-table', disk, table);
  const steps = 3 + Math.floor(random() * 8);
  for (let i = 0; i < steps; i++) {
    const layout = await predicted(host, disk);
    const numbers = layout.partitions.map((p) => String(p.number));
    const hasExtended = layout.partitions.some((p) => p.mbr?.role === 'extended');
    const choice = random();
    const size = `${1 + Math.floor(random() * 24)}MiB`;
    let words: string[];
    if (choice < 0.45 || numbers.length === 0) {
      if (table === 'gpt') words = ['create', disk, '--size', size, '--type', pick(['linux', 'swap', 'esp', 'msdata', 'lvm', 'home']), '--name', pick(['', 'data', 'boot', 'Ünïcödé', 'root 🐧', '日本語'])];
      else if (hasExtended && random() < 0.6) words = ['create', disk, '--role', 'logical', '--size', size, '--type', pick(['linux', 'swap', '0x07', '0x0c', 'lvm'])];
      else if (!hasExtended && random() < 0.3) words = ['create', disk, '--role', 'extended', '--size', `${40 + Math.floor(random() * 80)}MiB`];
      else words = ['create', disk, '--size', size, '--type', pick(['linux', 'swap', '0x07', '0x0c', 'raid'])];
    } else if (choice < 0.6) words = ['delete', disk, pick(numbers)];
    else if (choice < 0.7) words = ['set', disk, pick(numbers), 'type', table === 'gpt' ? pick(['linux', 'raid', 'msdata']) : pick(['linux', '0x07', '0x8e'])];
    else if (choice < 0.8) words = table === 'gpt' ? ['set', disk, pick(numbers), 'name', pick(['renamed', 'x', '💾 disk'])] : ['set', disk, pick(numbers), 'flag', 'boot', pick(['on', 'off'])];
    else if (choice < 0.88) words = table === 'gpt' ? ['set', disk, pick(numbers), 'flag', pick(['legacy-boot', 'no-automount', 'hidden', 'required']), pick(['on', 'off'])] : ['set', disk, pick(numbers), 'flag', 'hidden', pick(['on', 'off'])];
    else if (choice < 0.94) {
      await part(host, 'undo', disk);
      if (random() < 0.5) await part(host, 'redo', disk);
      continue;
    } else words = ['set', disk, pick(numbers), 'uuid', table === 'gpt' ? '0fc63daf-8483-4772-8e79-3d69d847' + String(1000 + i).padStart(4, '0') : 'nope'];
    const before = JSON.stringify(await predicted(host, disk));
    try {
      await part(host, ...words);
    } catch (error) {
      if (!isShadowError(error)) throw error;
      expect(JSON.stringify(await predicted(host, disk)), `a refused '${words.join(' ')}' changed the plan`).toBe(before);
    }
  }
}

async function withHost<T>(use: (host: ShadowdiskHost) => Promise<T>): Promise<T> {
  await using state = await tempStateDir();
  await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
  return await use(host);
}

describe('pending-operation queue', () => {
  it(`predicts exactly what sfdisk reads after apply, for ${SEQUENCES} random operation sequences on loop devices`, async () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= SEQUENCES; seed++) {
      const random = prng(seed);
      const sectorSize = random() < 0.25 ? 4096 : 512;
      await using image = await sparseImage((256 + Math.floor(random() * 256)) * MiB);
      await using loop = await loopDevice(image.path, { sectorSize });
      await withHost(async (host) => {
        await randomSequence(host, loop.path, random);
        const prediction = await predicted(host, loop.path);
        await part(host, 'apply', loop.path, '--yes');
        const judged = await sfdiskView(loop.path);
        try {
          expect(judged).toEqual(layoutView(prediction));
        } catch (error) {
          failures.push(`seed ${seed} (${sectorSize}-byte sectors): ${(error as Error).message.slice(0, 2000)}`);
        }
        const verify = await run('sfdisk', ['--verify', loop.path], { allowFailure: true });
        if (!/No errors detected/.test(verify.stdout)) failures.push(`seed ${seed}: sfdisk --verify says ${verify.stdout}${verify.stderr}`);
      });
    }
    expect(failures).toEqual([]);
  }, 600_000);

  it('undoes and redoes operations, and forgets the redo stack after a new operation', async () => {
    await using image = await sparseImage(64 * MiB);
    await withHost(async (host) => {
      await part(host, 'create-table', image.path, 'gpt');
      await part(host, 'create', image.path, '--size', '8MiB', '--name', 'one');
      await part(host, 'create', image.path, '--size', '8MiB', '--name', 'two');
      await part(host, 'undo', image.path);
      expect((await predicted(host, image.path)).partitions.map((p) => p.gpt?.name)).toEqual(['one']);
      await part(host, 'redo', image.path);
      expect((await predicted(host, image.path)).partitions.map((p) => p.gpt?.name)).toEqual(['one', 'two']);
      await part(host, 'undo', image.path);
      await part(host, 'create', image.path, '--size', '8MiB', '--name', 'three');
      await expect(part(host, 'redo', image.path)).rejects.toThrow(`Nothing to redo for ${image.path}`);
      expect((await predicted(host, image.path)).partitions.map((p) => p.gpt?.name)).toEqual(['one', 'three']);
    });
  });

  it('refuses to apply when the disk changed since the plan was made, writing nothing', async () => {
    await using image = await sparseImage(64 * MiB);
    await withHost(async (host) => {
      await part(host, 'create-table', image.path, 'mbr');
      await part(host, 'create', image.path, '--size', '8MiB');
      // Someone else partitions the disk meanwhile.
      await run('sfdisk', ['--quiet', image.path], { input: 'label: gpt\n,16MiB\n' });
      const before = createHash('sha256').update(await readFile(image.path)).digest('hex');
      const error = await part(host, 'apply', image.path, '--yes').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'PLAN_STALE' });
      expect(createHash('sha256').update(await readFile(image.path)).digest('hex')).toBe(before);
    });
  });

  it('refuses to delete a mounted partition, writing nothing', async () => {
    await using image = await sparseImage(128 * MiB);
    await using loop = await loopDevice(image.path);
    await withHost(async (host) => {
      await part(host, 'create-table', loop.path, 'gpt');
      await part(host, 'create', loop.path, '--size', '32MiB');
      await part(host, 'create', loop.path, '--size', '32MiB');
      await part(host, 'format', loop.path, '2', 'ext4', '--label', 'busy');
      await part(host, 'apply', loop.path, '--yes');
      await mkfs(`${loop.path}p1`, 'ext4');
      await using mounted = await mount(`${loop.path}p1`);
      await part(host, 'delete', loop.path, '1');
      const before = createHash('sha256').update(await readFile(image.path)).digest('hex');
      const error = await part(host, 'apply', loop.path, '--yes').catch((e: unknown) => e);
      expect(isShadowError(error, 'TARGET_BUSY')).toBe(true);
      expect((error as Error).message).toContain(`${loop.path}p1 is mounted on ${mounted.mountpoint}`);
      expect(createHash('sha256').update(await readFile(image.path)).digest('hex')).toBe(before);
      // Partition 2 is not busy: a change that leaves partition 1 alone still applies.
      await part(host, 'undo', loop.path);
      await part(host, 'label', loop.path, '2', 'relabelled');
      await part(host, 'apply', loop.path, '--yes');
      expect((await run('blkid', ['-p', '-s', 'LABEL', '-o', 'value', `${loop.path}p2`])).stdout.trim()).toBe('relabelled');
    });
  });

  it('shows a dry run without writing, and asks for confirmation without --yes', async () => {
    await using image = await sparseImage(64 * MiB);
    await withHost(async (host) => {
      await part(host, 'create-table', image.path, 'gpt');
      await part(host, 'create', image.path);
      const before = createHash('sha256').update(await readFile(image.path)).digest('hex');
      const dry = await part(host, 'apply', image.path, '--dry-run');
      expect(dry.data).toMatchObject({ dryRun: true });
      await expect(part(host, 'apply', image.path)).rejects.toThrow(/confirm with --yes/);
      expect(createHash('sha256').update(await readFile(image.path)).digest('hex')).toBe(before);
    });
  });
});
