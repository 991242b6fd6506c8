#!/usr/bin/env node
// `npm test`: runs vitest with its usual output plus a JSON report, then prints the plain
// "N passed, N failed, N skipped" line that CI reads. Extra arguments go to vitest
// (`npm test -- test/catalog`). The exit status is vitest's.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'referent-vitest-')), 'results.json');
const vitest = path.resolve('node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);

let counts = null;
try {
  const r = JSON.parse(fs.readFileSync(report, 'utf8'));
  counts = { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + (r.numTodoTests ?? 0) };
} catch {
  // No report: vitest crashed before writing it; the exit status below says so.
} finally {
  // The report's folder too: `npm test` leaves nothing in the temp directory.
  fs.rmSync(path.dirname(report), { recursive: true, force: true });
}
if (counts) {
  console.log(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
} else {
  console.log('\n0 passed, 1 failed, 0 skipped (vitest wrote no report)');
}
// Non-zero whenever vitest failed, a test failed, or no report was written.
const status = run.status ?? 1;
process.exit(status !== 0 ? status : counts && counts.failed === 0 ? 0 : 1);
