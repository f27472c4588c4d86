// Test-only handles for devices made with our own attachLoop: released on dispose, and only if still ours.
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { attachLoop, detachLoop, type LoopAttachOptions } from './loop.js';

export interface AttachedLoop extends AsyncDisposable {
  readonly path: string;
  readonly backingFile: string;
}

export function boundBackingFile(device: string): string | undefined {
  try {
    return readFileSync(`/sys/block/${basename(device)}/loop/backing_file`, 'utf8').trimEnd();
  } catch {
    return undefined;
  }
}

/** attachLoop behind an `await using` handle; dispose detaches unless someone already detached (and maybe reused) it. */
export function attachedLoop(backingFile: string, options: LoopAttachOptions = {}): AttachedLoop {
  const path = attachLoop(backingFile, options);
  const bound = boundBackingFile(path) ?? resolve(backingFile);
  return {
    path,
    backingFile: bound,
    async [Symbol.asyncDispose]() {
      if (boundBackingFile(path) !== bound) return;
      detachLoop(path);
      for (let attempt = 0; boundBackingFile(path) === bound; attempt++) {
        if (attempt >= 50) throw new Error(`Loop device ${path} is still bound to '${bound}' 5 s after detachLoop; something holds it open`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
