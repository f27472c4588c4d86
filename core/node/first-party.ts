// Where the first-party plugins live: plugins/ beside core/ (sources under tests, dist/plugins when compiled).
import { fileURLToPath } from 'node:url';

export function firstPartyPluginRoot(): string {
  return fileURLToPath(new URL('../../plugins/', import.meta.url));
}

/** The repository (or installed package) root: two levels above core/node in sources, three in dist/. */
export function packageRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return fileURLToPath(new URL(here.includes('/dist/core/') ? '../../../' : '../../', import.meta.url));
}
