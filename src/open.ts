/**
 * Opening a data folder: catalogue, media store, encoder and image index, with the start-up checks
 * (the stored model must match the encoder; the index must agree with the catalogue).
 */
import path from 'node:path';
import type { Catalog } from './catalog/catalog.js';
import { asyncCatalog } from './catalog/async-catalog.js';
import { PgCatalog } from './catalog/postgres/pg-catalog.js';
import { SqliteCatalog } from './catalog/sqlite-catalog.js';
import type { Config, MethodConfig } from './config.js';
import { asDataDirError, prepareDataDir } from './data-dir.js';
import type { Encoder } from './encoder/encoder.js';
import { OnnxClipEncoder } from './encoder/onnx-clip-encoder.js';
import { ErrorCode, ReferentError } from './errors.js';
import type { ImageLimits } from './image/image-io.js';
import { DatabaseImageIndex, type VectorSearch } from './index/database-image-index.js';
import type { ImageIndex } from './index/image-index.js';
import { ItemIndex, type OpenReport } from './index/item-index.js';
import { createFsMediaStore, type MediaStore } from './media/media-store.js';
import { emptyMediaTrash } from './media/media-trash.js';
import { resolveModel } from './models/model-resolver.js';
import { silentProgress, type Progress } from './progress.js';
import { DatabaseReferenceGraphs, type ReferenceVectorStore } from './references/reference-graphs.js';
import { References } from './references/references.js';

export interface Stores {
  catalog: Catalog;
  /**
   * Set when the catalogue's database searches vectors itself (PostgreSQL + pgvector): the image index
   * and the reference index are there.
   */
  vectorSearch?: VectorSearch & ReferenceVectorStore;
  media: MediaStore;
  close(): Promise<void>;
}

/** An open data folder. Release it with `shutdown` (which also saves the index and closes the encoder). */
export interface Referent {
  catalog: Catalog;
  media: MediaStore;
  encoder: Encoder;
  /** The image index: this process's HNSW cache (SQLite), or pgvector's index in the database (PostgreSQL). */
  index: ImageIndex;
  /** The entities' multi-modal references and the reference index. */
  references: References;
  method: MethodConfig;
  /** How the index was opened (loaded from its snapshot, or rebuilt and why). */
  indexReport: OpenReport;
  /**
   * Upkeep for a long-running process, every few seconds: follows other processes' writes, deletes
   * files a crashed forget left queued, rewrites index snapshots that were deleted or damaged
   * under it, and saves the image index once it is far behind its snapshot (bounding replay after
   * a crash). Returns a line per repair made.
   */
  maintain(): Promise<string[]>;
  /** Saves an index snapshot and releases everything. */
  shutdown(): Promise<void>;
}

/** Log entries past the image index's snapshot that make a running server save a new one. */
const SAVE_BEHIND = 1000;

export function imageLimits(config: Config): ImageLimits {
  return { maxBytes: config.maxImageBytes, maxPixels: config.maxImagePixels, allowSvg: false };
}

export function dataPaths(dataDir: string) {
  return { catalog: path.join(dataDir, 'catalog.sqlite'), media: path.join(dataDir, 'media'), index: path.join(dataDir, 'index') };
}

/**
 * Opens the catalogue (SQLite in the data folder, or the PostgreSQL of REFERENT_DATABASE_URL) and the
 * media store; a data folder or database that cannot be used is one clear error (data-dir.ts, pg-pool.ts).
 */
export async function openStores(config: Config): Promise<Stores> {
  const paths = dataPaths(config.dataDir);
  prepareDataDir(config.dataDir);
  let catalog: Catalog;
  let vectorSearch: (VectorSearch & ReferenceVectorStore) | undefined;
  if (config.database) {
    catalog = vectorSearch = await PgCatalog.open(config.database.url, { schema: config.database.schema, ...(config.database.readUrl ? { readUrl: config.database.readUrl } : {}) });
  } else {
    try {
      catalog = asyncCatalog(SqliteCatalog.open(paths.catalog));
    } catch (err) {
      throw asDataDirError(err, config.dataDir, { always: true });
    }
  }
  const media = createFsMediaStore(paths.media, { limits: imageLimits(config), ...(config.originalMaxSide === undefined ? {} : { maxSide: config.originalMaxSide }) });
  return { catalog, ...(vectorSearch ? { vectorSearch } : {}), media, close: () => catalog.close() };
}

/** Finds the configured model (pulling it when allowed and missing) and loads it. */
export async function loadEncoder(config: Config, progress: Progress = silentProgress): Promise<Encoder> {
  const resolved = await resolveModel({
    model: config.model,
    modelsDir: config.modelsDir,
    variant: config.modelVariant,
    allowDownload: !config.offline,
    pull: { hubUrl: config.hubUrl, progress, ...(config.hfToken ? { token: config.hfToken } : {}) },
  });
  return OnnxClipEncoder.create(resolved.dir, {
    variant: config.modelVariant,
    batchSize: config.batchSize,
    imageLimits: imageLimits(config),
    device: config.device,
    ...(config.inferenceThreads === undefined ? {} : { threads: config.inferenceThreads }),
    ...(resolved.hubId ? { modelId: resolved.hubId } : {}),
  });
}

/**
 * Refuses to serve vectors of another model. An empty catalogue simply adopts the encoder's model.
 */
export async function checkModel(catalog: Catalog, encoder: Encoder): Promise<void> {
  const stored = await catalog.getModel();
  if (stored && stored.modelId === encoder.modelId && stored.dim === encoder.dim) return;
  if (stored && await catalog.countItems() > 0) {
    throw new ReferentError(
      ErrorCode.ModelMismatch,
      `This data folder was indexed with the model ${stored.modelId} (${stored.dim} dimensions), but Referent was started with ${encoder.modelId} (${encoder.dim} dimensions). ` +
        `Start with --model ${stored.modelId} to use it as it is, or run \`referent index reembed --model ${encoder.modelId}\` to re-embed its ${await catalog.countItems()} items with the new model.`,
      { details: { stored, requested: { modelId: encoder.modelId, dim: encoder.dim } } },
    );
  }
  await catalog.setModel({ modelId: encoder.modelId, dim: encoder.dim });
}

/**
 * The image index: on PostgreSQL, pgvector's index in the database (every process searches it; nothing
 * to load); otherwise this process's HNSW cache, loaded from its snapshot or rebuilt from the catalogue.
 */
async function openImageIndex(stores: Stores, config: Config, encoder: Encoder, progress: Progress): Promise<{ index: ImageIndex; report: OpenReport }> {
  if (stores.vectorSearch) {
    const index = new DatabaseImageIndex(stores.vectorSearch, stores.catalog, encoder.modelId);
    return { index, report: { source: 'database', replayed: 0, count: await index.count() } };
  }
  return ItemIndex.open({ catalog: stores.catalog, dir: config.indexDir, modelId: encoder.modelId, dim: encoder.dim, hnsw: config.hnsw, progress });
}

export interface OpenOptions {
  /** Use this encoder instead of loading the configured model (tests, re-embedding). */
  encoder?: Encoder;
  progress?: Progress;
}

export async function openReferent(config: Config, options: OpenOptions = {}): Promise<Referent> {
  const progress = options.progress ?? silentProgress;
  const stores = await openStores(config);
  let encoder: Encoder | undefined;
  try {
    encoder = options.encoder ?? (await loadEncoder(config, progress));
    await checkModel(stores.catalog, encoder);
    const { index, report } = await openImageIndex(stores, config, encoder, progress);
    const references = await References.open({
      catalog: stores.catalog,
      dir: config.indexDir,
      modelId: encoder.modelId,
      dim: encoder.dim,
      fusion: config.method.fusion,
      hnsw: config.hnsw,
      ...(stores.vectorSearch ? { graphs: (seq: number) => DatabaseReferenceGraphs.open(stores.vectorSearch!, encoder!.modelId, seq) } : {}),
      progress,
    });
    // Files a forget queued and a crash kept it from deleting.
    await emptyMediaTrash(stores.catalog, stores.media);
    const enc = encoder;
    return {
      catalog: stores.catalog,
      media: stores.media,
      encoder: enc,
      index,
      references,
      method: config.method,
      indexReport: report,
      async maintain() {
        const repaired: string[] = [];
        await index.catchUp();
        await references.catchUp();
        const trashed = await emptyMediaTrash(stores.catalog, stores.media);
        if (trashed > 0) repaired.push(`deleted the files of ${trashed} forgotten image(s) that an interrupted forget had left`);
        const items = await index.repairSnapshot();
        if (items) repaired.push(`the image index snapshot was ${items === 'missing' ? 'deleted' : 'altered'} under the server: written again`);
        const refs = await references.repairSnapshots();
        if (refs) repaired.push(`a reference index snapshot was ${refs === 'missing' ? 'deleted' : 'altered'} under the server: written again`);
        await index.saveIfBehind(SAVE_BEHIND);
        return repaired;
      },
      async shutdown() {
        try {
          await index.save();
          await references.save();
        } finally {
          await stores.close();
          await enc.close();
        }
      },
    };
  } catch (err) {
    await stores.close();
    await encoder?.close();
    // The index folder and the media trash are written here too; errors elsewhere (the model folder) pass as they are.
    throw asDataDirError(err, config.dataDir);
  }
}
