// Runs vitest (arguments pass through) and ends with the plain "N passed, N failed" line that CI reads; exits as vitest did.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const results = `${root}.vitest-results.json`;
rmSync(results, { force: true });
const vitest = spawnSync(process.execPath, [`${root}node_modules/vitest/vitest.mjs`, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(results)) {
  const report = JSON.parse(readFileSync(results, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests + (report.numFailedTestSuites ?? 0) - countSuitesFailedByTests(report);
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
const code = vitest.status ?? 1;
// A run that failed outside any test (the leak guard, a crashed worker) still counts as a failure.
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code);

function countSuitesFailedByTests(report) {
  return (report.testResults ?? []).filter((file) => file.status === 'failed' && file.assertionResults.some((a) => a.status === 'failed')).length;
}
