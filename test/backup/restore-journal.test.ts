// The restore journal: an `image restore` or `disk copy` cancelled mid-write leaves a record that `--status` and the
// next restore report (target, image, how far it got); running the same command again finishes the target and
// clears the record.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureIo } from '../../core/node/cli/capture-io.js';
import { main } from '../../core/node/cli/main.js';
import { createHost, type ShadowdiskHost } from '../../core/node/index.js';
import type { RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';
import { sparseImage, tempDir, tempStateDir } from '../helpers/index.js';
import { judgePartitions, makeDisk, MiB, type DiskSpec } from './backup-disk.js';

const SPEC: DiskSpec = { table: 'gpt', sizeMiB: 64, partitions: [{ number: 1, line: ',48MiB,L', fs: 'ext4' }] };

interface Report {
  operation: string;
  target: string;
  source: string;
  phase: string;
  percent: number;
  interruptedBy: { code: string } | null;
  rerun: string;
}

/** Runs a command and cancels it through its signal as soon as it reports having written data in `phase`. */
async function interruptMidWrite(host: ShadowdiskHost, id: string, positionals: string[], phase: string): Promise<unknown> {
  const controller = new AbortController();
  const run: Partial<RunContext> = {
    signal: controller.signal,
    progress: (update) => {
      if (update.phase === phase && update.done > 0) controller.abort(new ShadowError('ABORTED', 'Cancelled by the test mid-write'));
    },
  };
  return host.executeCommand(id, { positionals, options: { yes: true } }, run).catch((e: unknown) => e);
}

/** `shadowdisk image restore --status --json` through the CLI, as a user would ask after a crash. */
async function cliStatus(stateDir: string): Promise<{ code: number; interrupted: Report[]; text: string }> {
  const saved = process.env['SHADOWDISK_HOME'];
  process.env['SHADOWDISK_HOME'] = stateDir;
  try {
    const json = captureIo();
    const code = await main(['image', 'restore', '--status', '--json'], json);
    const text = captureIo();
    await main(['image', 'restore', '--status'], text);
    return { code, interrupted: (JSON.parse(json.out()) as { interrupted: Report[] }).interrupted, text: text.out() };
  } finally {
    if (saved === undefined) delete process.env['SHADOWDISK_HOME'];
    else process.env['SHADOWDISK_HOME'] = saved;
  }
}

describe('restore journal', () => {
  it('reports an image restore cancelled mid-write, refuses to back up the half-restored disk, and finishes it when run again', async () => {
    await using disk = await makeDisk(SPEC);
    await using state = await tempStateDir();
    await using scratch = await tempDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    const file = join(scratch.path, 'disk.sdimg');
    // Small chunks, so the restore writes in several steps and can be stopped between them.
    await host.executeCommand('shadowdisk.backup.image-backup', { positionals: [disk.path, file], options: { 'chunk-mib': '1' } });
    await using target = await sparseImage(SPEC.sizeMiB * MiB);

    expect(await interruptMidWrite(host, 'shadowdisk.backup.image-restore', [file, target.path], 'restore')).toMatchObject({ code: 'ABORTED' });
    const status = await cliStatus(state.path);
    expect(status.code).toBe(0);
    expect(status.interrupted).toHaveLength(1);
    const report = status.interrupted[0]!;
    expect(report).toMatchObject({ operation: 'image restore', target: target.path, source: file, phase: 'restore', interruptedBy: { code: 'ABORTED' } });
    expect(report.percent).toBeGreaterThan(0);
    expect(report.percent).toBeLessThan(100);
    expect(status.text).toContain(`${target.path} holds an incomplete restore from the image ${file}`);
    expect(status.text).toContain(`Run 'shadowdisk image restore ${file} ${target.path} --yes' to finish it`);

    const backup = await host.executeCommand('shadowdisk.backup.image-backup', { positionals: [target.path, join(scratch.path, 'half.sdimg')] }).catch((e: unknown) => e);
    expect(backup).toMatchObject({ code: 'RECOVERY_NEEDED', message: expect.stringContaining(`Cannot back up ${target.path}`) });

    const rerun = await host.executeCommand('shadowdisk.backup.image-restore', { positionals: [file, target.path], options: { yes: true } });
    expect(rerun.data).toMatchObject({ interruptedBefore: { target: target.path, source: file } });
    expect(rerun.text).toContain(`this finished the restore interrupted at ${report.percent}%`);
    expect((await cliStatus(state.path)).interrupted).toEqual([]);
    await judgePartitions(SPEC, disk.path, target.path);
  }, 60_000);

  it('reports a disk copy cancelled mid-write before the next copy, which finishes it', async () => {
    await using disk = await makeDisk(SPEC);
    await using state = await tempStateDir();
    await using host = await createHost({ stateDir: state.path, logSink: () => undefined });
    await using target = await sparseImage(SPEC.sizeMiB * MiB);

    expect(await interruptMidWrite(host, 'shadowdisk.backup.disk-copy', [disk.path, target.path], 'copy')).toMatchObject({ code: 'ABORTED' });
    const [report] = (await cliStatus(state.path)).interrupted;
    expect(report).toMatchObject({ operation: 'disk copy', target: target.path, source: disk.path, phase: 'copy', rerun: `shadowdisk disk copy ${disk.path} ${target.path} --yes` });

    const warnings: string[] = [];
    const rerun = await host.executeCommand('shadowdisk.backup.disk-copy', { positionals: [disk.path, target.path], options: { yes: true } }, {
      log: { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    });
    expect(warnings).toEqual([`${target.path} held an incomplete copy of ${disk.path} (interrupted at ${report!.percent}%); this run finishes it`]);
    expect(rerun.data).toMatchObject({ interruptedBefore: { operation: 'disk copy', target: target.path } });
    expect((await cliStatus(state.path)).interrupted).toEqual([]);
    await judgePartitions(SPEC, disk.path, target.path);
  }, 60_000);
});
