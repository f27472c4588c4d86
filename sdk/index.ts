// @shadowdisk/sdk: the only module plugins import.
export * from './errors.js';
export * from './disposable.js';
export * from './job.js';
export * from './manifest.js';
export * from './plugin-context.js';
export * from './format.js';
export * from './shadow-copy.js';
export * from './script-context.js';
