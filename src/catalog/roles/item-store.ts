/**
 * Checks and orderings both catalogue engines share for items and their vectors, so they refuse the
 * same input with the same error (the ItemCatalog of catalog.ts is served by sqlite-catalog.ts and
 * postgres/pg-item-store.ts; test/catalog/item-catalog.contract.ts runs it on both):
 * - a vector of another length than its model's, or with a value that is not finite: MODEL_MISMATCH;
 * - a second live item with the same content hash in a collection: CONFLICT;
 * - search hits best first, ties by item id.
 */
import { ErrorCode, ReferentError } from '../../errors.js';

/** One image found by a vector search. */
export interface ImageHit {
  itemId: number;
  /** Cosine similarity of the query and the item's vector. */
  score: number;
}

/** Both engines check vectors with this, so they refuse the same ones the same way. */
export function checkVector(dim: number, vector: Float32Array, what = 'vector'): void {
  if (vector.length !== dim) {
    throw new ReferentError(ErrorCode.ModelMismatch, `The ${what} has ${vector.length} dimensions; this store holds ${dim}-dimensional vectors.`, {
      details: { expected: dim, got: vector.length },
    });
  }
  if (!vector.every(Number.isFinite)) {
    throw new ReferentError(ErrorCode.ModelMismatch, `The ${what} holds a value that is not a finite number.`, { details: { dim } });
  }
}

/** Vectors of a model given with another dimension than the one its vectors were stored with. */
export function dimensionMismatch(modelId: string, stored: number, asked: number, where: string): ReferentError {
  return new ReferentError(
    ErrorCode.ModelMismatch,
    `${where} holds ${stored}-dimensional vectors for model "${modelId.slice(0, 80)}", not ${asked}: use the model those vectors came from, or re-embed under another model id.`,
    { details: { modelId, expected: stored, got: asked } },
  );
}

export function duplicateItem(collectionId: number, hash: string, cause?: unknown): ReferentError {
  return new ReferentError(ErrorCode.Conflict, `Collection ${collectionId} already holds this image (hash ${hash.slice(0, 16)}).`, {
    cause,
    details: { collectionId, hash },
  });
}

/** Best first; equal scores by id, so both engines order ties alike. */
export const byScore = (a: ImageHit, b: ImageHit): number => b.score - a.score || a.itemId - b.itemId;
