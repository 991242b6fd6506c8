/**
 * Re-embedding every item with a new model, from the stored originals. Resumable: items that
 * already have a vector for the new model are skipped, and the catalogue switches to the new model
 * only once every item has one; the old vectors are then dropped and the new index is built.
 */
import type { Catalog } from '../catalog/catalog.js';
import type { Encoder } from '../encoder/encoder.js';
import { isReferentError } from '../errors.js';
import type { MediaStore } from '../media/media-store.js';
import { embedTexts } from '../references/embed-text.js';
import { encodeIsolated } from './encode-isolated.js';
import { silentProgress, type Progress } from '../progress.js';

export interface ReembedSummary {
  embedded: number;
  failed: Array<{ itemId: number; code: string; reason: string }>;
  /** True when every live item now has a vector for the new model and the catalogue switched. */
  switched: boolean;
  droppedVectors: number;
  /** Descriptions and review queries embedded with the new model. */
  embeddedTexts: number;
}

/** Descriptions (with their details) and review queries, which references and verdicts need. */
async function reembedTexts(catalog: Catalog, encoder: Encoder, batchSize: number, progress: Progress): Promise<number> {
  const pending = await catalog.textsWithoutVector(encoder.modelId, Number.MAX_SAFE_INTEGER);
  if (pending.length === 0) return 0;
  progress.start('Re-embedding descriptions', pending.length, 'texts');
  try {
    for (let start = 0; start < pending.length; start += batchSize) {
      const batch = pending.slice(start, start + batchSize);
      const embeddings = await embedTexts(encoder, batch.map((t) => t.body));
      batch.forEach((t, i) => catalog.putTextEmbedding(t.kind, t.id, embeddings[i]!));
      progress.tick(batch.length);
    }
  } finally {
    progress.stop();
  }
  return pending.length;
}

export async function reembed(
  deps: { catalog: Catalog; media: MediaStore; encoder: Encoder },
  options: { batchSize: number; progress?: Progress },
): Promise<ReembedSummary> {
  const { catalog, media, encoder } = deps;
  const progress = options.progress ?? silentProgress;
  const summary: ReembedSummary = { embedded: 0, failed: [], switched: false, droppedVectors: 0, embeddedTexts: 0 };
  const failedIds = new Set<number>();
  progress.start(`Re-embedding with ${encoder.displayName}`, await catalog.countItems() - await catalog.countItemVectors(encoder.modelId), 'items');
  try {
    for (;;) {
      const batch = (await catalog.itemsWithoutVector(encoder.modelId, options.batchSize + failedIds.size)).filter((i) => !failedIds.has(i.id));
      if (batch.length === 0) break;
      const work = batch.slice(0, options.batchSize);
      const originals = await Promise.all(work.map((item) => media.readOriginal(item.mediaKey).catch((error: unknown) => ({ error }))));
      const encoded = await encodeIsolated(encoder, originals);
      for (const [i, item] of work.entries()) {
        const result = encoded[i]!;
        if ('vector' in result) {
          await catalog.putItemVector(item.id, encoder.modelId, result.vector);
          summary.embedded++;
          continue;
        }
        failedIds.add(item.id);
        const err = result.error;
        summary.failed.push({ itemId: item.id, code: isReferentError(err) ? err.code : 'UNEXPECTED', reason: err instanceof Error ? err.message : String(err) });
      }
      progress.tick(work.length);
    }
  } finally {
    progress.stop();
  }
  summary.embeddedTexts = await reembedTexts(catalog, encoder, options.batchSize, progress);
  if (summary.failed.length === 0) {
    await catalog.setModel({ modelId: encoder.modelId, dim: encoder.dim });
    summary.droppedVectors = await catalog.deleteVectorsExcept(encoder.modelId);
    summary.switched = true;
  }
  return summary;
}
