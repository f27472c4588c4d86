// Service identifiers of core/node services bound in the container.
export interface HostOptions {
  /** Folders whose subfolders are plugins (each with a package.json manifest). */
  pluginRoots: string[];
  stateDir: string;
  /** Time limit of every async hook tap. */
  tapTimeoutMs: number;
  /** How long an isolated plugin may stay silent (no result, progress or log) on a call; default 60 s. */
  pluginCallTimeoutMs?: number;
  /** Where plugin log lines go; the CLI sends them to stderr. */
  logSink: (pluginId: string, level: 'info' | 'warn' | 'error', message: string) => void;
}

export const HostOptionsToken = Symbol.for('shadowdisk.HostOptions');
export const ContributionRegistriesToken = Symbol.for('shadowdisk.ContributionRegistries');
