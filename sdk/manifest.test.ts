import { describe, expect, it } from 'vitest';
import { isShadowError, ShadowError } from './errors.js';
import { formatJsonPath, parseManifest, pluginIdOf } from './manifest.js';

const valid = () => ({
  name: 'disk-tools',
  version: '1.2.3',
  engines: { shadowdisk: '^0.1.0' },
  shadowdisk: {
    publisher: 'acme',
    contributes: {
      commands: [{ id: 'acme.disk-tools.scan', title: 'Scan', cli: 'scan' }],
      taskTypes: [{ id: 'acme.disk-tools.nightly', title: 'Nightly scan', timeoutSec: 60 }],
      configuration: { properties: { 'diskTools.depth': { type: 'integer', default: 3 } } },
    },
  },
});

function problemOf(json: unknown): string {
  try {
    parseManifest(json, 'package.json');
  } catch (error) {
    expect(isShadowError(error, 'PLUGIN_MANIFEST_INVALID')).toBe(true);
    return (error as ShadowError).message;
  }
  throw new Error('expected the manifest to be refused');
}

describe('plugin manifest', () => {
  it('accepts a valid manifest and fills defaults', () => {
    const manifest = parseManifest(valid(), 'package.json');
    expect(pluginIdOf(manifest)).toBe('acme.disk-tools');
    expect(manifest.main).toBe('index.js');
    expect(manifest.shadowdisk.contributes.views).toEqual([]);
    expect(manifest.shadowdisk.contributes.taskTypes[0]?.concurrency).toBe('skip');
  });

  it('names the JSON path of a malformed command id', () => {
    const json = valid();
    json.shadowdisk.contributes.commands.push({ id: 'acme.disk-tools.ok', title: 'Ok', cli: 'ok' }, { id: 'Bad Id', title: 'Bad', cli: 'bad' });
    expect(problemOf(json)).toContain('shadowdisk.contributes.commands[2].id: must look like publisher.plugin.thing');
  });

  it('refuses an id that belongs to another plugin, and a duplicate', () => {
    const json = valid();
    json.shadowdisk.contributes.commands.push({ id: 'other.plugin.scan', title: 'Steal', cli: 'steal' }, { id: 'acme.disk-tools.scan', title: 'Again', cli: 'again' });
    const message = problemOf(json);
    expect(message).toContain("shadowdisk.contributes.commands[1].id: 'other.plugin.scan' must start with the plugin id 'acme.disk-tools.'");
    expect(message).toContain("shadowdisk.contributes.commands[2].id: 'acme.disk-tools.scan' is contributed twice");
  });

  it('refuses unknown contribution points and keys, naming them', () => {
    const json = valid() as ReturnType<typeof valid> & { shadowdisk: { contributes: Record<string, unknown> } };
    json.shadowdisk.contributes['menus'] = [];
    expect(problemOf(json)).toMatch(/shadowdisk\.contributes: Unrecognized key: "menus"/);
  });

  it('refuses a missing engines.shadowdisk and a bad version', () => {
    const json = { ...valid(), version: 'one', engines: {} };
    const message = problemOf(json);
    expect(message).toContain('version: must be a semver version');
    expect(message).toContain('engines.shadowdisk:');
  });

  it('formats paths the way people read JSON', () => {
    expect(formatJsonPath(['shadowdisk', 'contributes', 'commands', 2, 'id'])).toBe('shadowdisk.contributes.commands[2].id');
    expect(formatJsonPath([])).toBe('(root)');
  });
});
