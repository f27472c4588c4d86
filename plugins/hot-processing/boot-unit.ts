// `hot attach --at-boot`: a systemd unit per origin that attaches it again at every boot (HOTCORE is installed once and
// stays) and detaches it at shutdown with the engine stopping cleanly, so the changed-block map comes back trusted and
// the first backup after a reboot is still incremental. The unit is written, not enabled: systemd does not run here.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ShadowError } from '../../sdk/index.js';

export const DEFAULT_UNIT_DIR = '/etc/systemd/system';

export interface BootUnitOptions {
  origin: string;
  /** `hot attach` options to repeat at boot (--diff-dir and the rest), as CLI arguments. */
  attachArgs: string[];
  nodePath: string;
  launcher: string;
  docsPath: string;
  stateDir: string;
}

export function bootUnitName(origin: string): string {
  const tag = createHash('sha256').update(origin).digest('hex').slice(0, 10);
  return `shadowdisk-hot-${basename(origin).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 24)}-${tag}.service`;
}

/** One ExecStart/ExecStop word, quoted for systemd (which also expands % specifiers). */
function word(value: string): string {
  return /^[A-Za-z0-9/._=:,@+-]+$/.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`.replace(/%/g, '%%');
}

export function bootUnit(o: BootUnitOptions): string {
  const cli = (...args: string[]) => [o.nodePath, o.launcher, ...args].map(word).join(' ');
  const diffDir = o.attachArgs[o.attachArgs.indexOf('--diff-dir') + 1];
  // A block-device origin waits for its device unit; an image file for the filesystem it lives on.
  const originDependency = statSync(o.origin, { throwIfNoEntry: false })?.isBlockDevice()
    ? [`BindsTo=${devUnit(o.origin)}`, `After=${devUnit(o.origin)}`]
    : [`RequiresMountsFor=${word(dirname(o.origin))}`];
  return [
    '[Unit]',
    `Description=Shadowdisk hot processing for ${o.origin}`,
    `Documentation=file://${o.docsPath}`,
    'DefaultDependencies=no',
    'After=local-fs-pre.target systemd-udev-settle.service',
    ...originDependency,
    ...(diffDir ? [`RequiresMountsFor=${word(diffDir)}`] : []),
    'Before=shutdown.target',
    'Conflicts=shutdown.target',
    '',
    '[Service]',
    'Type=oneshot',
    // The engine `hot attach` starts stays in this unit's control group until ExecStop has detached it.
    'RemainAfterExit=yes',
    `Environment=SHADOWDISK_HOME=${word(o.stateDir)}`,
    `ExecStart=${cli('hot', 'attach', o.origin, ...o.attachArgs)}`,
    `ExecStop=${cli('hot', 'detach', o.origin, '--keep-at-boot')}`,
    'TimeoutStopSec=120',
    '',
    '[Install]',
    'WantedBy=local-fs.target',
    '',
  ].join('\n');
}

/** systemd's device unit for a block device path: /dev/sdb1 -> dev-sdb1.device. */
function devUnit(device: string): string {
  const escaped = device.replace(/^\//, '').split('/').map((part) => part.replace(/-/g, '\\x2d')).join('-');
  return `${escaped}.device`;
}

export function installBootUnit(unitDir: string, options: BootUnitOptions): string {
  const path = join(unitDir, bootUnitName(options.origin));
  mkdirSync(unitDir, { recursive: true });
  writeFileSync(path, bootUnit(options), { mode: 0o644 });
  return path;
}

/** Removes a unit this plugin wrote (it names the origin); leaves any other file alone. */
export function removeBootUnit(path: string, origin: string): boolean {
  if (!existsSync(path)) return false;
  if (!readFileSync(path, 'utf8').includes(`Description=Shadowdisk hot processing for ${origin}\n`)) {
    throw new ShadowError('INVALID_ARGUMENT', `'${path}' is not the boot unit of '${origin}'; left alone`);
  }
  rmSync(path);
  return true;
}

/** This boot's id: an attachment recorded under another one is gone (loop devices and FUSE mounts do not survive). */
export function currentBootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}
