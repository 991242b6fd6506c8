/**
 * The entities' fused reference vectors on PostgreSQL (ReferenceVectorStore of
 * src/references/reference-graphs.ts): the reference index every Referent process on the database
 * shares, instead of each holding HNSW graphs of its own.
 *
 * - A row per entity, model and modality ('text' | 'image'), with the entity's collection (for the
 *   filtered search) and the entity-log seq it was computed at: a write never replaces a row computed
 *   at a later seq, so a slow process cannot put an older reference back.
 * - One partial HNSW index per model and modality (cosine, on `embedding::vector(dim)`), made the
 *   first time the pair is written or searched, under the models' advisory lock.
 * - Derived data: forgetting an entity deletes its rows (pg-entity-store.ts) in the forget's own
 *   transaction; any other row is recomputed by the next process that opens or follows the log.
 */
import { createHash } from 'node:crypto';
import type { Modality, StoredReference } from '../../references/reference-graphs.js';
import { checkVector } from '../roles/item-store.js';
import { quoteSchema } from './pg-migrations.js';
import { type PgDb, sqlLiteral } from './pg-pool.js';
import { fromVectorBytes, type PgModels, vectorBytes, vectorLiteral } from './pg-vectors.js';

/** Rows per INSERT statement when storing references. */
const BATCH = 500;
const EF_MIN = 40;
const EF_MAX = 1000;

const indexName = (modelId: string, modality: Modality): string =>
  `entity_references_hnsw_${createHash('sha256').update(`${modality}\0${modelId}`).digest('hex').slice(0, 16)}`;

export class PgReferenceStore {
  private readonly s: string;
  /** model and modality pairs whose HNSW index this process made sure of. */
  private readonly indexed = new Set<string>();

  constructor(
    private readonly db: PgDb,
    schema: string,
    private readonly models: PgModels,
  ) {
    this.s = quoteSchema(schema);
  }

  async putReferences(modelId: string, rows: readonly StoredReference[]): Promise<void> {
    if (rows.length === 0) return;
    const stored = rows.filter((r) => r.vector);
    if (stored.length > 0) {
      // References have the model's dimension; the model's record and the pair's index come first.
      const dim = await this.models.check(modelId, stored.map((r) => r.vector!));
      for (const modality of new Set(stored.map((r) => r.modality))) await this.ensureIndex(modelId, modality, dim);
    }
    const s = this.s;
    const model = sqlLiteral(modelId);
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < stored.length; i += BATCH) {
        const values = stored.slice(i, i + BATCH).map(
          (r) => `(${r.entityId}, ${model}, ${sqlLiteral(r.modality)}, ${r.collectionId}, ${r.basedOn}, ${sqlLiteral(vectorLiteral(r.vector!))}::vector)`,
        );
        await tx.query(
          `INSERT INTO ${s}.entity_references (entity_id, model_id, modality, collection_id, based_on, embedding) VALUES ${values.join(', ')}
           ON CONFLICT (model_id, modality, entity_id) DO UPDATE SET collection_id = EXCLUDED.collection_id, based_on = EXCLUDED.based_on, embedding = EXCLUDED.embedding
           WHERE ${s}.entity_references.based_on <= EXCLUDED.based_on`,
        );
      }
      for (const r of rows.filter((x) => !x.vector)) {
        await tx.query(`DELETE FROM ${s}.entity_references WHERE model_id = $1 AND modality = $2 AND entity_id = $3 AND based_on <= $4`, [modelId, r.modality, r.entityId, r.basedOn]);
      }
    });
  }

  async storedReferences(modelId: string): Promise<Array<{ entityId: number; modality: Modality; vector: Float32Array }>> {
    const rows = await this.db.query<{ entity_id: number; modality: Modality; vec: Buffer }>(
      `SELECT entity_id, modality, ${vectorBytes('embedding')} AS vec FROM ${this.s}.entity_references WHERE model_id = $1 ORDER BY modality, entity_id`,
      [modelId],
    );
    return rows.map((r) => ({ entityId: r.entity_id, modality: r.modality, vector: fromVectorBytes(r.vec) }));
  }

  /** Entities nearest q by cosine through the pair's HNSW index (iterative scans under a collection filter, as for images). */
  async searchReferences(modelId: string, modality: Modality, q: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<number[]> {
    const dim = await this.models.dimOf(modelId);
    const limit = Math.floor(k);
    if (dim === null || !(limit > 0) || collectionIds?.size === 0) return [];
    checkVector(dim, q, 'query');
    await this.ensureIndex(modelId, modality, dim);
    const embedding = `embedding::vector(${dim})`;
    const filter = collectionIds ? `AND collection_id = ANY($3::bigint[])` : '';
    const settings = `SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = ${Math.min(EF_MAX, Math.max(EF_MIN, limit))};`;
    // Model and modality inlined as literals: the planner proves the partial index's predicate from them.
    const sql = `${settings} SELECT entity_id, ${embedding} <=> $1::vector(${dim}) AS distance FROM ${this.s}.entity_references
      WHERE model_id = ${sqlLiteral(modelId)} AND modality = ${sqlLiteral(modality)} ${filter}
      ORDER BY ${embedding} <=> $1::vector(${dim}) LIMIT $2`;
    const params = collectionIds ? [vectorLiteral(q), limit, [...collectionIds]] : [vectorLiteral(q), limit];
    const rows = await this.db.query<{ entity_id: number; distance: number }>(sql, params);
    // relaxed_order may hand rows back slightly out of order.
    return rows.sort((a, b) => a.distance - b.distance || a.entity_id - b.entity_id).map((r) => r.entity_id);
  }

  private async ensureIndex(modelId: string, modality: Modality, dim: number): Promise<void> {
    const key = `${modality}\0${modelId}`;
    if (this.indexed.has(key)) return;
    await this.db.transaction(async (tx) => {
      // The models' lock: two processes meeting a new pair at once must not both create its index.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('referent.vector_models'))`);
      await tx.query(
        `CREATE INDEX IF NOT EXISTS ${indexName(modelId, modality)} ON ${this.s}.entity_references USING hnsw ((embedding::vector(${dim})) vector_cosine_ops)
         WHERE model_id = ${sqlLiteral(modelId)} AND modality = ${sqlLiteral(modality)}`,
      );
    });
    this.indexed.add(key);
  }
}
