/**
 * Vector index benchmark: HnswIndex against the exact scan on seeded clustered unit vectors; and,
 * as a second section, what the MMRef refinement adds to search time (`refine-speed.ts`).
 *
 *   npm run bench -- --n 100000 --dim 512 --queries 1000 --ef 32,64,128 [--json]
 *   npm run bench -- --section refine --items 100000 --entities 10000 --refine-queries 200
 *
 * Both catalogue engines side by side (engine-bench.ts: ingest, index build, recall, search and
 * refined search on SQLite + HNSW and on PostgreSQL + pgvector) when --engine is given:
 *
 *   npm run bench -- --engine sqlite|postgres|both [--items 100000] [--database-url postgres://…]
 *
 * `--section index|refine|all` (default all). The refine section's --items defaults to --n and its
 * --entities to a tenth of the items. `runIndexBench` and `runRefineSpeedBench` measure and return
 * figures; the CLI below only parses flags and prints. With --json and --section all, the output is
 * { index, refine }; with one section, that section's figures as they are.
 * Benchmarks are not tests: nothing here fails on a timing.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ExactIndex } from '../src/index/exact-index.js';
import { HnswIndex } from '../src/index/hnsw-index.js';
import { type Progress, silentProgress } from '../src/progress.js';
import { clusteredVectors } from './clustered.js';
import { engineBenchCli } from './engine-bench.js';
import { formatRefineSpeed, runRefineSpeedBench, type RefineSpeedOptions } from './refine-speed.js';

export interface IndexBenchOptions {
  n: number;
  dim: number;
  queries: number;
  efs: number[];
  m?: number;
  efConstruction?: number;
  seed?: number;
  k?: number;
}

export interface LatencyFigures {
  p50Us: number;
  p99Us: number;
  qps: number;
}

export interface IndexBenchResult {
  options: Required<IndexBenchOptions>;
  machine: { cpus: number; node: string };
  build: { seconds: number; perSecond: number; rssDeltaBytes: number };
  snapshot: { bytes: number; saveSeconds: number; loadSeconds: number };
  exact: LatencyFigures;
  hnsw: Array<LatencyFigures & { ef: number; recallAt10: number; speedUp: number }>;
}

/** Builds both indexes over the same data and measures build, memory, snapshot, latency and recall. */
export async function runIndexBench(opts: IndexBenchOptions, progress: Progress = silentProgress): Promise<IndexBenchResult> {
  const options = { m: 16, efConstruction: 200, seed: 42, k: 10, ...opts };
  const { vectors, queries } = clusteredVectors({ n: options.n, dim: options.dim, queries: options.queries, seed: options.seed });
  const hnsw = HnswIndex.create({ dim: options.dim, capacity: options.n, m: options.m, efConstruction: options.efConstruction });
  const build = measureBuild(hnsw, vectors, progress);
  const snapshot = await measureSnapshot(hnsw, options.dim);
  const exactIndex = new ExactIndex(options.dim, options.n);
  vectors.forEach((v, i) => exactIndex.add(String(i), v));
  queries.slice(0, 20).forEach((q) => exactIndex.search(q, options.k)); // let the JIT settle first
  progress.start('exact scan', queries.length, 'queries');
  const truth: string[][] = [];
  const exact = timeQueries(queries, (q) => {
    truth.push(exactIndex.search(q, options.k).map((h) => h.id));
    progress.tick();
  });
  progress.stop();
  const hnswRows = options.efs.map((ef) => {
    hnsw.setEfSearch(ef);
    const found: string[][] = [];
    queries.slice(0, 20).forEach((q) => hnsw.search(q, options.k)); // warm caches for this ef
    const figures = timeQueries(queries, (q) => found.push(hnsw.search(q, options.k).map((h) => h.id)));
    return { ef, ...figures, recallAt10: recall(truth, found), speedUp: exact.p50Us / figures.p50Us };
  });
  return { options, machine: { cpus: cpus().length, node: process.version }, build, snapshot, exact, hnsw: hnswRows };
}

function measureBuild(hnsw: HnswIndex, vectors: Float32Array[], progress: Progress): IndexBenchResult['build'] {
  const rssBefore = process.memoryUsage().rss;
  progress.start('hnsw build', vectors.length, 'vectors');
  const started = performance.now();
  vectors.forEach((v, i) => {
    hnsw.add(String(i), v);
    if (i % 500 === 499) progress.tick(500);
  });
  const seconds = (performance.now() - started) / 1000;
  progress.update?.(vectors.length);
  progress.stop();
  const rssDeltaBytes = process.memoryUsage().rss - rssBefore;
  return { seconds, perSecond: vectors.length / seconds, rssDeltaBytes };
}

async function measureSnapshot(hnsw: HnswIndex, dim: number): Promise<IndexBenchResult['snapshot']> {
  const dir = await mkdtemp(join(tmpdir(), 'referent-bench-'));
  try {
    const base = join(dir, 'bench');
    let started = performance.now();
    await hnsw.saveSnapshot(base, 0);
    const saveSeconds = (performance.now() - started) / 1000;
    const { size } = await stat(`${base}.hnsw`);
    started = performance.now();
    await HnswIndex.loadSnapshot(base, { dim });
    return { bytes: size, saveSeconds, loadSeconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function timeQueries(queries: Float32Array[], run: (q: Float32Array) => void): LatencyFigures {
  const micros: number[] = [];
  for (const q of queries) {
    const started = performance.now();
    run(q);
    micros.push((performance.now() - started) * 1000);
  }
  micros.sort((a, b) => a - b);
  const total = micros.reduce((a, b) => a + b, 0);
  return { p50Us: percentile(micros, 0.5), p99Us: percentile(micros, 0.99), qps: (queries.length * 1e6) / total };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function recall(truth: string[][], found: string[][]): number {
  let hits = 0;
  let total = 0;
  truth.forEach((ids, i) => {
    const got = new Set(found[i]);
    hits += ids.filter((id) => got.has(id)).length;
    total += ids.length;
  });
  return total === 0 ? 1 : hits / total;
}

/** Human-readable report of one run. */
export function formatIndexBench(r: IndexBenchResult): string {
  const o = r.options;
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const row = (cells: Array<string | number>): string => cells.map((c, i) => String(c).padStart(i === 0 ? 6 : 11)).join('');
  return [
    `Vector index bench: n=${o.n} dim=${o.dim} queries=${o.queries} k=${o.k} M=${o.m} efConstruction=${o.efConstruction} seed=${o.seed}`,
    `machine: ${r.machine.cpus} cores, Node ${r.machine.node}; clustered unit vectors (~sqrt(n) centres)`,
    `build:      ${r.build.seconds.toFixed(1)} s (${Math.round(r.build.perSecond)} vectors/s)`,
    `memory:     rss +${mib(r.build.rssDeltaBytes)} during build; snapshot file ${mib(r.snapshot.bytes)}`,
    `snapshot:   save ${r.snapshot.saveSeconds.toFixed(2)} s, verified load ${r.snapshot.loadSeconds.toFixed(2)} s`,
    `exact scan: p50 ${Math.round(r.exact.p50Us)} µs, p99 ${Math.round(r.exact.p99Us)} µs, ${r.exact.qps.toFixed(1)} q/s`,
    '',
    row(['ef', 'p50 µs', 'p99 µs', 'q/s', 'recall@10', 'speed-up']),
    ...r.hnsw.map((h) =>
      row([h.ef, Math.round(h.p50Us), Math.round(h.p99Us), Math.round(h.qps), h.recallAt10.toFixed(4), `${Math.round(h.speedUp)}x`]),
    ),
  ].join('\n');
}

/** A Progress that draws a cli-progress bar on stderr (silent when stderr is not a terminal). */
export function barProgress(): Progress {
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{label} [{bar}] {percentage}% | {value}/{total} {unit} | eta {eta_formatted}' },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (label, total, unit = '') => bar.start(total ?? 0, 0, { label, unit }),
    tick: (delta = 1) => bar.increment(delta),
    update: (value) => bar.update(value),
    stop: () => bar.stop(),
  };
}

export type BenchSection = 'index' | 'refine' | 'all';

export function parseBenchArgs(argv: string[]): IndexBenchOptions & { json: boolean; section: BenchSection; refine: RefineSpeedOptions } {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string', default: '100000' },
      dim: { type: 'string', default: '512' },
      queries: { type: 'string', default: '1000' },
      ef: { type: 'string', default: '32,64,128' },
      m: { type: 'string', default: '16' },
      'ef-construction': { type: 'string', default: '200' },
      seed: { type: 'string', default: '42' },
      json: { type: 'boolean', default: false },
      section: { type: 'string', default: 'all' },
      // The refine section (refine-speed.ts).
      items: { type: 'string' },
      entities: { type: 'string' },
      'refine-queries': { type: 'string', default: '200' },
      'refine-ef-construction': { type: 'string', default: '100' },
    },
  });
  const section = values.section;
  if (section !== 'index' && section !== 'refine' && section !== 'all') throw new Error(`--section must be index, refine or all, got "${section}"`);
  const int = (name: string, text: string): number => {
    const v = Number(text);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer, got "${text}"`);
    return v;
  };
  const n = int('n', values.n);
  const items = values.items === undefined ? n : int('items', values.items);
  const entities = values.entities === undefined ? Math.round(items / 10) : Number(values.entities);
  if (!Number.isInteger(entities) || entities < 0) throw new Error(`--entities must be a whole number, got "${values.entities}"`);
  return {
    n,
    dim: int('dim', values.dim),
    queries: int('queries', values.queries),
    efs: values.ef.split(',').map((s) => int('ef', s.trim())),
    m: int('m', values.m),
    efConstruction: int('ef-construction', values['ef-construction']),
    seed: int('seed', values.seed),
    json: values.json,
    section,
    refine: {
      items,
      entities,
      queries: int('refine-queries', values['refine-queries']),
      efConstruction: int('refine-ef-construction', values['refine-ef-construction']),
      seed: int('seed', values.seed),
    },
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.some((a) => a === '--engine' || a.startsWith('--engine='))) return engineBenchCli(argv);
  const { json, section, refine, ...opts } = parseBenchArgs(argv);
  const index = section === 'refine' ? undefined : await runIndexBench(opts, barProgress());
  if (index && !json) console.log(formatIndexBench(index));
  const refined = section === 'index' ? undefined : await runRefineSpeedBench(refine, barProgress());
  if (refined && !json) console.log(`${index ? '\n' : ''}${formatRefineSpeed(refined)}`);
  if (json) console.log(JSON.stringify(section === 'all' ? { index, refine: refined } : (index ?? refined), null, 2));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
