// `shadowdisk daemon install`: the systemd unit that runs the daemon at boot (written, enabled by the administrator).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShadowError } from '../../sdk/index.js';

export const UNIT_NAME = 'shadowdisk-scheduler.service';

export interface UnitOptions {
  /** The Node binary (Node 24) and the launcher script. */
  nodePath: string;
  /** The CLI reference (docs/cli.md). */
  docsPath: string;
  launcher: string;
  stateDir: string;
}

export function systemdUnit(o: UnitOptions): string {
  return [
    '[Unit]',
    'Description=Shadowdisk scheduler: scheduled backups, verifies and retention',
    `Documentation=file://${o.docsPath}`,
    'After=local-fs.target network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `Environment=SHADOWDISK_HOME=${o.stateDir}`,
    `ExecStart=${o.nodePath} ${o.launcher} daemon`,
    // SIGTERM makes the daemon record in-flight runs as interrupted and leave; give a backup time to stop cleanly.
    'KillMode=mixed',
    'TimeoutStopSec=120',
    'Restart=on-failure',
    'RestartSec=10',
    'User=root',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function installUnit(unitDir: string, options: UnitOptions, force: boolean): { path: string; unit: string } {
  const path = join(unitDir, UNIT_NAME);
  if (existsSync(path) && !force) throw new ShadowError('INVALID_ARGUMENT', `'${path}' already exists; add --force to replace it`);
  const unit = systemdUnit(options);
  mkdirSync(unitDir, { recursive: true });
  writeFileSync(path, unit, { mode: 0o644 });
  return { path, unit };
}
