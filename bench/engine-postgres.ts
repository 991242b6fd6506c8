/**
 * The engines bench on PostgreSQL + pgvector: a fresh schema of its own in the given database
 * (dropped at the end unless kept), written through PgCatalog, which keeps pgvector's HNSW index up
 * to date in each item's transaction, so the ingest rate includes that index's upkeep. The index
 * build is timed separately: the model's HNSW index is dropped and created again with the very
 * statement PostgreSQL recorded for it (pg_indexes.indexdef, as pg-vectors.ts made it), over every
 * row. Searches go through PgCatalog.searchImages (iterative index scans for the collection filter).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgCatalog } from '../src/catalog/postgres/pg-catalog.js';
import { quoteSchema } from '../src/catalog/postgres/pg-migrations.js';
import { openPgDb, type PgDb } from '../src/catalog/postgres/pg-pool.js';
import { hnswIndexName } from '../src/catalog/postgres/pg-vectors.js';
import { parseConfig } from '../src/config.js';
import { openReferent, openStores } from '../src/open.js';
import type { Progress } from '../src/progress.js';
import type { EnginePlan } from './engine-data.js';
import { writeCatalogue } from './engine-ingest.js';
import { measureRefined, measureSearch, type Truth } from './engine-measure.js';
import type { EngineReport } from './engine-report.js';
import { measureServers } from './engine-servers.js';
import type { LookupEncoder } from './refine-speed.js';

export interface PgRunOptions {
  url: string;
  keep: boolean;
  /** Concurrent writers for the ingest's last items (see engine-ingest.ts). */
  writers: number;
  serverQueries: number;
  log: (line: string) => void;
}

export interface PgFacts {
  version: string;
  pgvector: string;
  settings: Record<string, string>;
}

/** The server's version, pgvector's, and the settings that shape these figures. */
export async function pgFacts(db: PgDb): Promise<PgFacts> {
  const [v] = await db.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
  const [ext] = await db.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`);
  const names = ['shared_buffers', 'maintenance_work_mem', 'max_parallel_maintenance_workers', 'work_mem', 'synchronous_commit', 'fsync'];
  const rows = await db.query<{ name: string; setting: string; unit: string | null }>(`SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[])`, [names]);
  const settings: Record<string, string> = {};
  for (const name of names) {
    const r = rows.find((x) => x.name === name);
    if (r) settings[name] = r.unit === '8kB' ? `${(Number(r.setting) * 8) / 1024} MB` : r.unit === 'kB' ? `${Number(r.setting) / 1024} MB` : r.setting;
  }
  return { version: v?.v ?? '?', pgvector: ext?.v ?? 'not installed in this database', settings };
}

/** A schema name of this run's own: lower-case, unique enough, never `public`. */
export function benchSchema(): string {
  return `referent_bench_${Date.now().toString(36)}_${process.pid}`;
}

export async function runPgEngine(plan: EnginePlan, truth: Truth, encoder: LookupEncoder, o: PgRunOptions, progress: Progress): Promise<EngineReport & { facts: PgFacts; schema: string }> {
  const schema = benchSchema();
  const dir = await mkdtemp(join(tmpdir(), 'referent-engine-bench-pg-'));
  const admin = openPgDb(o.url, { max: 2 });
  const config = parseConfig({
    env: { REFERENT_DATA_DIR: dir, REFERENT_DATABASE_URL: o.url, REFERENT_DATABASE_SCHEMA: schema, REFERENT_INDEX_DIR: join(dir, 'index'), REFERENT_OFFLINE: '1', REFERENT_MODELS_DIR: join(dir, 'models') },
  });
  o.log(`  postgres: schema ${schema} on ${admin.where} (dropped at the end; after an interrupted run: DROP SCHEMA ${schema} CASCADE)`);
  try {
    const stores = await openStores(config);
    const s = quoteSchema(schema);
    let ingest;
    let build;
    let searchReport;
    try {
      const catalog = stores.catalog;
      if (!(catalog instanceof PgCatalog)) throw new Error('openStores did not open PostgreSQL');
      ingest = await writeCatalogue(catalog, plan, { modelId: encoder.modelId, writers: o.writers, tail: Math.min(5000, Math.max(1, Math.round(plan.items / 20))) }, progress);
      // What autovacuum would do shortly after a bulk load anyway: statistics for the planner.
      await admin.query(`ANALYZE ${s}.items; ANALYZE ${s}.item_vectors`);
      build = await rebuildHnsw(admin, schema, encoder.modelId, o.log);
      const collectionIds = ingest.collectionIds;
      searchReport = await measureSearch(plan, truth, ingest.indexOf, async (q, collection) =>
        (await catalog.searchImages(encoder.modelId, q, 10, collection === undefined ? undefined : new Set([collectionIds[collection]!]))).map((h) => h.itemId),
      );
    } finally {
      await stores.close();
    }

    const started = performance.now();
    const referent = await openReferent(config, { encoder, progress });
    const openSeconds = (performance.now() - started) / 1000;
    let refined;
    try {
      o.log(`  postgres: opened as the product does in ${openSeconds.toFixed(1)} s (image index: ${referent.indexReport.source}); timing refined searches`);
      refined = await measureRefined(referent, plan, ingest.collectionIds, ingest.entityIds);
    } finally {
      await referent.shutdown();
    }

    o.log(`  postgres: two processes searching the schema (${o.serverQueries} queries each)`);
    const servers = await measureServers({ url: o.url, schema, modelId: encoder.modelId, queries: plan.queries.map((q) => q.vector), count: o.serverQueries, dir });
    const facts = await pgFacts(admin);
    return {
      engine: 'postgres',
      title: 'PostgreSQL + pgvector',
      params: `HNSW ${build.params}; ef_search ${efSearchFor(10)} at k 10 with iterative scans (relaxed_order), as searchImages sets them`,
      searchWith: 'PgCatalog.searchImages (pgvector HNSW index; a collection filter with iterative index scans)',
      ingest,
      ingestNote: "includes the upkeep of pgvector's HNSW index in each transaction",
      build: { seconds: build.seconds, what: `drop and create the model's HNSW index over all ${plan.items} rows (${build.sizeMiB.toFixed(0)} MiB)` },
      search: searchReport,
      refined: { ...refined, openSeconds, openNote: `image index: ${referent.indexReport.source}` },
      servers,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
      location: o.keep ? `${admin.where} schema ${schema}` : null,
      facts,
      schema,
    };
  } finally {
    if (!o.keep) await admin.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`).catch((err: unknown) => o.log(`  postgres: could not drop schema ${schema}: ${String(err)}`));
    await admin.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** searchImages' ef_search for a k (pg-item-store.ts: k within 40..1000). */
const efSearchFor = (k: number): number => Math.min(1000, Math.max(40, k));

/**
 * Drops the model's HNSW index and creates it again from its recorded definition, timing the
 * CREATE; reports progress from pg_stat_progress_create_index meanwhile.
 */
async function rebuildHnsw(db: PgDb, schema: string, modelId: string, log: (line: string) => void): Promise<{ seconds: number; sizeMiB: number; params: string }> {
  const name = hnswIndexName(modelId);
  const [def] = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = $2`, [schema, name]);
  if (!def) throw new Error(`no HNSW index ${name} in schema ${schema}`);
  const withParams = /WITH \(([^)]*)\)/.exec(def.indexdef)?.[1];
  const params = withParams ? withParams.replace(/=/g, ' ') : "m 16, ef_construction 64 (pgvector's defaults, as the product creates it)";
  await db.query(`DROP INDEX ${quoteSchema(schema)}.${name}`);
  log(`  postgres: building the HNSW index: ${def.indexdef}`);
  const started = performance.now();
  const timer = setInterval(() => {
    void db
      .query<{ phase: string; done: number; total: number }>(`SELECT phase, tuples_done AS done, tuples_total AS total FROM pg_stat_progress_create_index`)
      .then(([p]) => p && log(`  … HNSW build: ${p.phase}${p.total ? `, ${p.done}/${p.total} tuples` : ''}, ${((performance.now() - started) / 1000).toFixed(0)} s`))
      .catch(() => {});
  }, 15_000);
  try {
    await db.query(def.indexdef);
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  const [size] = await db.query<{ bytes: number }>(`SELECT pg_relation_size(format('%I.%I', $1::text, $2::text)::regclass) AS bytes`, [schema, name]);
  return { seconds, sizeMiB: (size?.bytes ?? 0) / 2 ** 20, params };
}
