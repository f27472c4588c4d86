// Where the hotcore engine executable is: built next to the addon by `npm run build:native` (native/binding.gyp).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { addonPath } from './load.js';

/** The path of `native/build/Release/hotcore`; throws naming the build step when it is missing. */
export function hotcoreExecutable(): string {
  const path = join(dirname(addonPath()), 'hotcore');
  if (!existsSync(path)) throw new Error(`Cannot find the hotcore engine at '${path}'; run 'npm run build:native'`);
  return path;
}
