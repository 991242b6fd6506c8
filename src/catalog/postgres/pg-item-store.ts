/**
 * ItemStore on PostgreSQL + pgvector: the tables of pg-migrations.ts version 2, in one schema.
 *
 * Vectors of every model share `item_vectors.embedding` (an untyped `vector`); each model gets its
 * own partial HNSW index on `embedding::vector(dim)` WHERE model_id = that model, made when the first
 * store for it opens (the dimension is known only then, and is recorded in `vector_models`). A search
 * orders by the same expression, so the planner can use that index, and runs with pgvector 0.8's
 * iterative index scan: when the collection filter throws candidates away, the scan goes on
 * (up to hnsw.max_scan_tuples) instead of stopping at ef_search, so a small collection still yields k.
 */
import { createHash } from 'node:crypto';
import type { Item, NewItem } from '../catalog.js';
import { checkName, unknownCollection } from '../roles/access-store.js';
import { byScore, checkVector, dimensionMismatch, duplicateItem, type ImageHit, type ItemStore } from '../roles/item-store.js';
import { quoteSchema } from './pg-migrations.js';
import { type PgDb, type PgQueryable, sqlState } from './pg-pool.js';

interface ItemRow {
  id: number;
  collection_id: number;
  hash: string;
  media_key: string;
  width: number;
  height: number;
  caption: string | null;
  entity_id: number | null;
  label: string | null;
  source_platform: string;
  source_channel: string | null;
  source_user: string | null;
  source_ref: string | null;
  created_ms: number;
}

const toItem = (r: ItemRow): Item => ({
  id: r.id,
  collectionId: r.collection_id,
  hash: r.hash,
  mediaKey: r.media_key,
  width: r.width,
  height: r.height,
  caption: r.caption,
  entityId: r.entity_id,
  entityLabel: r.label,
  source: { platform: r.source_platform, channel: r.source_channel, user: r.source_user, ref: r.source_ref },
  createdAt: r.created_ms,
});

/** pgvector's text form. A float32 printed as a JavaScript number reads back as the same float32. */
export const vectorLiteral = (v: Float32Array): string => `[${Array.from(v).join(',')}]`;

/** A string as an SQL literal (standard_conforming_strings is on since PostgreSQL 9.1). */
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** bigint[] in its text form, for `= ANY($n::bigint[])` (ids are integers, so nothing needs quoting). */
const idArray = (ids: Iterable<number>): string => `{${[...ids].map((id) => Math.trunc(id)).join(',')}}`;

/** HNSW's cap for the `vector` type. */
const MAX_DIM = 2000;
/** ef_search's range in pgvector; the iterative scan goes past it when the filter needs more. */
const EF_MIN = 40;
const EF_MAX = 1000;

export interface PgItemStoreOptions {
  schema?: string;
  modelId: string;
  dim: number;
}

export class PgItemStore implements ItemStore {
  private readonly s: string;
  private readonly model: string;
  /** The search expression, identical to the index's so the planner can use it. */
  private readonly embedding: string;
  private readonly itemSelect: string;

  private constructor(
    private readonly db: PgDb,
    schema: string,
    readonly modelId: string,
    readonly dim: number,
  ) {
    this.s = quoteSchema(schema);
    this.model = literal(modelId);
    this.embedding = `v.embedding::vector(${dim})`;
    this.itemSelect = `SELECT i.id, i.collection_id, i.hash, i.media_key, i.width, i.height, i.caption, i.entity_id, e.label,
      i.source_platform, i.source_channel, i.source_user, i.source_ref, round(extract(epoch FROM i.created_at) * 1000)::bigint AS created_ms
      FROM ${this.s}.items i LEFT JOIN ${this.s}.entities e ON e.id = i.entity_id`;
  }

  /**
   * `db` must have been migrated (migratePg) for this schema. Records the model's dimension on first
   * use and makes its HNSW index; MODEL_MISMATCH when the model was stored with another dimension.
   */
  static async open(db: PgDb, { schema = 'public', modelId, dim }: PgItemStoreOptions): Promise<PgItemStore> {
    if (!Number.isInteger(dim) || dim < 1 || dim > MAX_DIM) throw new RangeError(`dim must be an integer from 1 to ${MAX_DIM}, got ${dim}`);
    const store = new PgItemStore(db, schema, modelId, dim);
    const { s, model } = store;
    const indexName = `item_vectors_hnsw_${createHash('sha256').update(modelId).digest('hex').slice(0, 16)}`;
    // Simple-protocol statements only, under a lock: two processes opening the same model at once
    // must not both try to create its index.
    await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('referent.vector_models'))`);
      await tx.query(`INSERT INTO ${s}.vector_models (model_id, dim) VALUES (${model}, ${dim}) ON CONFLICT (model_id) DO NOTHING`);
      const [row] = await tx.query<{ dim: number }>(`SELECT dim FROM ${s}.vector_models WHERE model_id = ${model}`);
      if (row && row.dim !== dim) throw dimensionMismatch(modelId, row.dim, dim, `The PostgreSQL catalogue at ${db.where} (schema ${schema})`);
      await tx.query(
        `CREATE INDEX IF NOT EXISTS ${indexName} ON ${s}.item_vectors USING hnsw ((embedding::vector(${dim})) vector_cosine_ops) WHERE model_id = ${model}`,
      );
    });
    return store;
  }

  async addItem(item: NewItem, vector: Float32Array): Promise<Item> {
    checkVector(this.dim, vector);
    if (item.entityLabel) checkName(item.entityLabel, 'entity label');
    const s = this.s;
    const now = Date.now();
    const src = item.source ?? { platform: 'cli' };
    let id: number;
    try {
      id = await this.db.transaction(async (tx) => {
        let entityId: number | null = null;
        if (item.entityLabel) {
          // As in SQLite: the entity takes its collection's kind, and a forgotten label used again
          // starts a fresh entity under the same row. No row when the collection is unknown: the
          // item's own foreign key then says so.
          const [entity] = await tx.query<{ id: number }>(
            `INSERT INTO ${s}.entities AS e (collection_id, label, kind, created_at)
             SELECT c.id, $2, c.kind, to_timestamp($3::float8 / 1000) FROM ${s}.collections c WHERE c.id = $1
             ON CONFLICT (collection_id, label) DO UPDATE
               SET deleted_at = NULL, created_at = CASE WHEN e.deleted_at IS NULL THEN e.created_at ELSE excluded.created_at END
             RETURNING id`,
            [item.collectionId, item.entityLabel, now],
          );
          entityId = entity?.id ?? null;
        }
        const [row] = await tx.query<{ id: number }>(
          `INSERT INTO ${s}.items (collection_id, hash, media_key, width, height, caption, entity_id, source_platform, source_channel, source_user, source_ref, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, to_timestamp($12::float8 / 1000)) RETURNING id`,
          [item.collectionId, item.hash, item.mediaKey, item.width, item.height, item.caption ?? null, entityId, src.platform, src.channel ?? null, src.user ?? null, src.ref ?? null, now],
        );
        await tx.query(`INSERT INTO ${s}.item_vectors (item_id, model_id, embedding) VALUES ($1, $2, $3::vector)`, [row!.id, this.modelId, vectorLiteral(vector)]);
        return row!.id;
      });
    } catch (err) {
      // 23505: the live-hash unique index; 23503: the only foreign key a new item can miss, its collection.
      if (sqlState(err) === '23505') throw duplicateItem(item.collectionId, item.hash, err);
      if (sqlState(err) === '23503') throw unknownCollection(item.collectionId, err);
      throw err;
    }
    const stored = await this.getItem(id);
    if (!stored) throw new Error(`item ${id} vanished right after it was added`);
    return stored;
  }

  async findLiveItemByHash(collectionId: number, hash: string): Promise<Item | null> {
    const [row] = await this.db.query<ItemRow>(`${this.itemSelect} WHERE i.collection_id = $1 AND i.hash = $2 AND i.deleted_at IS NULL`, [collectionId, hash]);
    return row ? toItem(row) : null;
  }

  async getItem(itemId: number): Promise<Item | null> {
    const [row] = await this.db.query<ItemRow>(`${this.itemSelect} WHERE i.id = $1 AND i.deleted_at IS NULL`, [itemId]);
    return row ? toItem(row) : null;
  }

  async getItems(itemIds: readonly number[]): Promise<Map<number, Item>> {
    const out = new Map<number, Item>();
    if (itemIds.length === 0) return out;
    const rows = await this.db.query<ItemRow>(`${this.itemSelect} WHERE i.id = ANY($1::bigint[]) AND i.deleted_at IS NULL`, [idArray(itemIds)]);
    const byId = new Map(rows.map((r) => [r.id, toItem(r)] as const));
    // In the order asked, as SQLite gives them.
    for (const id of itemIds) {
      const item = byId.get(id);
      if (item) out.set(id, item);
    }
    return out;
  }

  async countItems(collectionId?: number): Promise<number> {
    const sql = `SELECT count(*) AS n FROM ${this.s}.items WHERE deleted_at IS NULL`;
    const [row] = await this.db.query<{ n: number }>(collectionId === undefined ? sql : `${sql} AND collection_id = $1`, collectionId === undefined ? [] : [collectionId]);
    return row?.n ?? 0;
  }

  async removeItem(itemId: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(`UPDATE ${this.s}.items SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id`, [itemId]);
      if (rows.length === 0) return false;
      await tx.query(`DELETE FROM ${this.s}.item_vectors WHERE item_id = $1`, [itemId]);
      return true;
    });
  }

  async searchImages(query: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<ImageHit[]> {
    checkVector(this.dim, query, 'query');
    const limit = Math.floor(k);
    if (!(limit > 0) || collectionIds?.size === 0) return []; // also catches a NaN k
    const { s, embedding, dim } = this;
    const filter = collectionIds ? `AND i.collection_id = ANY($3::bigint[])` : '';
    const sql = `SELECT v.item_id, ${embedding} <=> $1::vector(${dim}) AS distance
      FROM ${s}.item_vectors v JOIN ${s}.items i ON i.id = v.item_id
      WHERE v.model_id = ${this.model} AND i.deleted_at IS NULL ${filter}
      ORDER BY ${embedding} <=> $1::vector(${dim}) LIMIT $2`;
    const params = collectionIds ? [vectorLiteral(query), limit, idArray(collectionIds)] : [vectorLiteral(query), limit];
    const rows = await this.db.transaction(async (tx: PgQueryable) => {
      // SET LOCAL: these last to COMMIT, so a pooled connection goes back as it came.
      await tx.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
      await tx.query(`SET LOCAL hnsw.ef_search = ${Math.min(EF_MAX, Math.max(EF_MIN, limit))}`);
      return tx.query<{ item_id: number; distance: number }>(sql, params);
    });
    // relaxed_order may hand rows back slightly out of order: the order is restored here.
    return rows.map((r) => ({ itemId: r.item_id, score: 1 - r.distance })).sort(byScore);
  }
}
