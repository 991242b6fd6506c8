/**
 * ItemStore over the embedded SQLite catalogue: rows and vectors are the catalogue's, and search is
 * an exact scan (ExactIndex) of the model's live vectors, kept in step with the catalogue by reading
 * its index log before each search, as ItemIndex does, so writes by another process are seen too.
 * SqliteCatalog itself is untouched. The product's own search stays ItemIndex (HNSW + snapshots); this
 * is the role's reference implementation, exact by construction.
 */
import { ExactIndex } from '../../index/exact-index.js';
import type { Catalog } from '../catalog.js';
import { unknownCollection } from './access-store.js';
import { byScore, checkVector, dimensionMismatch, duplicateItem, type ImageHit, type ItemStore } from './item-store.js';

type SqliteItemSource = Pick<
  Catalog,
  'path' | 'getModel' | 'setModel' | 'addItem' | 'findLiveItemByHash' | 'getItem' | 'getItems' | 'countItems' | 'removeItem' | 'itemVectors' | 'lastLogSeq' | 'changesSince'
>;

export interface ItemStoreModel {
  modelId: string;
  dim: number;
}

/**
 * Records the model in the catalogue when it has none yet; MODEL_MISMATCH when it holds this model
 * with another dimension.
 */
export function sqliteItemStore(catalog: SqliteItemSource, { modelId, dim }: ItemStoreModel): ItemStore {
  const stored = catalog.getModel();
  if (stored && stored.modelId === modelId && stored.dim !== dim) throw dimensionMismatch(modelId, stored.dim, dim, `The catalogue ${catalog.path}`);
  if (!stored) catalog.setModel({ modelId, dim });

  const index = new ExactIndex(dim);
  const collectionOf = new Map<number, number>();
  // The watermark is read first: anything committed while the vectors load is replayed after.
  let watermark = catalog.lastLogSeq();
  for (const { itemId, collectionId, vector } of catalog.itemVectors(modelId)) {
    index.add(String(itemId), vector);
    collectionOf.set(itemId, collectionId);
  }
  const catchUp = () => {
    for (const change of catalog.changesSince(watermark, modelId)) {
      if (change.op === 'del') {
        index.remove(String(change.itemId));
        collectionOf.delete(change.itemId);
      } else if (change.vector) {
        index.add(String(change.itemId), change.vector);
        collectionOf.set(change.itemId, change.collectionId);
      }
      watermark = change.seq;
    }
  };
  catchUp();

  return {
    modelId,
    dim,
    // `async` so that a synchronous throw arrives as a rejection, as it does from Postgres.
    addItem: async (item, vector) => {
      checkVector(dim, vector);
      try {
        return catalog.addItem(item, { modelId, data: vector });
      } catch (err) {
        const code = (err as { code?: string }).code;
        // The live-hash unique index, and the only foreign key a new item can miss: its collection.
        if (code === 'SQLITE_CONSTRAINT_UNIQUE') throw duplicateItem(item.collectionId, item.hash, err);
        if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw unknownCollection(item.collectionId, err);
        throw err;
      }
    },
    findLiveItemByHash: async (collectionId, hash) => catalog.findLiveItemByHash(collectionId, hash),
    getItem: async (id) => catalog.getItem(id),
    getItems: async (ids) => catalog.getItems(ids),
    countItems: async (collectionId) => catalog.countItems(collectionId),
    removeItem: async (id) => catalog.removeItem(id),
    searchImages: async (query, k, collectionIds): Promise<ImageHit[]> => {
      checkVector(dim, query, 'query');
      if (collectionIds?.size === 0) return [];
      catchUp();
      const filter = collectionIds ? (id: string) => collectionIds.has(collectionOf.get(Number(id)) ?? -1) : undefined;
      return index
        .search(query, k, filter)
        .map((h) => ({ itemId: Number(h.id), score: h.score }))
        .sort(byScore);
    },
  };
}
