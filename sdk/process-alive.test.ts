// processAlive: a live process, a reaped one and a zombie (killed, not yet reaped by its parent).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { processAlive } from './node.js';

describe('processAlive', () => {
  it('is true for a running process and false once it has exited and been reaped', () => {
    expect(processAlive(process.pid)).toBe(true);
    const gone = spawnSync('true').pid;
    expect(processAlive(gone)).toBe(false);
  });

  it('is false for a zombie: a child that exited while its parent does not reap it', async () => {
    // sh starts `sleep 0` in the background, prints its pid, then becomes `sleep 3`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 3'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
      await sleep(300);
      expect(processAlive(parent.pid!)).toBe(true);
      expect(readFileSync(`/proc/${zombie}/stat`, 'utf8'), 'the child is a zombie (it still answers signal 0)').toMatch(/\) Z /);
      expect(processAlive(zombie)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
