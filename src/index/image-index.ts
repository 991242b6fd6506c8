/**
 * What search reads images from: the image index of one model, whichever engine keeps it.
 *
 * - The embedded engine (SQLite) keeps an HNSW graph in this process, a cache of the catalogue's
 *   item vectors that follows the catalogue's index log (item-index.ts, with snapshots on disk).
 * - PostgreSQL keeps pgvector's HNSW index in the database itself (database-image-index.ts): every
 *   Referent process searches the same index, so there is nothing to follow, build or snapshot here.
 *
 * Search and the ingest/entity flows take this interface, so neither knows which engine it runs on.
 */
import type { CandidateVectors } from '../method/refine.js';

export interface ItemHit {
  itemId: number;
  /** Cosine similarity to the query; higher = better. */
  score: number;
}

export interface ImageIndex {
  /**
   * Brings the index up to what the catalogue has committed (this process's writes and others'), so
   * the next search sees them. Returns how many changes were applied (0 where the database searches).
   */
  catchUp(): Promise<number>;
  /** Top-k items by cosine, best first, optionally only those of some collections. */
  search(query: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<ItemHit[]>;
  /** Items' vectors for re-ranking, as one batch of dot products; items not in the index are left out. */
  vectorsOf(itemIds: readonly number[]): Promise<CandidateVectors>;
  /** One item's vector ("more like this"); undefined when the item is not in the index. */
  itemVector(itemId: number): Promise<Float32Array | undefined>;
  /** Items in the index. */
  count(): Promise<number>;
  /** True while the item is in the index. */
  holds(itemId: number): Promise<boolean>;
  /** Writes a snapshot where the engine keeps one (force: even when nothing changed since the last). */
  save(force?: boolean): Promise<void>;
  /** Saves when more than `changes` log entries are not in the snapshot (bounds replay after a crash). */
  saveIfBehind(changes: number): Promise<void>;
  /** Rewrites a snapshot deleted or altered under the process; returns what was wrong, or null. */
  repairSnapshot(): Promise<'missing' | 'changed' | null>;
  /** One line for `referent index status`: what the index is and holds. */
  describe(): Promise<string>;
}
