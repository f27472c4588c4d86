// The contribution points: one inversify symbol each, bound to that point's registry.
import type {
  CommandContribution, CommandHandler, ConfigurationContribution, FilesystemHandler, KeybindingContribution, TaskRunner, TaskTypeContribution, ViewContribution,
} from '../../sdk/index.js';
import { ContributionRegistry } from './contribution-registry.js';

export interface ProviderContribution {
  id: string;
  title: string;
}

type SettingContribution = ConfigurationContribution['properties'][string];

/** Registry types per point: [declaration, implementation]. */
export interface ContributionPointTypes {
  commands: ContributionRegistry<CommandContribution, CommandHandler>;
  keybindings: ContributionRegistry<KeybindingContribution>;
  views: ContributionRegistry<ViewContribution>;
  configuration: ContributionRegistry<SettingContribution>;
  taskTypes: ContributionRegistry<TaskTypeContribution, TaskRunner>;
  filesystems: ContributionRegistry<ProviderContribution & { types: string[] }, FilesystemHandler>;
  snapshotProviders: ContributionRegistry<ProviderContribution, object>;
  writers: ContributionRegistry<ProviderContribution, object>;
  imageFormats: ContributionRegistry<ProviderContribution & { extensions: string[] }, object>;
  repositories: ContributionRegistry<ProviderContribution & { schemes: string[] }, object>;
}

export type ContributionPointName = keyof ContributionPointTypes;

export const CONTRIBUTION_POINT_NAMES: readonly ContributionPointName[] = Object.freeze([
  'commands', 'keybindings', 'views', 'configuration', 'taskTypes', 'filesystems', 'snapshotProviders', 'writers', 'imageFormats', 'repositories',
]);

/** The inversify service identifier of each point's registry. */
export const ContributionPoint: Readonly<{ [P in ContributionPointName]: symbol }> = Object.freeze(
  Object.fromEntries(CONTRIBUTION_POINT_NAMES.map((name) => [name, Symbol.for(`shadowdisk.contribution.${name}`)])) as { [P in ContributionPointName]: symbol },
);

export function createContributionRegistry<P extends ContributionPointName>(point: P): ContributionPointTypes[P] {
  return new ContributionRegistry(point) as ContributionPointTypes[P];
}
