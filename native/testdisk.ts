// Where the testdisk executable is (the power-cut and read-error test disk, docs/testing.md): built next to the addon.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { addonPath } from './load.js';

/** The path of `native/build/Release/testdisk`; throws naming the build step when it is missing. */
export function testdiskExecutable(): string {
  const path = join(dirname(addonPath()), 'testdisk');
  if (!existsSync(path)) throw new Error(`Cannot find the testdisk executable at '${path}'; run 'npm run build:native'`);
  return path;
}
