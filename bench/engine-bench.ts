/**
 * Both catalogue engines measured side by side on the same data:
 *
 *   npm run bench -- --engine sqlite|postgres|both [--items 100000] [--database-url postgres://…] [--keep]
 *
 * SQLite with the in-process HNSW index (the default engine) and PostgreSQL + pgvector
 * (REFERENT_DATABASE_URL). At `--items` synthetic clustered 512-d items in six collections, with
 * entities and descriptions: the ingest rate through Catalog.addItem, the index build, recall@10
 * against an exact scan and p50/p95 of image search (all collections, one collection), the
 * product's refined search through search(), and on PostgreSQL the throughput of two processes
 * searching one database. Everything runs in a temporary data folder and, on PostgreSQL, a schema
 * of its own that is dropped at the end (--keep keeps both). Without --engine, `npm run bench` runs
 * the index and refinement sections of index-bench.ts as before.
 * Benchmarks are not tests: nothing here fails on a timing.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { openPgDb } from '../src/catalog/postgres/pg-pool.js';
import { COLLECTION_SHARES, makeEnginePlan, queryTexts } from './engine-data.js';
import { exactTruth, lineProgress } from './engine-measure.js';
import { runPgEngine } from './engine-postgres.js';
import { type EngineReport, formatEngine, formatSetting, formatSummary, type RunSetting } from './engine-report.js';
import { runSqliteEngine } from './engine-sqlite.js';
import { LookupEncoder } from './refine-speed.js';

export type Engine = 'sqlite' | 'postgres';

export interface EngineBenchOptions {
  engines: Engine[];
  items: number;
  entities: number;
  queries: number;
  warmup: number;
  seed: number;
  databaseUrl: string | null;
  keep: boolean;
  /** Concurrent writers for the last items of the PostgreSQL ingest. */
  writers: number;
  /** Queries per process in the two-servers measurement. */
  serverQueries: number;
  json: boolean;
}

/** A mistake in the command line: one line for the person who typed it. */
export class BenchUsageError extends Error {}

const DIM = 512;

export const NO_DATABASE =
  '--engine postgres needs a PostgreSQL server with pgvector 0.8 or later: pass --database-url postgres://user:password@host:5432/database ' +
  'or set REFERENT_DATABASE_URL (the bench works in a schema of its own and drops it at the end; docs/postgres.md says how to set one up).';

export function parseEngineArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): EngineBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        engine: { type: 'string' },
        items: { type: 'string', default: '100000' },
        entities: { type: 'string' },
        queries: { type: 'string', default: '200' },
        warmup: { type: 'string', default: '20' },
        seed: { type: 'string', default: '42' },
        'database-url': { type: 'string' },
        keep: { type: 'boolean', default: false },
        writers: { type: 'string', default: '4' },
        'server-queries': { type: 'string', default: '1000' },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new BenchUsageError(err instanceof Error ? err.message : String(err));
  }
  const int = (name: string, text: string, min: number): number => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min) throw new BenchUsageError(`--${name} must be a whole number of at least ${min}, got "${text}"`);
    return v;
  };
  const engine = values.engine;
  if (engine !== 'sqlite' && engine !== 'postgres' && engine !== 'both') throw new BenchUsageError(`--engine must be sqlite, postgres or both, got "${engine ?? ''}"`);
  const engines: Engine[] = engine === 'both' ? ['sqlite', 'postgres'] : [engine];
  const items = int('items', values.items, 100);
  const entities = values.entities === undefined ? Math.round(items / 20) : int('entities', values.entities, 0);
  if (entities * 4 > items) throw new BenchUsageError(`--entities ${entities} needs at least ${entities * 4} items (up to 4 photos each)`);
  const url = values['database-url'] ?? (env.REFERENT_DATABASE_URL || null);
  if (engines.includes('postgres')) {
    if (!url) throw new BenchUsageError(NO_DATABASE);
    if (!/^postgres(ql)?:\/\//.test(url)) throw new BenchUsageError('--database-url must be a PostgreSQL URL: postgres://user:password@host:5432/database');
  }
  return {
    engines,
    items,
    entities,
    queries: int('queries', values.queries, 1),
    warmup: int('warmup', values.warmup, 0),
    seed: int('seed', values.seed, 0),
    databaseUrl: engines.includes('postgres') ? url : null,
    keep: values.keep,
    writers: int('writers', values.writers, 1),
    serverQueries: int('server-queries', values['server-queries'], 1),
    json: values.json,
  };
}

export async function runEngineBench(o: EngineBenchOptions, log: (line: string) => void, print: (text: string) => void): Promise<{ setting: RunSetting; reports: EngineReport[] }> {
  const started = performance.now();
  const loadStart = loadavg();
  const progress = lineProgress();
  if (o.databaseUrl) await checkDatabase(o.databaseUrl);
  log(`making ${o.items} items, ${o.entities} entities and ${o.queries + o.warmup} queries (seed ${o.seed})`);
  const plan = makeEnginePlan({ items: o.items, entities: o.entities, queries: o.queries, warmup: o.warmup, dim: DIM, seed: o.seed });
  const truth = exactTruth(plan, progress);
  const encoder = new LookupEncoder(DIM, queryTexts(plan));
  const reports: EngineReport[] = [];
  const cpu = cpus();
  const setting = (): RunSetting => ({
    items: o.items,
    dim: DIM,
    clusters: plan.clusters,
    collections: `${COLLECTION_SHARES.length} collections of ${COLLECTION_SHARES.map((s) => `${s * 100}%`).join(', ')}`,
    entities: plan.entities.length,
    linkedItems: plan.linkedItems,
    descriptions: plan.entities.reduce((n, e) => n + e.descriptions.length, 0),
    queries: o.queries,
    warmup: o.warmup,
    seed: o.seed,
    machine: { cpus: cpu.length, model: cpu[0]?.model.trim() ?? '?', memGiB: totalmem() / 2 ** 30, node: process.version, loadStart, loadEnd: loadavg() },
    truth,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    seconds: (performance.now() - started) / 1000,
  });
  if (!o.json) print(formatSetting(setting()).join('\n'));
  for (const engine of o.engines) {
    log(`${engine}: starting (free memory ${(freemem() / 2 ** 30).toFixed(1)} GiB)`);
    const report =
      engine === 'sqlite'
        ? await runSqliteEngine(plan, truth, encoder, { keep: o.keep, log }, progress)
        : await runPgEngine(plan, truth, encoder, { url: o.databaseUrl!, keep: o.keep, writers: o.writers, serverQueries: o.serverQueries, log }, progress);
    reports.push(report);
    if (!o.json) print(['', ...formatEngine(report)].join('\n'));
  }
  const final = setting();
  if (!o.json) print(['', ...formatSummary(reports, final), '', `load average at end: ${final.machine.loadEnd.map((x) => x.toFixed(2)).join(' ')}`].join('\n'));
  if (encoder.unknown > 0) log(`warning: ${encoder.unknown} query texts had no prepared vector`);
  return { setting: final, reports };
}

/** Fails early, before minutes of SQLite work, when the server cannot be reached or has no pgvector. */
async function checkDatabase(url: string): Promise<void> {
  const db = openPgDb(url, { max: 1 });
  try {
    const [row] = await db.query<{ n: number }>(`SELECT count(*) AS n FROM pg_available_extensions WHERE name = 'vector'`);
    if (!row?.n) throw new BenchUsageError(`The PostgreSQL server at ${db.where} has no pgvector to create: install pgvector 0.8 or later there (docs/postgres.md).`);
  } finally {
    await db.close();
  }
}

/** `npm run bench -- --engine …`: prints the report; a usage mistake is one line and exit status 2. */
export async function engineBenchCli(argv: readonly string[]): Promise<void> {
  try {
    const o = parseEngineArgs(argv, process.env);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const result = await runEngineBench(o, log, (text) => console.log(text));
    // Figures only: the exact answers and the catalogue ids stay out.
    const figures = { ...result, setting: { ...result.setting, truth: { scan: result.setting.truth.scan } } };
    const ids = new Set(['itemIds', 'indexOf', 'entityIds']);
    if (o.json) console.log(JSON.stringify(figures, (k, v: unknown) => (ids.has(k) ? undefined : v), 2));
  } catch (err) {
    if (!(err instanceof BenchUsageError) && !(err instanceof Error && 'code' in err && /^DATABASE_/.test(String(err.code)))) throw err;
    console.error(err.message);
    process.exitCode = 2;
  }
}
