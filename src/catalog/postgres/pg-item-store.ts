/**
 * ItemCatalog on PostgreSQL + pgvector: items, their vectors per model, the model in use, and the
 * index log followers replay; plus image search through pgvector's HNSW index (`searchImages`) and
 * vectors by item (`imageVectors`), which the product's image index on PostgreSQL is made of
 * (src/index/database-image-index.ts).
 *
 * - An item, its entity link, its caption (a text with its vectors), its vector and its index-log
 *   entry commit in one transaction; removal is a soft delete that drops the item's vectors and
 *   what was read off it, and logs the deletion.
 * - Vectors of every model share `item_vectors.embedding` (an untyped `vector`); each model has its
 *   own partial HNSW index on `embedding::vector(dim)` WHERE model_id = that model (PgModels). A
 *   search orders by the same expression, so the planner can use that index, and runs with pgvector
 *   0.8's iterative index scan: when the collection filter throws candidates away, the scan goes on
 *   (up to hnsw.max_scan_tuples) instead of stopping at ef_search, so a small collection still yields k.
 */
import type { IndexChange, Item, NewItem, StoredModel, TextEmbedding } from '../catalog.js';
import { ErrorCode, ReferentError } from '../../errors.js';
import { checkName, unknownCollection } from '../roles/access-store.js';
import { byScore, checkVector, duplicateItem, type ImageHit } from '../roles/item-store.js';
import { embeddingVectors, type PgEntities } from './pg-entity-store.js';
import { quoteSchema } from './pg-migrations.js';
import { type PgDb, sqlLiteral, sqlState } from './pg-pool.js';
import { atParam, inOrder, type ItemRow, itemSelect, toItem } from './pg-rows.js';
import { fromVectorBytes, type PgModels, vectorBytes, vectorLiteral } from './pg-vectors.js';
import type { PgWrite } from './pg-write.js';

/** ef_search's range in pgvector; the iterative scan goes past it when the filter needs more. */
const EF_MIN = 40;
const EF_MAX = 1000;

export class PgItems {
  private readonly s: string;
  private readonly select: string;

  constructor(
    private readonly db: PgDb,
    schema: string,
    private readonly write: PgWrite,
    private readonly models: PgModels,
    private readonly entities: PgEntities,
  ) {
    this.s = quoteSchema(schema);
    this.select = itemSelect(this.s);
  }

  async getModel(): Promise<StoredModel | null> {
    const rows = await this.db.query<{ key: string; value: string }>(`SELECT key, value FROM ${this.s}.meta WHERE key IN ('model_id', 'model_dim')`);
    const m = new Map(rows.map((r) => [r.key, r.value]));
    const modelId = m.get('model_id');
    const dim = m.get('model_dim');
    return modelId && dim ? { modelId, dim: Number(dim) } : null;
  }

  async setModel(model: StoredModel): Promise<void> {
    await this.write((tx) =>
      tx.query(`INSERT INTO ${this.s}.meta (key, value) VALUES ('model_id', $1), ('model_dim', $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [
        model.modelId,
        String(model.dim),
      ]),
    );
  }

  async findLiveItemByHash(collectionId: number, hash: string): Promise<Item | null> {
    const [row] = await this.db.query<ItemRow>(`${this.select} WHERE i.collection_id = $1 AND i.hash = $2 AND i.deleted_at IS NULL`, [collectionId, hash]);
    return row ? toItem(row) : null;
  }

  /**
   * Stores the item with its entity (created in the item's collection when its label is new), its
   * caption and the caption's vectors, its vector and an index-log entry, in one transaction.
   * CONFLICT when the collection already holds a live item with this hash; NOT_FOUND for an unknown
   * collection; MODEL_MISMATCH for a vector of another length than its model's; USAGE_INVALID for a
   * bad entity label.
   */
  async addItem(item: NewItem, vector: { modelId: string; data: Float32Array }, caption: TextEmbedding | null = null): Promise<Item> {
    if (item.entityLabel) checkName(item.entityLabel, 'entity label');
    await this.models.check(vector.modelId, [vector.data]);
    if (caption && item.caption) await this.models.check(caption.modelId, embeddingVectors(caption));
    const s = this.s;
    const now = Date.now();
    const src = item.source ?? { platform: 'cli' };
    let id: number;
    try {
      id = await this.write(async (tx) => {
        const entityId = item.entityLabel ? await this.entities.ensureEntityIn(tx, item.collectionId, item.entityLabel, now) : null;
        // A second live item with the hash is answered without a failed statement: a server logs
        // those with their text, and this one holds the caption.
        const [row] = await tx.query<{ id: number }>(
          `INSERT INTO ${s}.items (collection_id, hash, media_key, width, height, caption, entity_id, source_platform, source_channel, source_user, source_ref, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, ${atParam(12)})
           ON CONFLICT (collection_id, hash) WHERE deleted_at IS NULL DO NOTHING RETURNING id`,
          [item.collectionId, item.hash, item.mediaKey, item.width, item.height, item.caption ?? null, entityId, src.platform, src.channel ?? null, src.user ?? null, src.ref ?? null, now],
        );
        if (!row) throw duplicateItem(item.collectionId, item.hash);
        const itemId = row.id;
        if (item.caption) await this.entities.insertText(tx, { entityId, itemId, body: item.caption, source: 'caption', author: src.user ?? null }, caption, now, true);
        await this.entities.putVector(tx, 'item', itemId, vector.modelId, vector.data);
        tx.logItem(itemId, 'add');
        tx.logEntity(entityId);
        return itemId;
      });
    } catch (err) {
      // 23505: the live-hash unique index (ON CONFLICT above answers it first); 23503: the only
      // foreign key a new item can miss, its collection.
      if (sqlState(err) === '23505') throw duplicateItem(item.collectionId, item.hash, err);
      if (sqlState(err) === '23503') throw unknownCollection(item.collectionId, err);
      throw err;
    }
    const stored = await this.getItem(id);
    if (!stored) throw new Error(`item ${id} vanished right after it was added`);
    return stored;
  }

  /** Soft-deletes a live item, drops its vectors and what was read off it, logs the deletion and its entity. */
  async removeItem(itemId: number): Promise<boolean> {
    const s = this.s;
    return this.write(async (tx) => {
      const [row] = await tx.query<{ entity_id: number | null }>(`UPDATE ${s}.items SET deleted_at = ${atParam(2)} WHERE id = $1 AND deleted_at IS NULL RETURNING entity_id`, [
        itemId,
        Date.now(),
      ]);
      if (!row) return false;
      tx.logEntity(row.entity_id);
      await tx.query(`DELETE FROM ${s}.item_vectors WHERE item_id = $1`, [itemId]);
      // A removed image takes what was read off it along (SQLite: the items_ocr_forget trigger).
      await tx.query(`DELETE FROM ${s}.item_identifiers WHERE item_id = $1`, [itemId]);
      await tx.query(`DELETE FROM ${s}.item_ocr WHERE item_id = $1`, [itemId]);
      tx.logItem(itemId, 'del');
      return true;
    });
  }

  async getItem(itemId: number): Promise<Item | null> {
    const [row] = await this.db.query<ItemRow>(`${this.select} WHERE i.id = $1 AND i.deleted_at IS NULL`, [itemId]);
    return row ? toItem(row) : null;
  }

  /** The live ones among the ids, in the order asked. */
  async getItems(itemIds: readonly number[]): Promise<Map<number, Item>> {
    if (itemIds.length === 0) return new Map();
    const rows = await this.db.query<ItemRow>(`${this.select} WHERE i.id = ANY($1::bigint[]) AND i.deleted_at IS NULL`, [[...new Set(itemIds)]]);
    const items = inOrder(itemIds, rows, (r) => r.id);
    return new Map([...items].map(([id, r]) => [id, toItem(r)]));
  }

  async countItems(collectionId?: number): Promise<number> {
    const sql = `SELECT count(*) AS n FROM ${this.s}.items WHERE deleted_at IS NULL`;
    const [row] = await this.db.query<{ n: number }>(collectionId === undefined ? sql : `${sql} AND collection_id = $1`, collectionId === undefined ? [] : [collectionId]);
    return row?.n ?? 0;
  }

  async countItemVectors(modelId: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${this.s}.item_vectors v JOIN ${this.s}.items i ON i.id = v.item_id WHERE v.model_id = $1 AND i.deleted_at IS NULL`,
      [modelId],
    );
    return row?.n ?? 0;
  }

  async itemVectors(modelId: string, afterItemId: number, limit: number): Promise<Array<{ itemId: number; collectionId: number; vector: Float32Array }>> {
    const rows = await this.db.query<{ item_id: number; collection_id: number; vec: Buffer }>(
      `SELECT v.item_id, i.collection_id, ${vectorBytes('v.embedding')} AS vec FROM ${this.s}.item_vectors v JOIN ${this.s}.items i ON i.id = v.item_id
       WHERE v.model_id = $1 AND i.deleted_at IS NULL AND v.item_id > $2 ORDER BY v.item_id LIMIT $3`,
      [modelId, afterItemId, limit],
    );
    return rows.map((r) => ({ itemId: r.item_id, collectionId: r.collection_id, vector: fromVectorBytes(r.vec) }));
  }

  /** The vectors of these live items for a model (re-ranking, "more like this"); absent ones are left out. */
  async imageVectors(modelId: string, itemIds: readonly number[]): Promise<Map<number, Float32Array>> {
    const ids = [...new Set(itemIds)].filter((id) => Number.isSafeInteger(id) && id > 0);
    if (ids.length === 0) return new Map();
    const rows = await this.db.query<{ item_id: number; vec: Buffer }>(
      `SELECT v.item_id, ${vectorBytes('v.embedding')} AS vec FROM ${this.s}.item_vectors v JOIN ${this.s}.items i ON i.id = v.item_id
       WHERE v.model_id = $1 AND i.deleted_at IS NULL AND v.item_id = ANY($2::bigint[])`,
      [modelId, ids],
    );
    return new Map(rows.map((r) => [r.item_id, fromVectorBytes(r.vec)]));
  }

  async itemsWithoutVector(modelId: string, limit: number): Promise<Item[]> {
    const rows = await this.db.query<ItemRow>(
      `${this.select} WHERE i.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM ${this.s}.item_vectors v WHERE v.item_id = i.id AND v.model_id = $1) ORDER BY i.id LIMIT $2`,
      [modelId, limit],
    );
    return rows.map(toItem);
  }

  /** Stores or replaces an item's vector for a model (re-embedding). NOT_FOUND for an unknown item. */
  async putItemVector(itemId: number, modelId: string, data: Float32Array): Promise<void> {
    await this.models.check(modelId, [data]);
    try {
      await this.write((tx) => this.entities.putVector(tx, 'item', itemId, modelId, data));
    } catch (err) {
      if (sqlState(err) === '23503') throw new ReferentError(ErrorCode.NotFound, `There is no image #${itemId}.`, { cause: err, details: { itemId } });
      throw err;
    }
  }

  /** Drops the vectors (of images, texts, phrases and verdicts) of every other model; the models stay recorded with their index. */
  async deleteVectorsExcept(modelId: string): Promise<number> {
    const s = this.s;
    const [row] = await this.write((tx) =>
      tx.query<{ n: number }>(
        `WITH a AS (DELETE FROM ${s}.item_vectors WHERE model_id <> $1 RETURNING 1), b AS (DELETE FROM ${s}.text_vectors WHERE model_id <> $1 RETURNING 1)
         SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) AS n`,
        [modelId],
      ),
    );
    return row?.n ?? 0;
  }

  async lastLogSeq(): Promise<number> {
    const [row] = await this.db.query<{ s: number }>(`SELECT COALESCE(MAX(seq), 0) AS s FROM ${this.s}.index_log`);
    return row?.s ?? 0;
  }

  /** Log entries past `seq` in seq order (they commit in that order: pg-write.ts), with the item's vector for the model on additions. */
  async changesSince(seq: number, modelId: string): Promise<IndexChange[]> {
    const s = this.s;
    const rows = await this.db.query<{ seq: number; item_id: number; collection_id: number; op: 'add' | 'del'; vec: Buffer | null }>(
      `SELECT l.seq, l.item_id, i.collection_id, l.op, CASE WHEN l.op = 'add' THEN ${vectorBytes('v.embedding')} END AS vec
       FROM ${s}.index_log l JOIN ${s}.items i ON i.id = l.item_id
       LEFT JOIN ${s}.item_vectors v ON v.item_id = l.item_id AND v.model_id = $1
       WHERE l.seq > $2 ORDER BY l.seq`,
      [modelId, seq],
    );
    return rows.map((r) => ({ seq: r.seq, itemId: r.item_id, collectionId: r.collection_id, op: r.op, vector: r.vec ? fromVectorBytes(r.vec) : null }));
  }

  /**
   * The k live items whose vectors for the model are nearest the query by cosine, best first,
   * optionally only those of `collectionIds` (an empty set finds nothing; so does a model with no
   * vectors). MODEL_MISMATCH for a query of another length than the model's vectors.
   */
  async searchImages(modelId: string, query: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<ImageHit[]> {
    const dim = await this.models.dimOf(modelId);
    if (dim === null) return [];
    checkVector(dim, query, 'query');
    const limit = Math.floor(k);
    if (!(limit > 0) || collectionIds?.size === 0) return []; // also catches a NaN k
    const s = this.s;
    const embedding = `v.embedding::vector(${dim})`;
    const filter = collectionIds ? `AND i.collection_id = ANY($3::bigint[])` : '';
    // The model inlined as a literal: the planner proves the partial index's predicate from it.
    const sql = `SELECT v.item_id, ${embedding} <=> $1::vector(${dim}) AS distance
      FROM ${s}.item_vectors v JOIN ${s}.items i ON i.id = v.item_id
      WHERE v.model_id = ${sqlLiteral(modelId)} AND i.deleted_at IS NULL ${filter}
      ORDER BY ${embedding} <=> $1::vector(${dim}) LIMIT $2`;
    const params = collectionIds ? [vectorLiteral(query), limit, [...collectionIds]] : [vectorLiteral(query), limit];
    // One round trip: the statements of one simple query run in one implicit transaction, and SET LOCAL
    // lasts only to its end, so a pooled connection goes back as it came. The last statement's rows count.
    const settings = `SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = ${Math.min(EF_MAX, Math.max(EF_MIN, limit))};`;
    const rows = await this.db.query<{ item_id: number; distance: number }>(`${settings} ${sql}`, params);
    // relaxed_order may hand rows back slightly out of order: the order is restored here.
    return rows.map((r) => ({ itemId: r.item_id, score: 1 - r.distance })).sort(byScore);
  }
}
