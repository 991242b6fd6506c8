/**
 * An approximate or exact nearest-neighbour index over unit vectors, keyed by string ids.
 * Invariants: vectors are L2-normalised by the caller; `score` is the cosine similarity (dot product),
 * higher = better; results are sorted by descending score; an id is present at most once
 * (adding an existing id replaces its vector); removed ids never come back from `search`.
 */
export interface VectorHit {
  id: string;
  score: number;
}

export interface VectorIndex {
  readonly dim: number;
  /** Number of live (not removed) vectors. */
  size(): number;
  has(id: string): boolean;
  add(id: string, vector: Float32Array): void;
  /** Returns false when the id was not present. */
  remove(id: string): boolean;
  /**
   * Top-k by cosine. `filter`, when given, restricts results to ids for which it returns true.
   * A query vector must not be modified after it was searched with (implementations may keep a
   * converted copy of it for the next search).
   */
  search(query: Float32Array, k: number, filter?: (id: string) => boolean): VectorHit[];
  /** A copy of the vector stored for `id`, or undefined when absent. */
  vector(id: string): Float32Array | undefined;
  /** Live ids, in no particular order. */
  ids(): string[];
}
