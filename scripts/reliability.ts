/**
 * `npm run reliability`: the whole reliability and security suite at full size, then one table.
 * The same harnesses run small in `npm test` (test/reliability/*.int.test.ts); here they run with
 * many more kills, inputs and probes, and the load test for a bounded time.
 *
 *   npm run reliability -- [--seed N] [--quick] [--only faults,disk,snapshots,renderers,requests,leaks,load]
 *
 * Exit status 1 when any promise broke (a failure line is printed for each); timings never fail it.
 */
import { parseArgs } from 'node:util';
import { runDiskFull } from '../test/reliability/disk-full.js';
import { runFaults } from '../test/reliability/faults.js';
import { runHostileRequests } from '../test/reliability/hostile-requests.js';
import { runLeakProbes } from '../test/reliability/leaks.js';
import { runLoad } from '../test/reliability/load-driver.js';
import { runRendererProperties } from '../test/reliability/renderer-properties.js';
import { runSnapshotDamage } from '../test/reliability/snapshot-damage.js';
import type { Tally } from '../test/reliability/tally.js';

const usage = `Usage: npm run reliability -- [--seed N] [--quick] [--only PARTS]
  --seed N      seed of every generator and kill point (default 1)
  --quick       test-sized runs (under a minute) instead of the full suite (about five)
  --only PARTS  comma-separated: faults, disk, snapshots, renderers, requests, leaks, load
Exit status 1 when anything was lost, leaked or left unhandled.`;

const { values } = parseArgs({ options: { seed: { type: 'string' }, quick: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const seed = Number(values.seed ?? 1);
if (!Number.isInteger(seed) || seed < 0) {
  process.stderr.write(`--seed must be a whole number\n${usage}\n`);
  process.exit(2);
}
const full = !values.quick;
const say = (line: string) => process.stderr.write(`  ${line}\n`);

const parts: Record<string, () => Promise<Tally[]>> = {
  faults: async () => [await runFaults({ seed, runs: full ? 80 : 6, progress: say })],
  disk: async () => [await runDiskFull({ seed, runs: full ? 24 : 3, progress: say })],
  snapshots: async () => [await runSnapshotDamage({ seed, rounds: full ? 21 : 7, progress: say })],
  renderers: () => runRendererProperties({ seed, runs: full ? 3000 : 200, webRuns: full ? 1500 : 100 }),
  requests: () => runHostileRequests({ seed, runs: full ? 30 : 3 }),
  leaks: () => runLeakProbes({ seed, rounds: full ? 150 : 45 }),
  load: async () => [await runLoad(full ? { clients: 16, seconds: 30, ingestImages: 300, seed, progress: say } : { clients: 8, maxRequests: 120, ingestImages: 40, seed, progress: say })],
};
const chosen = values.only ? values.only.split(',').map((p) => p.trim()) : Object.keys(parts);
const unknown = chosen.filter((p) => !(p in parts));
if (unknown.length) {
  process.stderr.write(`unknown part(s): ${unknown.join(', ')}\n${usage}\n`);
  process.exit(2);
}

const tallies: Tally[] = [];
const started = Date.now();
for (const name of chosen) {
  process.stderr.write(`== ${name}\n`);
  const t0 = Date.now();
  try {
    const got = await parts[name]!();
    tallies.push(...got);
    say(`${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${got.reduce((n, t) => n + t.failures.length, 0)} failure(s)`);
  } catch (err) {
    // A harness that cannot run is a failure of the suite, reported like any other.
    tallies.push({ name: `${name} (did not run)`, faultsInjected: 0, faultsSurvived: 0, badInputs: 0, leaksFound: 0, itemsLost: 0, failures: [`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`] });
  }
}

const columns = ['part', 'faults injected', 'survived', 'bad inputs', 'leaks found', 'items lost', 'held'] as const;
const row = (t: Tally) => [t.name, t.faultsInjected, t.faultsSurvived, t.badInputs, t.leaksFound, t.itemsLost, t.failures.length === 0 ? 'yes' : `NO (${t.failures.length})`].map(String);
const sum = (key: 'faultsInjected' | 'faultsSurvived' | 'badInputs' | 'leaksFound' | 'itemsLost') => tallies.reduce((n, t) => n + t[key], 0);
const failures = tallies.flatMap((t) => t.failures.map((f) => `${t.name}: ${f}`));
const rows = [...tallies.map(row), ['total', sum('faultsInjected'), sum('faultsSurvived'), sum('badInputs'), sum('leaksFound'), sum('itemsLost'), failures.length === 0 ? 'yes' : `NO (${failures.length})`].map(String)];
const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
const out = [line(columns), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)];
const load = tallies.find((t) => t.load)?.load;
if (load) {
  out.push('', `load: ${load.clients} clients for ${load.seconds.toFixed(1)} s during an ingest of ${load.ingested} images: ${load.requests} requests, ${load.requestsPerSecond.toFixed(1)} requests/s, p50 ${load.p50Ms.toFixed(0)} ms, p95 ${load.p95Ms.toFixed(0)} ms, p99 ${load.p99Ms.toFixed(0)} ms, ${load.errors} errors — ${load.errors === 0 ? 'held' : 'NOT held'}`);
}
out.push('', `seed ${seed}, ${full ? 'full' : 'quick'} run, ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.stdout.write(`\n${out.join('\n')}\n`);
if (failures.length) process.stdout.write(`\nFailures:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
process.exitCode = failures.length ? 1 : 0;
