// Puts one plugin's manifest contributions into the registries, all or nothing.
import { DisposableStore, type Contributes } from '../../sdk/index.js';
import { CONTRIBUTION_POINT_NAMES, type ContributionPointName, type ContributionPointTypes } from '../common/index.js';
import type { PluginRecord } from './plugin-record.js';

export type ContributionRegistries = { readonly [P in ContributionPointName]: ContributionPointTypes[P] };

export function declareContributions(record: PluginRecord, registries: ContributionRegistries): void {
  const contributes = record.manifest!.shadowdisk.contributes;
  const declared = new DisposableStore();
  try {
    for (const point of CONTRIBUTION_POINT_NAMES) {
      const keys: string[] = [];
      for (const [key, contribution] of entriesOf(contributes, point)) {
        declared.add((registries[point] as ContributionPointTypes['views']).declare(record.id, key, contribution as never));
        keys.push(key);
      }
      if (keys.length > 0) record.contributions[point] = keys;
    }
  } catch (error) {
    declared.dispose();
    for (const point of Object.keys(record.contributions)) delete record.contributions[point];
    throw error;
  }
}

/** Each point's contributions keyed the way its registry keys them. */
function entriesOf(contributes: Contributes, point: ContributionPointName): [string, unknown][] {
  switch (point) {
    case 'configuration':
      return Object.entries(contributes.configuration?.properties ?? {});
    case 'keybindings':
      return contributes.keybindings.map((k) => [`${k.key}:${k.command}`, k]);
    default:
      return contributes[point].map((c) => [c.id, c]);
  }
}
