// A writer process that appends paired records across two volumes: record i to A (fsync'd), then record i to B
// (fsync'd). In any instant of both volumes, B never holds a record whose pair is missing on A. It runs in its own
// process: a write on a frozen filesystem blocks its thread, which must not be the coordinator's.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const RECORD_BYTES = 9;

const SCRIPT = `
const fs = require('node:fs');
const [a, b] = process.argv.slice(1);
const fa = fs.openSync(a, 'a'), fb = fs.openSync(b, 'a');
let i = 0, stop = false;
process.on('SIGTERM', () => { stop = true; });
function step() {
  for (let n = 0; n < 20 && !stop; n++, i++) {
    const line = String(i).padStart(8, '0') + '\\n';
    fs.writeSync(fa, line); fs.fsyncSync(fa);
    fs.writeSync(fb, line); fs.fsyncSync(fb);
  }
  if (stop) { process.stdout.write(String(i)); process.exit(0); }
  setImmediate(step);
}
step();
`;

export interface PairedWriter extends AsyncDisposable {
  /** Stops the writer and resolves with how many pairs it wrote. */
  stop(): Promise<number>;
}

export function pairedWriter(fileA: string, fileB: string): PairedWriter {
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT, fileA, fileB], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(Number(out))));
  const stop = async (): Promise<number> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    return exited;
  };
  return { stop, [Symbol.asyncDispose]: async () => void (await stop()) };
}

/** The record numbers in a log, checking they run 0, 1, 2... with no gap or torn line. */
export function readRecords(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return 0;
  }
  const whole = Math.floor(text.length / RECORD_BYTES);
  for (let i = 0; i < whole; i++) {
    const line = text.slice(i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
    if (line !== `${String(i).padStart(8, '0')}\n`) throw new Error(`${path}: record ${i} reads ${JSON.stringify(line)}`);
  }
  // A record not yet fsync'd at the cut may be torn (zeros or part of a line) at the end: it does not count.
  return whole;
}
