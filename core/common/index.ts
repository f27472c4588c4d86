// core/common: contribution points and registries, hook guarding, the job model; no Node APIs.
export * from './contribution-registry.js';
export * from './contribution-points.js';
export * from './tap-guard.js';
export * from './job.js';
export { ShadowError, isShadowError, ERROR_CODES, EXIT_CODES, type ErrorCode } from '../../sdk/index.js';
