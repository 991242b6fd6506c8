/**
 * The catalogue: the source of truth for collections, items, entities, texts, vectors, feedback and
 * audit. Every index is a cache of what is here and can be rebuilt from it.
 * Invariants: a write that returned has been committed (durable in WAL); an item and its vector,
 * caption and index-log entry are written in one transaction; vectors are unit length.
 */
export type CollectionKind = 'part' | 'person' | 'other';

export interface Collection {
  id: number;
  name: string;
  kind: CollectionKind;
  enabled: boolean;
}

export interface ItemSource {
  platform: string;
  channel?: string | null;
  user?: string | null;
  ref?: string | null;
}

export interface Item {
  id: number;
  collectionId: number;
  hash: string;
  mediaKey: string;
  width: number;
  height: number;
  caption: string | null;
  entityId: number | null;
  entityLabel: string | null;
  source: ItemSource;
  createdAt: number;
}

export interface NewItem {
  collectionId: number;
  /** Content hash of the original bytes (dedupe key within a collection). */
  hash: string;
  mediaKey: string;
  width: number;
  height: number;
  caption?: string | null;
  /** Label of the entity this image shows; created in the item's collection when new. */
  entityLabel?: string | null;
  source?: ItemSource;
}

export interface StoredModel {
  modelId: string;
  dim: number;
}

export interface IndexChange {
  seq: number;
  itemId: number;
  collectionId: number;
  op: 'add' | 'del';
  /** The item's vector for the requested model; null for deletions or when the item has none. */
  vector: Float32Array | null;
}

export interface Catalog {
  readonly path: string;
  schemaVersion(): number;
  /** The model whose vectors this catalogue serves; null until the first item is stored. */
  getModel(): StoredModel | null;
  setModel(model: StoredModel): void;

  ensureCollection(name: string, kind?: CollectionKind): Collection;
  findCollection(name: string): Collection | null;
  listCollections(): Collection[];

  findLiveItemByHash(collectionId: number, hash: string): Item | null;
  /** Stores the item, its caption, its entity link, its vector and an index-log entry atomically. */
  addItem(item: NewItem, vector: { modelId: string; data: Float32Array }): Item;
  /** Soft-deletes the item, drops its vectors and logs the deletion; false when not live. */
  removeItem(itemId: number): boolean;
  getItem(itemId: number): Item | null;
  getItems(itemIds: readonly number[]): Map<number, Item>;
  countItems(collectionId?: number): number;
  /** [itemId, collectionId] of every live item. */
  itemCollections(): Array<[number, number]>;

  countItemVectors(modelId: string): number;
  /** Live items' vectors for a model, in item order (for rebuilding an index). */
  itemVectors(modelId: string): IterableIterator<{ itemId: number; collectionId: number; vector: Float32Array }>;
  /** Live items that have no vector for this model yet (re-embedding), at most `limit`. */
  itemsWithoutVector(modelId: string, limit: number): Item[];
  putItemVector(itemId: number, modelId: string, data: Float32Array): void;
  /** Drops every vector of other models (after a completed re-embed). Returns how many. */
  deleteVectorsExcept(modelId: string): number;

  lastLogSeq(): number;
  changesSince(seq: number, modelId: string): IndexChange[];

  close(): void;
}
