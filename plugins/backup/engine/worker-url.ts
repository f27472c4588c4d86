// Where a worker thread's module is: beside the caller when it runs compiled, else in dist/ (tests run the engine
// from TypeScript sources, but a worker thread needs plain JavaScript).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ShadowError } from '../../../sdk/index.js';

/** `file` is the worker's name beside `caller` (import.meta.url); `distPath` its path under the repository root. */
export function workerUrl(caller: string, file: string, distPath: string): URL {
  const here = new URL(`./${file}`, caller);
  if (existsSync(fileURLToPath(here))) return here;
  const compiled = new URL(`../../../dist/${distPath}`, caller);
  if (existsSync(fileURLToPath(compiled))) return compiled;
  throw new ShadowError('INTERNAL', `The worker ${file} is not built (${fileURLToPath(compiled)}); run 'npm run build'`);
}
