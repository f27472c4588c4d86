// `hot attach|detach|status`: put a volume behind a hotcore engine (FUSE file + direct-I/O loop device), take it away
// in the notes' cleanup order (loop device, then engine and FUSE mount), and report what each engine says.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { attachLoop, detachLoop } from '../../native/index.js';
import type { CommandArgs, CommandResult, PluginContext } from '../../sdk/index.js';
import { formatBytes, renderTable, ShadowError } from '../../sdk/index.js';
import { Attachments, type Attachment } from './attachments.js';
import { EngineClient, type EngineStatus, type EngineTransport } from './engine-client.js';
import { abortFuseConnection, isRunning, lastLogLines, startEngine, unmountOrphanedMount, waitForExit } from './engine-process.js';
import { isHeldExclusively, loopBacks, mountpointsOf } from './device-use.js';
import { positional } from './command-args.js';
import { detachSnapshotDevice } from './snapshot-commands.js';
import { currentBootId, DEFAULT_UNIT_DIR, installBootUnit, removeBootUnit } from './boot-unit.js';
import { packageRoot } from '../../core/node/index.js';

function originOf(path: string): { origin: string; sizeBytes: number; dev: number } {
  const origin = resolve(path);
  let st;
  try {
    st = statSync(origin);
  } catch {
    throw new ShadowError('NOT_FOUND', `Cannot attach '${path}': it does not exist; give a block device or an image file`);
  }
  if (st.isBlockDevice()) {
    if (isHeldExclusively(origin)) {
      const where = mountpointsOf(origin);
      throw new ShadowError('TARGET_BUSY', `Cannot attach '${origin}': it is ${where.length ? `mounted on ${where.join(', ')}` : 'in use'}; unmount it first, attach it, then mount the device 'hot attach' prints`);
    }
    return { origin, sizeBytes: 0, dev: st.rdev };
  }
  if (st.isFile()) {
    if (st.size === 0) throw new ShadowError('INVALID_ARGUMENT', `Cannot attach '${origin}': the file is empty`);
    return { origin, sizeBytes: st.size, dev: st.dev };
  }
  throw new ShadowError('INVALID_ARGUMENT', `Cannot attach '${origin}': expected a block device or an image file, got ${st.isDirectory() ? 'a folder' : 'another kind of file'}`);
}

/** The diff store must exist and lie on another filesystem: a snapshot of a volume must not grow inside that volume. */
function diffDirOf(args: CommandArgs, originDev: number): string {
  const value = args.options['diff-dir'];
  if (typeof value !== 'string' || value === '') throw new ShadowError('INVALID_ARGUMENT', 'Missing --diff-dir DIR: a folder on another filesystem for snapshot diff stores');
  const dir = resolve(value);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new ShadowError('NOT_FOUND', `The diff-store folder '${dir}' does not exist; create it on a filesystem other than the volume's`);
  }
  if (!st.isDirectory()) throw new ShadowError('INVALID_ARGUMENT', `--diff-dir '${dir}' is not a folder`);
  if (st.dev === originDev) throw new ShadowError('INVALID_ARGUMENT', `--diff-dir '${dir}' lies on the same filesystem as the volume; choose a folder on another filesystem`);
  return dir;
}

function diffLimit(args: CommandArgs): number | undefined {
  const value = args.options['diff-limit-mib'];
  if (value === undefined) return undefined;
  const mib = Number(value);
  if (!Number.isInteger(mib) || mib < 1) throw new ShadowError('INVALID_ARGUMENT', `--diff-limit-mib must be a whole number of MiB of at least 1, got '${String(value)}'`);
  return mib * 1024 * 1024;
}

function cowChunkOf(args: CommandArgs): number | undefined {
  const value = args.options['cow-chunk-kib'];
  if (value === undefined) return undefined;
  const kib = Number(value);
  if (![4, 8, 16, 32, 64, 128, 256].includes(kib)) throw new ShadowError('INVALID_ARGUMENT', `--cow-chunk-kib must be a power of two from 4 to 256 (KiB copied at a block's first write), got '${String(value)}'`);
  return kib;
}

function watchdogOf(args: CommandArgs): number | undefined {
  const value = args.options['watchdog'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 86400) throw new ShadowError('INVALID_ARGUMENT', `--watchdog must be a whole number of seconds from 0 (none) to 86400, got '${String(value)}'`);
  return seconds;
}

function transportOf(args: CommandArgs): EngineTransport | undefined {
  const value = args.options['transport'];
  if (value === undefined) return undefined;
  if (value !== 'auto' && value !== 'dev-fuse') throw new ShadowError('INVALID_ARGUMENT', `--transport must be 'auto' (FUSE over io_uring where the kernel offers it) or 'dev-fuse', got '${String(value)}'`);
  return value;
}

/** The `hot attach` options a boot unit repeats. */
function repeatedOptions(args: CommandArgs, diffDir: string): string[] {
  const out = ['--diff-dir', diffDir];
  for (const name of ['diff-limit-mib', 'cow-chunk-kib', 'transport', 'watchdog'] as const) if (args.options[name] !== undefined) out.push(`--${name}`, String(args.options[name]));
  return out;
}

export async function attach(ctx: PluginContext, attachments: Attachments, args: CommandArgs): Promise<CommandResult> {
  const { origin, dev } = originOf(positional(args, 0, 'the device or image file to attach'));
  const diffDir = diffDirOf(args, dev);
  const limit = diffLimit(args);
  const transport = transportOf(args);
  const watchdogSec = watchdogOf(args);
  const cowChunkKib = cowChunkOf(args);
  const bootId = currentBootId();
  const stale = attachments.byOrigin(origin);
  // A record from before a reboot: its loop devices, FUSE mount and engine are gone; clear what is left of it.
  if (stale !== undefined && stale.bootId !== undefined && stale.bootId !== bootId) {
    ctx.log.info(`Dropping the attachment of '${origin}' left from an earlier boot (${stale.device})`);
    await detach(attachments, { positionals: [origin], options: { 'keep-at-boot': true } });
  }
  const existing = attachments.byOrigin(origin);
  if (existing !== undefined) throw new ShadowError('TARGET_BUSY', `'${origin}' is attached already as ${existing.device}; mount that device, or 'hot detach ${existing.device}' first`);
  const engineDir = attachments.engineDirFor(origin);
  mkdirSync(engineDir, { recursive: true, mode: 0o700 });
  const engine = await startEngine({
    origin, engineDir, controlPath: attachments.controlPathFor(engineDir), changedBlocksFile: attachments.changedBlocksFileFor(origin), diffDir,
    ...(limit !== undefined ? { diffLimitBytes: limit } : {}), ...(transport !== undefined ? { transport } : {}), ...(watchdogSec !== undefined ? { watchdogSec } : {}),
    ...(cowChunkKib !== undefined ? { cowChunkKib } : {}),
  });
  let device: string;
  try {
    device = attachLoop(`${engine.mountDir}/volume`, { directIo: true });
  } catch (error) {
    await engine.client.shutdown().catch(() => undefined);
    throw ShadowError.from(error, 'IO_ERROR');
  }
  const attachment: Attachment = {
    origin, device, sizeBytes: engine.status.sizeBytes, engineDir, mountDir: engine.mountDir, controlPath: engine.controlPath,
    logPath: engine.logPath, diffDir, pid: engine.pid, attachedAt: new Date().toISOString(), bootId,
  };
  const unitDir = args.options['unit-dir'];
  if (args.options['at-boot'] === true) {
    // The unit runs this same command (so the attachment knows its unit after each boot); rewriting it is idempotent.
    const root = packageRoot();
    const dir = typeof unitDir === 'string' ? resolve(unitDir) : DEFAULT_UNIT_DIR;
    attachment.bootUnit = installBootUnit(dir, {
      origin, attachArgs: [...repeatedOptions(args, diffDir), '--at-boot', '--unit-dir', dir], nodePath: process.execPath, launcher: join(root, 'bin', 'shadowdisk.js'),
      docsPath: join(root, 'docs', 'cli.md'), stateDir: ctx.stateDir,
    });
  }
  attachments.save(attachment);
  const atBoot = attachment.bootUnit ? `; attached again at every boot by ${attachment.bootUnit} (enable it: systemctl enable ${attachment.bootUnit.split('/').pop()})` : '';
  return { data: attachment, text: `${origin} is attached: mount ${device} instead of ${origin} (engine pid ${engine.pid}, diff stores in ${diffDir})${atBoot}` };
}

/** Stops an attachment's engine; an engine that does not answer has its FUSE connection aborted and is killed. */
async function stopEngine(attachment: Attachment): Promise<void> {
  const client = new EngineClient(attachment.controlPath);
  for (let attempt = 0; isRunning(attachment.pid); attempt++) {
    try {
      await client.shutdown();
      break;
    } catch (error) {
      // The kernel lets go of the FUSE file a moment after LOOP_CLR_FD.
      if (ShadowError.from(error).code === 'TARGET_BUSY' && attempt < 50) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      abortFuseConnection(attachment.mountDir);
      if (isRunning(attachment.pid)) process.kill(attachment.pid, 'SIGKILL');
      break;
    }
  }
  if (!(await waitForExit(attachment.pid, 5000))) throw new ShadowError('TIMEOUT', `The hotcore engine ${attachment.pid} for '${attachment.origin}' did not stop: ${lastLogLines(attachment.logPath)}`);
}

export async function detach(attachments: Attachments, args: CommandArgs): Promise<CommandResult> {
  const attachment = attachments.find(positional(args, 0, 'the attached device'));
  // Only devices still ours count: after a reboot the recorded loop numbers may belong to someone else.
  const ours = [[attachment.snapshot?.device, 'snapshot'], [attachment.device, 'volume']] as const;
  for (const [device, file] of ours) {
    if (device !== undefined && loopBacks(device, `${attachment.mountDir}/${file}`) && isHeldExclusively(device)) {
      const where = mountpointsOf(device);
      throw new ShadowError('TARGET_BUSY', `Cannot detach '${attachment.origin}': ${device} is ${where.length ? `mounted on ${where.join(', ')}` : 'in use'}; unmount it first`);
    }
  }
  if (attachment.snapshot !== undefined) await detachSnapshotDevice(attachment);
  if (loopBacks(attachment.device, `${attachment.mountDir}/volume`)) detachLoop(attachment.device);
  await stopEngine(attachment);
  // A killed engine leaves its FUSE folder mounted: lift it before removing the folder, never remove through a mount.
  if (!unmountOrphanedMount(attachment.mountDir)) {
    throw new ShadowError('TARGET_BUSY', `Cannot detach '${attachment.origin}': the engine's folder '${attachment.mountDir}' is still mounted and will not unmount`);
  }
  rmSync(attachment.engineDir, { recursive: true, force: true });
  attachments.remove(attachment);
  // At shutdown the boot unit detaches with --keep-at-boot; a detach by hand means the volume is not wanted at boot.
  const unitRemoved = attachment.bootUnit !== undefined && args.options['keep-at-boot'] !== true && removeBootUnit(attachment.bootUnit, attachment.origin);
  return {
    data: { origin: attachment.origin, device: attachment.device, ...(unitRemoved ? { bootUnitRemoved: attachment.bootUnit } : {}) },
    text: `${attachment.origin} is detached (${attachment.device} released)${unitRemoved ? `; ${attachment.bootUnit} removed (disable it: systemctl disable ${attachment.bootUnit!.split('/').pop()})` : ''}`,
  };
}

export interface AttachmentStatus extends Attachment {
  engine: EngineStatus | { error: string };
}

export async function status(attachments: Attachments, args: CommandArgs): Promise<CommandResult> {
  const list: AttachmentStatus[] = [];
  for (const a of attachments.list()) {
    const engine = await new EngineClient(a.controlPath).status(2000).catch((error: unknown) => ({ error: ShadowError.from(error).message }));
    list.push({ ...a, engine });
  }
  if (args.options['json'] === true) return { data: { attachments: list } };
  const rows = list.map((a) => {
    const e = a.engine;
    if ('error' in e) return [a.device, a.origin, 'engine unreachable', '', '', e.error, ''];
    const warning = e.snapshot.diffStoreWarningPercent ? ` (diff store ${e.snapshot.diffStoreWarningPercent}% full)` : '';
    const snap = e.snapshot.state === 'none' ? '-' : `${e.snapshot.state}${a.snapshot ? ` ${a.snapshot.device}` : ''}${e.snapshot.error ? ` (${e.snapshot.error.code})` : warning}`;
    return [a.device, a.origin, `gen ${e.generation}${e.changedBlocksTrusted ? '' : ' (incomplete)'}`, `${e.changedBlocks} blocks`, snap, formatBytes(e.diffStoreBytes), e.transport];
  });
  const text = list.length === 0 ? 'Nothing is attached' : renderTable(['Device', 'Origin', 'Generation', 'Changed', 'Snapshot', 'Diff store', 'Transport'], rows);
  return { data: { attachments: list }, text };
}

export function hotCommands(ctx: PluginContext) {
  const attachments = new Attachments(ctx.storagePath);
  return {
    attachments,
    attach: (args: CommandArgs) => attach(ctx, attachments, args),
    detach: (args: CommandArgs) => detach(attachments, args),
    status: (args: CommandArgs) => status(attachments, args),
  };
}
