// Process entry for the CLI: wires stdout/stderr, SIGINT and SIGTERM (both abort the command, which then cleans up), and exits with the command's code.
import { createInterface } from 'node:readline/promises';
import { main } from './main.js';

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('interrupted')));
process.once('SIGTERM', () => controller.abort(new Error('terminated')));
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: controller.signal, ...(process.stdin.isTTY ? { confirm } : {}) });
