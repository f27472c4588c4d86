// Startup cost of installed plugins: `shadowdisk commands --json` with none installed beside 50 installed through
// `plugin install`'s own code (lazy activation: their manifests are read, none is forked). Target: at most 100 ms more.
// Run: npm run bench:plugins [-- --plugins 50 --runs 7]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HOST_VERSION, installPlugin } from '../core/node/index.js';

const { values } = parseArgs({ options: { plugins: { type: 'string', default: '50' }, runs: { type: 'string', default: '7' } } });
const count = Number(values.plugins);
const runs = Number(values.runs);
const cli = new URL('../core/node/cli/run.js', import.meta.url).pathname;

// Under /tmp itself: the plugin user must be able to pass through the state directory.
const root = mkdtempSync('/tmp/shadowdisk-bench-plugins-');
try {
  const none = join(root, 'none');
  const many = join(root, 'many');
  mkdirSync(none);
  mkdirSync(many);
  for (let i = 0; i < count; i++) {
    const src = join(root, 'src', `p${i}`, 'package');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'package.json'), JSON.stringify({
      name: `bench-${i}`, version: '1.0.0', type: 'module', main: 'index.js', engines: { shadowdisk: '^0.1.0' },
      shadowdisk: { publisher: 'bench', contributes: { commands: [{ id: `bench.bench-${i}.hello`, title: `Hello ${i}`, cli: `bench-${i}` }] } },
    }));
    writeFileSync(join(src, 'index.js'), `export function activate(ctx) { ctx.commands.registerCommand('bench.bench-${i}.hello', () => ({ data: ${i} })); }\n`);
    const file = join(root, `p${i}.tgz`);
    execFileSync('tar', ['-C', join(root, 'src', `p${i}`), '-czf', file, 'package']);
    await installPlugin({ file, mode: 'install', stateDir: many, hostVersion: HOST_VERSION, loaded: [], dryRun: false, yes: true });
  }

  const timeOnce = (home: string): { ms: number; commands: number } => {
    const started = performance.now();
    const out = execFileSync(process.execPath, [cli, 'commands', '--json'], { env: { ...process.env, SHADOWDISK_HOME: home }, stdio: ['ignore', 'pipe', 'ignore'] });
    return { ms: performance.now() - started, commands: (JSON.parse(out.toString()) as { commands: unknown[] }).commands.length };
  };
  timeOnce(none);
  timeOnce(many);
  const samples = { none: [] as number[], many: [] as number[] };
  let commands = { none: 0, many: 0 };
  for (let r = 0; r < runs; r++) {
    // Interleaved, so a burst of load from elsewhere hits both.
    const a = timeOnce(none);
    const b = timeOnce(many);
    samples.none.push(a.ms);
    samples.many.push(b.ms);
    commands = { none: a.commands, many: b.commands };
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const base = median(samples.none);
  const loaded = median(samples.many);
  console.log(`shadowdisk commands --json, median of ${runs} interleaved runs`);
  console.log('installed plugins'.padEnd(20), 'commands'.padStart(9), 'ms'.padStart(8), 'ratio'.padStart(7));
  console.log('none'.padEnd(20), String(commands.none).padStart(9), base.toFixed(0).padStart(8), '1.00'.padStart(7));
  console.log(String(count).padEnd(20), String(commands.many).padStart(9), loaded.toFixed(0).padStart(8), (loaded / base).toFixed(2).padStart(7));
  console.log(`cost of ${count} installed plugins: ${(loaded - base).toFixed(0)} ms (target: at most 100 ms)`);
  if (commands.many - commands.none !== count) throw new Error(`expected ${count} more commands, saw ${commands.many - commands.none}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
