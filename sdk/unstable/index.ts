// @shadowdisk/sdk/unstable: API that may change in any release. A plugin must opt in with `shadowdisk.unstableApi: true`
// in its manifest; an isolated plugin that imports this without it fails to activate, naming the manifest key.
export { pluginProcess, type PluginProcessInfo } from './plugin-process.js';
