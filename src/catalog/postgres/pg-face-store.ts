/**
 * FaceCatalog on PostgreSQL + pgvector (sqlite-faces.ts on SQLite): the faces switch per person
 * collection, the images processed, and each face's box, detection score and descriptor.
 *
 * - Descriptors are a `vector(128)` column with one HNSW index (cosine, migration 6); a search within
 *   some collections runs with pgvector 0.8's iterative index scan, as image search does
 *   (pg-item-store.ts), so a small collection among large ones still yields its k nearest.
 * - putFaces locks the image and its collection's switch (FOR SHARE) before it writes, so a removal
 *   or a `faces off` running at the same time either waits for it and then deletes what it wrote, or
 *   commits first and the faces are refused (false): no face outlives its image or its switch.
 * - A removed or forgotten image loses its faces through migration 6's trigger on items.deleted_at,
 *   in the transaction of whichever store removes it.
 */
import type { Collection, FaceHit, Item, NewFace, StoredFace } from '../catalog.js';
import { bySimilarity, checkFaces, checkPersonCollection, FACE_DIM } from '../roles/face-store.js';
import { checkVector } from '../roles/item-store.js';
import { quoteSchema } from './pg-migrations.js';
import type { PgDb } from './pg-pool.js';
import { atParam, type ItemRow, itemSelect, toItem } from './pg-rows.js';
import { fromVectorBytes, vectorBytes, vectorLiteral } from './pg-vectors.js';
import type { PgWrite } from './pg-write.js';

const EF_MIN = 40;
const EF_MAX = 1000;

interface FaceRow {
  id: number;
  item_id: number;
  collection_id: number;
  entity_id: number | null;
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
  vec: Buffer;
}

const toFace = (r: FaceRow): StoredFace => ({
  id: r.id,
  itemId: r.item_id,
  collectionId: r.collection_id,
  entityId: r.entity_id,
  box: { x: r.x, y: r.y, width: r.width, height: r.height },
  score: r.score,
  descriptor: fromVectorBytes(r.vec),
});

/** Faces with their image's entity: append `WHERE f.…`; `extra` columns come first. */
const faceSelect = (s: string, extra = ''): string =>
  `SELECT ${extra}f.id, f.item_id, f.collection_id, i.entity_id, f.x, f.y, f.width, f.height, f.score, ${vectorBytes('f.descriptor')} AS vec
   FROM ${s}.faces f JOIN ${s}.items i ON i.id = f.item_id`;

export class PgFaceStore {
  private readonly s: string;
  private readonly select: string;

  constructor(
    private readonly db: PgDb,
    schema: string,
    private readonly write: PgWrite,
  ) {
    this.s = quoteSchema(schema);
    this.select = faceSelect(this.s);
  }

  async setFacesEnabled(collectionId: number, on: boolean): Promise<boolean> {
    const s = this.s;
    return this.write(async (tx) => {
      const [collection] = await tx.query<Pick<Collection, 'name' | 'kind'>>(`SELECT name, kind FROM ${s}.collections WHERE id = $1`, [collectionId]);
      if (!collection) return false;
      checkPersonCollection(collection);
      if (on) {
        await tx.query(`INSERT INTO ${s}.face_collections (collection_id, enabled_at) VALUES ($1, ${atParam(2)}) ON CONFLICT DO NOTHING`, [collectionId, Date.now()]);
        return true;
      }
      // The switch first: a putFaces holding it is waited for, and what it wrote is deleted below.
      await tx.query(`DELETE FROM ${s}.face_collections WHERE collection_id = $1`, [collectionId]);
      await tx.query(`DELETE FROM ${s}.faces WHERE collection_id = $1`, [collectionId]);
      await tx.query(`DELETE FROM ${s}.face_scans WHERE item_id IN (SELECT id FROM ${s}.items WHERE collection_id = $1)`, [collectionId]);
      return true;
    });
  }

  async facesEnabled(collectionId: number): Promise<boolean> {
    return (await this.db.query(`SELECT 1 FROM ${this.s}.face_collections WHERE collection_id = $1`, [collectionId])).length > 0;
  }

  async faceCollectionIds(): Promise<number[]> {
    return (await this.db.query<{ id: number }>(`SELECT collection_id AS id FROM ${this.s}.face_collections ORDER BY collection_id`)).map((r) => r.id);
  }

  async itemsWithoutFaces(limit: number, afterId = 0): Promise<Item[]> {
    const s = this.s;
    const rows = await this.db.query<ItemRow>(
      `${itemSelect(s)} JOIN ${s}.face_collections c ON c.collection_id = i.collection_id
       WHERE i.deleted_at IS NULL AND i.id > $1 AND NOT EXISTS (SELECT 1 FROM ${s}.face_scans f WHERE f.item_id = i.id) ORDER BY i.id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map(toItem);
  }

  async putFaces(itemId: number, modelId: string, faces: readonly NewFace[]): Promise<boolean> {
    checkFaces(faces);
    const s = this.s;
    return this.write(async (tx) => {
      const [item] = await tx.query<{ collection_id: number }>(
        `SELECT i.collection_id FROM ${s}.items i JOIN ${s}.face_collections c ON c.collection_id = i.collection_id
         WHERE i.id = $1 AND i.deleted_at IS NULL FOR SHARE`,
        [itemId],
      );
      if (!item) return false;
      await tx.query(`DELETE FROM ${s}.faces WHERE item_id = $1`, [itemId]);
      if (faces.length > 0) {
        // One statement, the faces in the order given (ids follow it).
        await tx.query(
          `INSERT INTO ${s}.faces (item_id, collection_id, x, y, width, height, score, descriptor)
           SELECT $1, $2, f.x, f.y, f.w, f.h, f.score, f.d::vector(${FACE_DIM})
           FROM unnest($3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::text[]) WITH ORDINALITY AS f(x, y, w, h, score, d, n) ORDER BY f.n`,
          [
            itemId,
            item.collection_id,
            faces.map((f) => f.box.x),
            faces.map((f) => f.box.y),
            faces.map((f) => f.box.width),
            faces.map((f) => f.box.height),
            faces.map((f) => f.score),
            faces.map((f) => vectorLiteral(f.descriptor)),
          ],
        );
      }
      await tx.query(
        `INSERT INTO ${s}.face_scans (item_id, model_id, faces, created_at) VALUES ($1, $2, $3, ${atParam(4)})
         ON CONFLICT (item_id) DO UPDATE SET model_id = excluded.model_id, faces = excluded.faces, created_at = excluded.created_at`,
        [itemId, modelId, faces.length, Date.now()],
      );
      return true;
    });
  }

  async facesOf(itemId: number): Promise<StoredFace[]> {
    return (await this.db.query<FaceRow>(`${this.select} WHERE f.item_id = $1 ORDER BY f.id`, [itemId])).map(toFace);
  }

  async countFaces(collectionId?: number): Promise<{ processed: number; faces: number; pending: number }> {
    const s = this.s;
    const only = collectionId === undefined ? '' : ' AND i.collection_id = $1';
    const [row] = await this.db.query<{ processed: number; faces: number; pending: number }>(
      `SELECT (SELECT count(*) FROM ${s}.face_scans f JOIN ${s}.items i ON i.id = f.item_id WHERE i.deleted_at IS NULL${only}) AS processed,
              (SELECT count(*) FROM ${s}.faces f JOIN ${s}.items i ON i.id = f.item_id WHERE i.deleted_at IS NULL${only}) AS faces,
              (SELECT count(*) FROM ${s}.items i JOIN ${s}.face_collections c ON c.collection_id = i.collection_id
               WHERE i.deleted_at IS NULL${only} AND NOT EXISTS (SELECT 1 FROM ${s}.face_scans f WHERE f.item_id = i.id)) AS pending`,
      collectionId === undefined ? [] : [collectionId],
    );
    return { processed: row?.processed ?? 0, faces: row?.faces ?? 0, pending: row?.pending ?? 0 };
  }

  async searchFaces(descriptor: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<FaceHit[]> {
    checkVector(FACE_DIM, descriptor, 'query');
    const limit = Math.floor(k);
    if (!(limit > 0) || collectionIds?.size === 0) return [];
    const s = this.s;
    const filter = collectionIds ? `WHERE collection_id = ANY($3::bigint[])` : '';
    // The nearest through the index first (materialised, so the planner keeps the index scan), then their rows.
    const settings = `SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = ${Math.min(EF_MAX, Math.max(EF_MIN, limit))};`;
    const sql = `${settings} WITH near AS MATERIALIZED (
        SELECT id, descriptor <=> $1::vector(${FACE_DIM}) AS distance FROM ${s}.faces ${filter} ORDER BY descriptor <=> $1::vector(${FACE_DIM}) LIMIT $2
      ) ${faceSelect(s, 'near.distance, ')} JOIN near ON near.id = f.id`;
    const params = collectionIds ? [vectorLiteral(descriptor), limit, [...collectionIds]] : [vectorLiteral(descriptor), limit];
    const rows = await this.db.query<FaceRow & { distance: number }>(sql, params);
    // relaxed_order may hand rows back slightly out of order: the order is restored here.
    return rows.map((r) => ({ ...toFace(r), similarity: 1 - r.distance })).sort(bySimilarity);
  }

  async facesIn(collectionId: number, afterId: number, limit: number): Promise<StoredFace[]> {
    return (await this.db.query<FaceRow>(`${this.select} WHERE f.collection_id = $1 AND f.id > $2 ORDER BY f.id LIMIT $3`, [collectionId, afterId, limit])).map(toFace);
  }
}
