// The plugin manifest (the package.json of a plugin): its zod schema, and errors that name the JSON path and the problem.
import { z } from 'zod';
import { ShadowError } from './errors.js';

const segment = '[a-z0-9]+(?:-[a-z0-9]+)*';
/** `publisher.name.thing`, each part lower-case kebab; the thing may have more dotted parts. */
export const CONTRIBUTION_ID = new RegExp(`^${segment}\\.${segment}(?:\\.${segment})+$`);
const PUBLISHER = new RegExp(`^${segment}$`);

const contributionId = z.string().regex(CONTRIBUTION_ID, 'must look like publisher.plugin.thing (lower-case, dot-separated)');
const title = z.string().min(1, 'must not be empty');

export const commandContributionSchema = z.strictObject({
  id: contributionId,
  title,
  category: z.string().optional(),
  description: z.string().optional(),
  /** When-clause deciding whether the command can run now (the UI greys it out otherwise). */
  enablement: z.string().optional(),
  /** The CLI verb(s): "disks" runs as `shadowdisk disks`, "hot attach" as `shadowdisk hot attach`. */
  cli: z.string().regex(/^[a-z][a-z0-9-]*( [a-z][a-z0-9-]*)*$/, 'must be lower-case words separated by single spaces').optional(),
  /** Arguments shown in help: `<device>` is required, `[path]` optional. */
  usage: z.string().optional(),
});

export const keybindingContributionSchema = z.strictObject({
  command: contributionId,
  key: z.string().min(1),
  when: z.string().optional(),
});

export const viewContributionSchema = z.strictObject({
  id: contributionId,
  title,
  kind: z.enum(['tree', 'table', 'form']),
  /** The command whose result feeds the view. */
  dataCommand: contributionId.optional(),
});

const jsonSchemaProperty = z.looseObject({
  type: z.enum(['string', 'number', 'integer', 'boolean', 'array', 'object']),
  default: z.unknown().optional(),
  description: z.string().optional(),
});

export const configurationContributionSchema = z.strictObject({
  title: z.string().optional(),
  properties: z.record(z.string().regex(/^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/, 'must be a dotted setting key like plugin.settingName'), jsonSchemaProperty),
});

export const taskTypeContributionSchema = z.strictObject({
  id: contributionId,
  title,
  paramsSchema: z.record(z.string(), z.unknown()).optional(),
  timeoutSec: z.number().int().positive().optional(),
  concurrency: z.enum(['skip', 'queue']).default('skip'),
});

const providerContributionSchema = z.strictObject({ id: contributionId, title });
export const filesystemContributionSchema = z.strictObject({ id: contributionId, title, types: z.array(z.string().min(1)).min(1) });
export const imageFormatContributionSchema = z.strictObject({ id: contributionId, title, extensions: z.array(z.string().regex(/^\.[a-z0-9.]+$/)).default([]) });
export const repositoryContributionSchema = z.strictObject({ id: contributionId, title, schemes: z.array(z.string().regex(/^[a-z][a-z0-9+.-]*$/)).min(1) });

export const contributesSchema = z.strictObject({
  commands: z.array(commandContributionSchema).default([]),
  keybindings: z.array(keybindingContributionSchema).default([]),
  views: z.array(viewContributionSchema).default([]),
  configuration: configurationContributionSchema.optional(),
  taskTypes: z.array(taskTypeContributionSchema).default([]),
  filesystems: z.array(filesystemContributionSchema).default([]),
  snapshotProviders: z.array(providerContributionSchema).default([]),
  writers: z.array(providerContributionSchema).default([]),
  imageFormats: z.array(imageFormatContributionSchema).default([]),
  repositories: z.array(repositoryContributionSchema).default([]),
});

/** `native` allows .node addons and marks the plugin full-trust; isolated plugins with block-devices, mount or native run as root. */
export const PERMISSIONS = ['block-devices', 'mount', 'freeze', 'network', 'state', 'processes', 'native'] as const;

export const manifestSchema = z.looseObject({
  name: z.string().regex(/^(@[a-z0-9-]+\/)?[a-z0-9-]+$/, 'must be an npm package name'),
  version: z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'must be a semver version like 1.2.3'),
  main: z.string().min(1).default('index.js'),
  engines: z.looseObject({ shadowdisk: z.string().min(1, 'must be a semver range like ^0.1.0') }),
  shadowdisk: z.strictObject({
    publisher: z.string().regex(PUBLISHER, 'must be lower-case kebab like acme-tools'),
    displayName: z.string().optional(),
    description: z.string().optional(),
    permissions: z.array(z.enum(PERMISSIONS)).default([]),
    /** Opts in to `@shadowdisk/sdk/unstable`, which may change in any release. */
    unstableApi: z.boolean().default(false),
    contributes: contributesSchema.default(() => contributesSchema.parse({})),
  }),
});

export type PluginManifest = z.output<typeof manifestSchema>;
export type Contributes = PluginManifest['shadowdisk']['contributes'];
export type CommandContribution = z.output<typeof commandContributionSchema>;
export type TaskTypeContribution = z.output<typeof taskTypeContributionSchema>;
export type ViewContribution = z.output<typeof viewContributionSchema>;
export type KeybindingContribution = z.output<typeof keybindingContributionSchema>;
export type ConfigurationContribution = z.output<typeof configurationContributionSchema>;

/** `contributes.commands[2].id` from a zod issue path. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out || '(root)';
}

export interface ManifestProblem {
  path: string;
  message: string;
}

/** The plugin id, `publisher.name`, from a package name without its scope and the publisher. */
export function pluginIdOf(manifest: PluginManifest): string {
  return `${manifest.shadowdisk.publisher}.${manifest.name.replace(/^@[^/]+\//, '')}`;
}

/** Validates a parsed package.json; throws PLUGIN_MANIFEST_INVALID listing every problem as `path: message`. */
export function parseManifest(json: unknown, source: string): PluginManifest {
  const result = manifestSchema.safeParse(json);
  const problems: ManifestProblem[] = result.success ? [] : result.error.issues.map((i) => ({ path: formatJsonPath(i.path), message: i.message }));
  if (result.success) problems.push(...crossCheck(result.data));
  if (problems.length > 0 || !result.success) {
    const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new ShadowError('PLUGIN_MANIFEST_INVALID', `Invalid plugin manifest ${source}: ${list}`, { details: { source, problems } });
  }
  return result.data;
}

/** Rules zod cannot see alone: ids belong to the plugin, and are unique. */
function crossCheck(manifest: PluginManifest): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const prefix = `${pluginIdOf(manifest)}.`;
  const c = manifest.shadowdisk.contributes;
  const lists = { commands: c.commands, views: c.views, taskTypes: c.taskTypes, filesystems: c.filesystems, snapshotProviders: c.snapshotProviders, writers: c.writers, imageFormats: c.imageFormats, repositories: c.repositories } as const;
  for (const [point, items] of Object.entries(lists)) {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const path = `shadowdisk.contributes.${point}[${index}].id`;
      if (!item.id.startsWith(prefix)) problems.push({ path, message: `'${item.id}' must start with the plugin id '${prefix}'` });
      if (seen.has(item.id)) problems.push({ path, message: `'${item.id}' is contributed twice` });
      seen.add(item.id);
    });
  }
  return problems;
}
