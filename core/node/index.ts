// core/node: the container bootstrap, plugin host, settings and state directory.
export { createHost, ShadowdiskHost, type CreateHostOptions } from './host.js';
export { PluginHost, type PluginHostHooks } from './plugin-host.js';
export { Settings } from './settings.js';
export { resolveStateDir, ensureStateDir, DEFAULT_STATE_DIR } from './state-dir.js';
export { firstPartyPluginRoot, packageRoot } from './first-party.js';
export { HOST_VERSION } from './version.js';
export type { HostOptions } from './tokens.js';
export * from './plugin-install/index.js';
