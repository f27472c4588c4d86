import { describe, expect, it } from 'vitest';
import type { CommandInfo } from '../../../sdk/index.js';
import { matchCommand, parseCommandLine } from './command-line.js';
import { renderBar } from './progress-renderer.js';

const command = (id: string, cli: string): CommandInfo => ({ id, title: id, cli, pluginId: 'p.q' });

describe('command line', () => {
  it('keeps device paths after boolean flags as arguments', () => {
    expect(parseCommandLine(['disks', '--json', '/dev/sda'])).toEqual({ globals: { json: true, help: false, version: false }, words: ['disks', '/dev/sda'], options: { json: true } });
  });

  it('keeps the argument after a plugin flag that takes no value', () => {
    expect(parseCommandLine(['image', 'backup', '--hot', '/dev/loop3', 'a.img'])).toMatchObject({ words: ['image', 'backup', '/dev/loop3', 'a.img'], options: { hot: true } });
    expect(parseCommandLine(['disk', 'wipe', '--verify', '/dev/loop3']).options).toEqual({ verify: true });
    expect(parseCommandLine(['repo', 'forget', '--prune', 's3://b/p', 'abcd1234'])).toMatchObject({ words: ['repo', 'forget', 's3://b/p', 'abcd1234'], options: { prune: true } });
    expect(parseCommandLine(['repo', 'list', '--passphrase-file=-odd', '--', '-url'])).toMatchObject({ words: ['repo', 'list', '-url'], options: { 'passphrase-file': '-odd' } });
  });

  it('reads --name value, --name=value and stops at --', () => {
    expect(parseCommandLine(['demo', '--size-mib', '64', '--label=a=b', '--', '--not-an-option']).options).toEqual({ 'size-mib': '64', label: 'a=b' });
    expect(parseCommandLine(['x', '--', '--y']).words).toEqual(['x', '--y']);
  });

  it('matches the longest CLI verb', () => {
    const commands = [command('a.b.hot', 'hot'), command('a.b.attach', 'hot attach'), command('a.b.disks', 'disks')];
    expect(matchCommand(commands, parseCommandLine(['hot', 'attach', '/dev/sdb']))).toMatchObject({ command: { id: 'a.b.attach' }, args: { positionals: ['/dev/sdb'] } });
    expect(matchCommand(commands, parseCommandLine(['hot']))?.command.id).toBe('a.b.hot');
    expect(matchCommand(commands, parseCommandLine(['cold']))).toBeUndefined();
  });

  it('draws a progress bar with percentage, rate and ETA', () => {
    expect(renderBar({ phase: 'read', done: 512 * 1024 * 1024, total: 1024 * 1024 * 1024, bytesPerSec: 100 * 1024 * 1024, etaSec: 5.2 }, 100)).toBe(
      'read [####################....................]  50%  512 MiB/1.00 GiB  100 MiB/s  ETA 0:05',
    );
  });
});
