/**
 * The items-and-vectors slice of the storage seam: images of a collection, each with one embedding of
 * the store's model, and image search over those embeddings. Async, so the same interface is served
 * by the embedded SQLite catalogue with an exact scan (sqlite-item-store.ts) and by PostgreSQL with
 * pgvector's HNSW index (postgres/pg-item-store.ts); both pass test/catalog/item-store.contract.ts.
 *
 * Invariants every implementation keeps:
 * - A method that resolved has committed its write: another process reading the same store sees it.
 *   An item and its vector are written in one transaction: there is never one without the other.
 * - A store serves one model (`modelId`) of one dimension (`dim`), fixed when the store is opened; a
 *   store opened again with another dimension for the same model is refused (MODEL_MISMATCH), and so
 *   is a vector or query of the wrong length.
 * - Vectors are unit length (the caller normalises them); `score` is their cosine, higher = better,
 *   and results come best first.
 * - Removal is a soft delete: a removed item is never returned again by getItem(s), the hash lookup,
 *   the counts or searchImages, and its image may be added to the collection again.
 * - One live item per content hash per collection: adding a second is refused (CONFLICT).
 * - The collection filter of searchImages is exact: with k results wanted and at least k live items
 *   in the chosen collections, k come back, however small those collections are next to the rest.
 */
import { ErrorCode, ReferentError } from '../../errors.js';
import type { Item, NewItem } from '../catalog.js';

export interface ImageHit {
  itemId: number;
  /** Cosine similarity of the query and the item's vector. */
  score: number;
}

export interface ItemStore {
  readonly modelId: string;
  readonly dim: number;
  /**
   * Stores the item (and its entity, created in the item's collection when its label is new) with
   * its vector, in one transaction. CONFLICT when the collection already holds a live item with this
   * hash; NOT_FOUND for an unknown collection; MODEL_MISMATCH for a vector of another length.
   */
  addItem(item: NewItem, vector: Float32Array): Promise<Item>;
  /** The live item with this content hash in the collection, or null. */
  findLiveItemByHash(collectionId: number, hash: string): Promise<Item | null>;
  /** Null when there is none or it was removed. */
  getItem(itemId: number): Promise<Item | null>;
  /** The live ones among `itemIds`, keyed by id (unknown and removed ids are left out). */
  getItems(itemIds: readonly number[]): Promise<Map<number, Item>>;
  /** Live items, of one collection or of all. */
  countItems(collectionId?: number): Promise<number>;
  /** Soft-deletes the item and drops its vector (it leaves search at once); false when it was not live. */
  removeItem(itemId: number): Promise<boolean>;
  /**
   * The k live items whose vectors are nearest the query by cosine, best first, optionally only
   * those of `collectionIds` (an empty set finds nothing). k < 1 finds nothing.
   */
  searchImages(query: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<ImageHit[]>;
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

/** Opening a store with another dimension than the one its model's vectors were stored with. */
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
