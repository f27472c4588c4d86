// `schedule history --json --limit 50` over 100,000 recorded runs: the store query, the command as the CLI runs it
// (handler and JSON), and a whole `shadowdisk` process for reference (Node start and plugin loading included).
// Run: npm run bench:schedule [-- --runs 100000 --rounds 50]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createHost, packageRoot } from '../core/node/index.js';
import { ScheduleStore } from '../plugins/scheduler/index.js';
import { seedHistory } from './schedule-history-data.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '50' } } });
const runs = Number(values.runs);
const rounds = Number(values.rounds);

const stateDir = mkdtempSync(join(tmpdir(), 'shadowdisk-bench-schedule-'));
try {
  const folder = join(stateDir, 'plugins', 'shadowdisk.scheduler');
  let seedMs: number;
  {
    using store = new ScheduleStore(folder);
    seedMs = seedHistory(store, runs);
  }
  const query = (() => {
    using store = new ScheduleStore(folder);
    return [timeMs(rounds, () => store.history({ limit: 50 })), timeMs(rounds, () => store.history({ scheduleId: 'schedule-7', limit: 50 }))];
  })();
  await using host = await createHost({ stateDir, logSink: () => undefined });
  const command = async (options: Record<string, string>, positionals: string[] = []) => JSON.stringify((await host.executeCommand('shadowdisk.scheduler.history', { positionals, options })).data);
  await command({ limit: '50' }); // activation and first open
  const handler = await timeAsyncMs(rounds, () => command({ limit: '50' }));
  const filtered = await timeAsyncMs(rounds, () => command({ limit: '50' }, ['schedule-7']));
  const launcher = fileURLToPath(new URL('bin/shadowdisk.js', `file://${packageRoot()}/`));
  const processMs = timeMs(5, () => execFileSync(process.execPath, [launcher, 'schedule', 'history', '--json', '--limit', '50'], { env: { ...process.env, SHADOWDISK_HOME: stateDir }, stdio: ['ignore', 'pipe', 'ignore'] }));
  console.log(`schedule history --limit 50 over ${runs.toLocaleString('en')} runs (seeded in ${seedMs.toFixed(0)} ms); ${rounds} rounds, target < 100 ms`);
  console.log('what'.padEnd(48), 'median ms'.padStart(10), 'p95 ms'.padStart(8));
  const rows: [string, number[]][] = [
    ['store query, all schedules', query[0]!],
    ['store query, one schedule', query[1]!],
    ['history command + JSON, all schedules', handler],
    ['history command + JSON, one schedule', filtered],
    ['whole shadowdisk process (Node start, plugins)', processMs],
  ];
  for (const [what, samples] of rows) console.log(what.padEnd(48), percentile(samples, 0.5).toFixed(2).padStart(10), percentile(samples, 0.95).toFixed(2).padStart(8));
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}

function timeMs(n: number, work: () => unknown): number[] {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    work();
    samples.push(performance.now() - started);
  }
  return samples;
}

async function timeAsyncMs(n: number, work: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return samples;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
