import type { Config } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { ItemIndex } from '../../src/index/item-index.js';
import { reembed } from '../../src/ingest/reembed.js';
import { OcrQueue } from '../../src/ocr/ocr-queue.js';
import { PaddleOcr } from '../../src/ocr/paddle-ocr.js';
import type { Catalog } from '../../src/catalog/catalog.js';
import { loadEncoder, openReferent, openStores } from '../../src/open.js';
import type { CliValues } from './main.js';
import { facesLine, runFaceIndex } from './cmd-faces.js';
import { createProgressBar } from './progress-bar.js';

export async function runIndex(args: string[], values: CliValues, loadConfig: () => Config): Promise<number> {
  const [sub, ...extra] = args;
  if (extra.length > 0 || !sub || !['status', 'rebuild', 'reembed', 'ocr', 'faces'].includes(sub)) {
    throw new ReferentError(ErrorCode.UsageInvalid, 'Usage: referent index status | rebuild | reembed | ocr [--all] | faces');
  }
  const config = loadConfig();
  if (sub === 'reembed') return runReembed(config);
  if (sub === 'ocr') return runOcr(config, values.all === true);
  if (sub === 'faces') return runFaceIndex(config);
  const referent = await openReferent(config, { progress: createProgressBar() });
  try {
    if (sub === 'rebuild' && referent.indexReport.source === 'database') {
      process.stdout.write(`On PostgreSQL the image index is pgvector's, kept by the database itself (${await referent.index.describe()}): there is nothing to rebuild in this process.\n`);
      return 0;
    }
    if (sub === 'rebuild') {
      const rebuilt = await ItemIndex.rebuild(indexOptions(config, referent.catalog, referent.encoder.modelId, referent.encoder.dim));
      process.stdout.write(`Rebuilt the image index: ${rebuilt.size()} images.\n`);
      return 0;
    }
    const { catalog, encoder, index, indexReport, references } = referent;
    const lines = [
      `data folder   ${config.dataDir}`,
      `catalogue     schema v${await catalog.schemaVersion()}, ${await catalog.countItems()} images in ${plural((await catalog.listCollections()).length, 'collection')}`,
      `model         ${encoder.modelId} (${encoder.dim} dimensions)${encoder.isDemo ? ' — the demo encoder' : ''}`,
      `image index   ${await index.describe()}${indexReport.source === 'snapshot' ? `, loaded from snapshot (+${indexReport.replayed} replayed)` : indexReport.source === 'rebuilt' ? `, rebuilt (${indexReport.reason ?? 'no snapshot'})` : ''}`,
      `references    ${plural(references.size(), 'entity', 'entities')} with a reference, of ${await catalog.countEntities()}; refinement ${referent.method.refine ? 'on' : 'off'}`,
      ocrLine(config, await catalog.countOcr()),
      facesLine(await catalog.countFaces(), (await catalog.faceCollectionIds()).length),
    ];
    for (const c of await catalog.listCollections()) lines.push(`  ${c.name} (${c.kind}${c.enabled ? '' : ', disabled'}): ${await catalog.countItems(c.id)} images`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await referent.shutdown();
  }
}

function indexOptions(config: Config, catalog: Catalog, modelId: string, dim: number) {
  return { catalog, dir: config.indexDir, modelId, dim, hnsw: config.hnsw, progress: createProgressBar() };
}

async function runReembed(config: Config): Promise<number> {
  const stores = await openStores(config);
  const encoder = await loadEncoder(config, createProgressBar());
  try {
    const summary = await reembed({ ...stores, encoder }, { batchSize: config.batchSize, progress: createProgressBar() });
    for (const f of summary.failed.slice(0, 50)) process.stderr.write(`  failed item #${f.itemId}: ${f.reason} [${f.code}]\n`);
    if (!summary.switched) {
      process.stderr.write(`Re-embedded ${summary.embedded}; ${summary.failed.length} failed, so the data folder still uses the old model. Fix or forget those items and run again.\n`);
      return 1;
    }
    // On PostgreSQL the database indexes the new vectors as they are written; the embedded engine rebuilds its HNSW cache.
    const indexed = stores.vectorSearch ? await stores.catalog.countItemVectors(encoder.modelId) : (await ItemIndex.rebuild(indexOptions(config, stores.catalog, encoder.modelId, encoder.dim))).size();
    process.stdout.write(`Re-embedded ${summary.embedded} images with ${encoder.modelId}; the index holds ${indexed}. Old vectors dropped: ${summary.droppedVectors}.\n`);
    return 0;
  } finally {
    await stores.close();
    await encoder.close();
  }
}

function ocrLine(config: Config, c: { read: number; withText: number; pending: number }): string {
  return `labels (OCR)  ${c.read} images read, ${c.withText} with text, ${c.pending} waiting${config.ocr.enabled ? '' : ' (REFERENT_OCR is off)'}`;
}

/** Reads the labels on every image not read yet (all of them with --all), in the foreground with a progress bar. */
async function runOcr(config: Config, all: boolean): Promise<number> {
  const stores = await openStores(config);
  // An engine that cannot start is the command's error (below), not a log line.
  const log = (l: string) => void process.stderr.write(`${l}\n`);
  const queue = new OcrQueue(stores, () => PaddleOcr.create({ minConfidence: config.ocr.minConfidence }), { minConfidence: config.ocr.minConfidence, log, logEngineError: false });
  try {
    const forgotten = all ? await stores.catalog.resetOcr() : 0;
    if (forgotten) process.stdout.write(`Reading all ${forgotten} images again.\n`);
    const started = Date.now();
    const summary = await queue.drain(createProgressBar());
    if (queue.engineError) throw new ReferentError(ErrorCode.ModelInvalid, `The OCR engine could not start: ${queue.engineError}`);
    const seconds = (Date.now() - started) / 1000;
    const rate = summary.read ? ` (${((seconds * 1000) / summary.read).toFixed(0)} ms per image)` : '';
    process.stdout.write(`Read ${summary.read} images in ${seconds.toFixed(1)} s${rate}: ${summary.withText} with text, ${summary.failed} unreadable.\n${ocrLine(config, await stores.catalog.countOcr())}\n`);
    return 0;
  } finally {
    await queue.close();
    await stores.close();
  }
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
