/**
 * `npm run load`: the web chat (and Teams in local mode) under concurrent clients on 127.0.0.1 while
 * `referent ingest` adds images to the same data folder, both as child processes, as deployed.
 *
 *   npm run load -- [--clients 16] [--seconds 30] [--images 300] [--seed 1]
 *
 * Prints requests/s and client-side p50/p95/p99 latency. Exits 1 when a request failed or an
 * acknowledged item was lost: that is a correctness failure. No timing ever fails it.
 */
import { parseArgs } from 'node:util';
import { runLoad } from '../test/reliability/load-driver.js';

const usage = `Usage: npm run load -- [--clients N] [--seconds S] [--images N] [--seed N]
  --clients N   concurrent chat clients (default 16)
  --seconds S   how long the clients send requests (default 30)
  --images N    images the concurrent ingest adds (default 300)
  --seed N      seed of the request mix (default 1)
Exit status 1 when any request failed or any acknowledged item was lost.`;

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be a whole number of at least ${min}\n${usage}\n`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: { clients: { type: 'string' }, seconds: { type: 'string' }, images: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const options = {
  clients: count('clients', values.clients, 16, 1),
  seconds: count('seconds', values.seconds, 30, 1),
  ingestImages: count('images', values.images, 300, 1),
  seed: count('seed', values.seed, 1, 0),
};

process.stderr.write(`load: ${options.clients} clients for ${options.seconds} s while ingesting ${options.ingestImages} images (seed ${options.seed})\n`);
const tally = await runLoad({ ...options, progress: (line) => process.stderr.write(`  ${line}\n`) });
const load = tally.load!;
const rows: Array<[string, string]> = [
  ['clients', String(load.clients)],
  ['duration', `${load.seconds.toFixed(1)} s`],
  ['requests', String(load.requests)],
  ['requests/s', load.requestsPerSecond.toFixed(1)],
  ['latency p50', `${load.p50Ms.toFixed(1)} ms`],
  ['latency p95', `${load.p95Ms.toFixed(1)} ms`],
  ['latency p99', `${load.p99Ms.toFixed(1)} ms`],
  ['errors', String(load.errors)],
  ['ingested during run', `${load.ingested} of ${options.ingestImages}`],
  ['items lost', String(tally.itemsLost)],
];
process.stdout.write(`\n${rows.map(([k, v]) => `${k.padEnd(20)} ${v.padStart(12)}`).join('\n')}\n`);
if (tally.failures.length > 0) process.stdout.write(`\nFailures:\n${tally.failures.map((f) => `  ${f}`).join('\n')}\n`);
process.exitCode = load.errors > 0 || tally.itemsLost > 0 || tally.failures.length > 0 ? 1 : 0;
