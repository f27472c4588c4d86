// Where writers' components live: every component must lie on a volume of the set, or its snapshot would be torn.
import { statSync } from 'node:fs';
import type { ShadowVolume, WriterMetadata } from '../../sdk/index.js';

/** `writer component 'x' (path) is on no volume of the set` lines, empty when every component is covered. */
export function componentsOutsideSet(metadata: ReadonlyMap<string, WriterMetadata>, volumes: readonly ShadowVolume[]): string[] {
  const devices = new Set(volumes.filter((v) => v.mountpoint !== undefined).map((v) => statSync(v.mountpoint!).dev));
  const outside: string[] = [];
  for (const [writer, meta] of metadata) {
    for (const component of meta.components) {
      for (const path of component.paths) {
        let dev: number | undefined;
        try {
          dev = statSync(path).dev;
        } catch {
          dev = undefined;
        }
        if (dev === undefined || !devices.has(dev)) outside.push(`${writer} component '${component.name}' (${path}) is ${dev === undefined ? 'not reachable' : 'on no volume of the set'}`);
      }
    }
  }
  return outside;
}
