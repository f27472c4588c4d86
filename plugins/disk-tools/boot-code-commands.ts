// `disk boot-code show|install|restore <disk>`: the bootstrap code in bytes 0-439 of sector 0. Writes touch only those
// bytes (the disk signature, the table and 0x55AA are read back unchanged) and save the old code in the state
// directory first. A mounted disk is allowed, as with grub-install: no partition's data is in those bytes.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { CommandArgs, CommandResult, PluginContext, RunContext } from '../../sdk/index.js';
import { ShadowError } from '../../sdk/index.js';
import { BootCodeStore, type BootCodeBackup } from './boot-code-store.js';
import { positional } from './command-args.js';
import { BOOT_CODE_BYTES, shadowdiskBootCode } from './mbr-bootstrap.js';
import { resolveTarget, type TargetDevice } from './target-device.js';

/** What the code area holds, by the strings well-known loaders carry. */
function identify(code: Uint8Array): string {
  if (code.every((b) => b === 0)) return 'empty';
  if (Buffer.from(code).equals(Buffer.from(shadowdiskBootCode()))) return 'shadowdisk';
  const text = Buffer.from(code).toString('latin1');
  if (text.includes('GRUB')) return 'grub';
  if (text.includes('Invalid partition table')) return 'windows';
  if (text.includes('SYSLINUX') || text.includes('Missing OS')) return 'syslinux';
  return 'unknown';
}

async function readSector0(target: TargetDevice): Promise<Buffer> {
  const handle = await open(target.path, 'r');
  try {
    const sector = Buffer.alloc(512);
    await handle.read(sector, 0, 512, 0);
    return sector;
  } finally {
    await handle.close();
  }
}

async function diskTarget(ctx: PluginContext, args: CommandArgs): Promise<{ target: TargetDevice; sector: Buffer }> {
  const target = await resolveTarget(ctx, positional(args, 0, 'the disk'));
  if (target.kind === 'partition') throw new ShadowError('INVALID_ARGUMENT', `${target.path} is a partition; boot code lives in sector 0 of its disk ${target.diskPath}`);
  const sector = await readSector0(target);
  return { target, sector };
}

function describe(target: TargetDevice, sector: Buffer, store: BootCodeStore) {
  const code = sector.subarray(0, BOOT_CODE_BYTES);
  const hasSignature = sector[510] === 0x55 && sector[511] === 0xaa;
  const entries = [0, 1, 2, 3].map((i) => sector.subarray(446 + 16 * i, 462 + 16 * i));
  const protective = hasSignature && entries.some((e) => e[4] === 0xee);
  const diskSignature = sector.subarray(440, 444).toString('hex');
  return {
    disk: target.path, sizeBytes: target.sizeBytes, code: identify(code), sha256: createHash('sha256').update(code).digest('hex'),
    table: !hasSignature ? 'none' : protective ? 'gpt (protective MBR)' : 'mbr', diskSignature,
    activePartitions: entries.flatMap((e, i) => (e[0] === 0x80 ? [i + 1] : [])),
    backups: store.list(target.path, target.sizeBytes, diskSignature).map(({ path, backup }) => ({ path, reason: backup.reason, savedAt: backup.savedAt, sha256: backup.sha256 })),
  };
}

/** Writes 440 bytes at 0, flushes, and checks that bytes 440-511 read back as they were. */
async function writeCode(target: TargetDevice, code: Uint8Array, before: Buffer): Promise<void> {
  const handle = await open(target.path, 'r+');
  try {
    await handle.write(code, 0, BOOT_CODE_BYTES, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  const after = await readSector0(target);
  if (!after.subarray(BOOT_CODE_BYTES).equals(before.subarray(BOOT_CODE_BYTES)) || !after.subarray(0, BOOT_CODE_BYTES).equals(Buffer.from(code))) {
    throw new ShadowError('IO_ERROR', `Sector 0 of ${target.path} did not read back as written; the saved boot code is in the state directory ('disk boot-code show ${target.path}' lists it)`);
  }
}

async function confirmed(args: CommandArgs, run: RunContext, question: string, refusal: string): Promise<void> {
  if (args.options['yes'] !== true && !(await run.confirm?.(question))) throw new ShadowError('ABORTED', refusal);
}

export function bootCodeCommands(ctx: PluginContext) {
  const store = new BootCodeStore(ctx.storagePath);
  return {
    async show(args: CommandArgs): Promise<CommandResult> {
      const { target, sector } = await diskTarget(ctx, args);
      const shown = describe(target, sector, store);
      return {
        data: shown,
        text: [`${shown.disk}: boot code ${shown.code} (SHA-256 ${shown.sha256.slice(0, 16)}...), table ${shown.table}, active partition ${shown.activePartitions.join(', ') || 'none'}`,
          ...shown.backups.map((b) => `  saved ${b.savedAt} (${b.reason}): ${b.path}`)].join('\n'),
      };
    },

    async install(args: CommandArgs, run: RunContext): Promise<CommandResult> {
      const { target, sector } = await diskTarget(ctx, args);
      const shown = describe(target, sector, store);
      if (shown.table === 'none') throw new ShadowError('INVALID_ARGUMENT', `${target.path} has no MBR (no 55 AA at byte 510); create a partition table first ('part create-table ${target.path} mbr'). Nothing was written`);
      const warning = shown.table === 'mbr' && shown.activePartitions.length === 0 ? `no partition of ${target.path} is active: the code will print 'no active partition' until one is ('part set ${target.path} N flag boot on')` : shown.table !== 'mbr' ? `${target.path} has a GPT: BIOSes boot it only through an active protective entry` : null;
      if (args.options['dry-run'] === true) {
        return { data: { ...shown, dryRun: true, warning }, text: [`Dry run: would replace the ${shown.code} boot code of ${target.path} with Shadowdisk's (bytes 0-439, the table untouched); nothing was written`, ...(warning ? [`Note: ${warning}`] : [])].join('\n') };
      }
      await confirmed(args, run, `Replace the boot code of ${target.path}?`, `Not installed: confirm with --yes (or answer yes on a terminal) to write the boot code of ${target.path}`);
      const saved = store.save({ disk: target.path, sizeBytes: target.sizeBytes, diskSignature: shown.diskSignature, reason: 'before-install', codeHex: sector.subarray(0, BOOT_CODE_BYTES).toString('hex') });
      await writeCode(target, shadowdiskBootCode(), sector);
      return {
        data: { ...describe(target, await readSector0(target), store), dryRun: false, previous: shown.code, backup: saved.path, warning },
        text: [`Installed Shadowdisk's boot code on ${target.path} (the ${shown.code} code was saved to ${saved.path})`, ...(warning ? [`Note: ${warning}`] : [])].join('\n'),
      };
    },

    async restore(args: CommandArgs, run: RunContext): Promise<CommandResult> {
      const { target, sector } = await diskTarget(ctx, args);
      const shown = describe(target, sector, store);
      const from = args.options['from'];
      let chosen: { path: string; backup: BootCodeBackup } | undefined;
      if (typeof from === 'string') chosen = { path: from, backup: BootCodeStore.read(from) };
      else {
        const latest = store.list(target.path, target.sizeBytes, shown.diskSignature).filter((b) => b.backup.reason === 'before-install').at(-1);
        chosen = latest && { path: latest.path, backup: BootCodeStore.read(latest.path) };
      }
      if (!chosen) throw new ShadowError('NOT_FOUND', `No saved boot code for ${target.path} (size ${target.sizeBytes}, disk signature ${shown.diskSignature}); give one with --from FILE`);
      await confirmed(args, run, `Write the boot code saved at ${chosen.backup.savedAt} back to ${target.path}?`, `Not restored: confirm with --yes (or answer yes on a terminal)`);
      const saved = store.save({ disk: target.path, sizeBytes: target.sizeBytes, diskSignature: shown.diskSignature, reason: 'before-restore', codeHex: sector.subarray(0, BOOT_CODE_BYTES).toString('hex') });
      await writeCode(target, Buffer.from(chosen.backup.codeHex, 'hex'), sector);
      return {
        data: { ...describe(target, await readSector0(target), store), restoredFrom: chosen.path, backup: saved.path },
        text: `Restored the boot code of ${target.path} from ${chosen.path} (what it replaced was saved to ${saved.path})`,
      };
    },
  };
}
