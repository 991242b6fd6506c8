/**
 * The lexical slice of the storage seam, OCR readings and labels: what was read off each image, and
 * the identifier and label half of lexical search. Async, so the same interface is served by the
 * embedded SQLite catalogue (sqlite-lexical-store.ts) and by PostgreSQL with a pg_trgm index
 * (postgres/pg-lexical-store.ts); both pass test/catalog/lexical-store.contract.ts.
 *
 * BM25 word matching over captions, OCR text and descriptions (the `words` of today's
 * LexicalCatalog.lexicalMatches) is NOT part of this slice: it comes with a later one.
 *
 * Invariants every implementation keeps:
 * - A method that resolved has committed its write: another process reading the same store sees it.
 * - Only live items are read, written or returned; a removed item has no reading.
 * - The collection filter is exact (an empty set finds nothing).
 */
import type { NewOcr, StoredOcr } from '../catalog.js';

export interface LabelQuery {
  /** Normalised identifiers of the query (normalizeIdentifier / identifiersIn). */
  identifiers: readonly string[];
  /** Label keys of what the query may be naming (labelKey of its word runs). */
  labels: readonly string[];
  collectionIds?: ReadonlySet<number>;
}

export interface LabelMatches {
  /**
   * Live images whose own OCR carries one of the identifiers, exactly (item_identifiers) or as a
   * substring of the run-together OCR characters ('P31552' in 'P-31552WASHER10MM'), with the first
   * such identifier of the query and the OCR line it is on.
   */
  identifiers: Map<number, { identifier: string; line: string }>;
  /** Live images of the live entities whose labelKey is one of `labels`, with that entity and label. */
  named: Map<number, { entityId: number; label: string }>;
}

export interface LexicalStore {
  /** Stores what was read off an image, replacing an earlier reading. False when the item is gone. */
  putOcr(itemId: number, ocr: NewOcr): Promise<boolean>;
  /** The reading of a live item, or null. Identifiers in byte order. */
  ocrOf(itemId: number): Promise<StoredOcr | null>;
  matchLabels(query: LabelQuery): Promise<LabelMatches>;
}

/** Images one identifier may reach (a label printed on every photo of a bin is still one answer). */
export const PER_IDENTIFIER = 200;
/** Images of one entity that a label match reaches. */
export const PER_ENTITY = 50;
