/**
 * The engines bench on the embedded engine: SQLite in a temporary data folder, and the image index
 * as the product keeps it, an HNSW graph in this process (ItemIndex, hnswlib) built from the
 * catalogue. Ingest here writes the catalogue only: the graph is built afterwards from it
 * (ItemIndex.rebuild, timed as the index build), as a server that opens the folder does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config.js';
import { ItemIndex } from '../src/index/item-index.js';
import { openReferent, openStores } from '../src/open.js';
import type { Progress } from '../src/progress.js';
import type { EnginePlan } from './engine-data.js';
import { writeCatalogue } from './engine-ingest.js';
import { measureRefined, measureSearch, type Truth } from './engine-measure.js';
import type { EngineReport } from './engine-report.js';
import { LookupEncoder } from './refine-speed.js';

export interface SqliteRunOptions {
  keep: boolean;
  log: (line: string) => void;
}

export async function runSqliteEngine(plan: EnginePlan, truth: Truth, encoder: LookupEncoder, o: SqliteRunOptions, progress: Progress): Promise<EngineReport> {
  const dir = await mkdtemp(join(tmpdir(), 'referent-engine-bench-'));
  const config = parseConfig({ env: { REFERENT_DATA_DIR: dir, REFERENT_OFFLINE: '1', REFERENT_MODELS_DIR: join(dir, 'models') } });
  const { hnsw } = config;
  try {
    const stores = await openStores(config);
    let ingest;
    let build;
    let searchReport;
    try {
      ingest = await writeCatalogue(stores.catalog, plan, { modelId: encoder.modelId, writers: 1, tail: 0 }, progress);
      const started = performance.now();
      const index = await ItemIndex.rebuild({ catalog: stores.catalog, dir: config.indexDir, modelId: encoder.modelId, dim: plan.dim, hnsw, progress });
      build = { seconds: (performance.now() - started) / 1000 };
      o.log(`  sqlite: index built in ${build.seconds.toFixed(1)} s; timing searches`);
      const collectionIds = ingest.collectionIds;
      searchReport = await measureSearch(plan, truth, ingest.indexOf, async (q, collection) =>
        (await index.search(q, 10, collection === undefined ? undefined : new Set([collectionIds[collection]!]))).map((h) => h.itemId),
      );
    } finally {
      await stores.close();
    }

    const started = performance.now();
    const referent = await openReferent(config, { encoder, progress });
    const openSeconds = (performance.now() - started) / 1000;
    let refined;
    try {
      o.log(`  sqlite: opened as the product does in ${openSeconds.toFixed(1)} s (image index: ${referent.indexReport.source}); timing refined searches`);
      refined = await measureRefined(referent, plan, ingest.collectionIds, ingest.entityIds);
    } finally {
      await referent.shutdown();
    }
    return {
      engine: 'sqlite',
      title: 'SQLite + in-process HNSW (hnswlib)',
      params: `HNSW M ${hnsw.m}, efConstruction ${hnsw.efConstruction}, efSearch ${hnsw.efSearch} (the product's defaults)`,
      searchWith: 'ItemIndex.search (this process\'s HNSW graph; a collection filter is applied inside the graph search)',
      ingest,
      ingestNote: 'writes the catalogue only; the graph is built from it afterwards (next line)',
      build: { ...build, what: 'ItemIndex.rebuild: read every vector from SQLite, insert into the HNSW graph, save its snapshot' },
      search: searchReport,
      refined: { ...refined, openSeconds, openNote: `image index: ${referent.indexReport.source}` },
      servers: null,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
      location: o.keep ? dir : null,
    };
  } finally {
    if (!o.keep) await rm(dir, { recursive: true, force: true });
  }
}
