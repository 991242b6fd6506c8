/**
 * `npm run reliability`: the whole reliability and security suite at full size, then one table.
 * The same harnesses run small in `npm test` (test/reliability/*.int.test.ts); here they run with
 * many more kills, inputs and probes, and the load test for a bounded time.
 *
 *   npm run reliability -- [--seed N] [--quick] [--only faults,disk,snapshots,renderers,requests,leaks,load]
 *                          [--engine sqlite|postgres|both] [--database-url postgres://…]
 *
 * The kill -9 faults and the leak probes run on each engine asked for (PostgreSQL: the database of
 * --database-url or REFERENT_DATABASE_URL, in a schema made for the run and dropped after it), one
 * row per engine; the other parts run on SQLite only.
 *
 * Exit status 1 when any promise broke (a failure line is printed for each); timings never fail it.
 */
import { parseArgs } from 'node:util';
import { runDiskFull } from '../test/reliability/disk-full.js';
import { type EngineKind, postgresAt, sqliteEngine } from '../test/reliability/engines.js';
import { runFaults } from '../test/reliability/faults.js';
import { runHostileRequests } from '../test/reliability/hostile-requests.js';
import { runLeakProbes } from '../test/reliability/leaks.js';
import { runLoad } from '../test/reliability/load-driver.js';
import { runRendererProperties } from '../test/reliability/renderer-properties.js';
import { runSnapshotDamage } from '../test/reliability/snapshot-damage.js';
import type { Tally } from '../test/reliability/tally.js';

const usage = `Usage: npm run reliability -- [--seed N] [--quick] [--only PARTS] [--engine ENGINE] [--database-url URL]
  --seed N            seed of every generator and kill point (default 1)
  --quick             test-sized runs (under a minute) instead of the full suite (about five)
  --only PARTS        comma-separated: faults, disk, snapshots, renderers, requests, leaks, load
  --engine ENGINE     sqlite (default), postgres or both: where faults and leaks run (the other parts: SQLite)
  --database-url URL  the PostgreSQL for --engine postgres|both (default: REFERENT_DATABASE_URL); the run
                      works in a schema of its own and drops it
Exit status 1 when anything was lost, leaked or left unhandled.`;

const { values } = parseArgs({
  options: { seed: { type: 'string' }, quick: { type: 'boolean' }, only: { type: 'string' }, engine: { type: 'string' }, 'database-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const seed = Number(values.seed ?? 1);
if (!Number.isInteger(seed) || seed < 0) {
  process.stderr.write(`--seed must be a whole number\n${usage}\n`);
  process.exit(2);
}
const engineChoice = values.engine ?? 'sqlite';
const databaseUrl = values['database-url'] ?? process.env.REFERENT_DATABASE_URL;
if (!['sqlite', 'postgres', 'both'].includes(engineChoice)) {
  process.stderr.write(`--engine must be sqlite, postgres or both\n${usage}\n`);
  process.exit(2);
}
if (engineChoice !== 'sqlite' && !databaseUrl) {
  process.stderr.write(`--engine ${engineChoice} needs --database-url or REFERENT_DATABASE_URL\n${usage}\n`);
  process.exit(2);
}
const engines: EngineKind[] = [...(engineChoice === 'postgres' ? [] : [sqliteEngine]), ...(engineChoice === 'sqlite' ? [] : [postgresAt(databaseUrl!)])];
const onSqlite = engines.includes(sqliteEngine);
const full = !values.quick;
const say = (line: string) => process.stderr.write(`  ${line}\n`);
/** The engine each row ran on (the parts that run on SQLite only are not in it). */
const engineOf = new Map<Tally, string>();
/** One part on every chosen engine, its rows in engine order. */
const onEngines = async (part: (engine: EngineKind) => Promise<Tally[]>): Promise<Tally[]> => {
  const out: Tally[] = [];
  for (const engine of engines) {
    if (engines.length > 1) say(`on ${engine.name}`);
    const got = await part(engine);
    for (const t of got) engineOf.set(t, engine.name);
    out.push(...got);
  }
  return out;
};

const parts: Record<string, () => Promise<Tally[]>> = {
  faults: () => onEngines(async (engine) => [await runFaults({ seed, runs: full ? 80 : 6, engine, progress: say })]),
  disk: async () => [await runDiskFull({ seed, runs: full ? 24 : 3, progress: say })],
  snapshots: async () => [await runSnapshotDamage({ seed, rounds: full ? 21 : 7, progress: say })],
  renderers: () => runRendererProperties({ seed, runs: full ? 3000 : 200, webRuns: full ? 1500 : 100 }),
  requests: () => runHostileRequests({ seed, runs: full ? 30 : 3 }),
  leaks: () => onEngines((engine) => runLeakProbes({ seed, rounds: full ? 150 : 45, engine })),
  load: async () => [await runLoad(full ? { clients: 16, seconds: 30, ingestImages: 300, seed, progress: say } : { clients: 8, maxRequests: 120, ingestImages: 40, seed, progress: say })],
};
/** The parts that run on every chosen engine; the rest run on SQLite. */
const ENGINE_PARTS = new Set(['faults', 'leaks']);
const asked = values.only ? values.only.split(',').map((p) => p.trim()) : Object.keys(parts);
const unknown = asked.filter((p) => !(p in parts));
if (unknown.length) {
  process.stderr.write(`unknown part(s): ${unknown.join(', ')}\n${usage}\n`);
  process.exit(2);
}
const chosen = asked.filter((p) => onSqlite || ENGINE_PARTS.has(p));
const sqliteOnly = asked.filter((p) => !chosen.includes(p));
if (sqliteOnly.length) say(`${sqliteOnly.join(', ')}: SQLite only, not run (--engine sqlite or both runs them)`);

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
const total = (name: string, of: readonly Tally[]) => {
  const sum = (key: 'faultsInjected' | 'faultsSurvived' | 'badInputs' | 'leaksFound' | 'itemsLost') => of.reduce((n, t) => n + t[key], 0);
  const broken = of.reduce((n, t) => n + t.failures.length, 0);
  return [name, sum('faultsInjected'), sum('faultsSurvived'), sum('badInputs'), sum('leaksFound'), sum('itemsLost'), broken === 0 ? 'yes' : `NO (${broken})`].map(String);
};
const failures = tallies.flatMap((t) => t.failures.map((f) => `${t.name}: ${f}`));
// With a second engine, each engine's own total first (the SQLite-only parts count as SQLite's).
const perEngine = engines.length < 2 ? [] : engines.map((e) => total(`total (${e.name})`, tallies.filter((t) => (engineOf.get(t) ?? 'sqlite') === e.name)));
const rows = [...tallies.map(row), ...perEngine, total('total', tallies)];
const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
const out = [line(columns), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)];
const load = tallies.find((t) => t.load)?.load;
if (load) {
  out.push('', `load: ${load.clients} clients for ${load.seconds.toFixed(1)} s during an ingest of ${load.ingested} images: ${load.requests} requests, ${load.requestsPerSecond.toFixed(1)} requests/s, p50 ${load.p50Ms.toFixed(0)} ms, p95 ${load.p95Ms.toFixed(0)} ms, p99 ${load.p99Ms.toFixed(0)} ms, ${load.errors} errors — ${load.errors === 0 ? 'held' : 'NOT held'}`);
}
const notes = tallies.flatMap((t) => t.notes ?? []);
if (notes.length) out.push('', 'Not checked:', ...notes.map((n) => `  ${n}`));
const where = engineChoice === 'sqlite' ? '' : `, on ${engines.map((e) => e.name).join(' and ')}`;
out.push('', `seed ${seed}, ${full ? 'full' : 'quick'} run${where}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.stdout.write(`\n${out.join('\n')}\n`);
if (failures.length) process.stdout.write(`\nFailures:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
process.exitCode = failures.length ? 1 : 0;
