/**
 * Faces in person collections: the face half of SqliteCatalog, on the same connection (see
 * sqlite-entities.ts for why it is a separate file); migration 6 holds the tables, and the trigger
 * that deletes an image's face records in the transaction that removes or forgets the image.
 *
 * Search is exact: every descriptor of the asked collections is compared with the query, a page at
 * a time (a person collection holds thousands of faces, not millions; 128 floats each). PostgreSQL
 * answers the same question through an HNSW index (pg-face-store.ts).
 */
import type { Collection, FaceHit, Item, NewFace, StoredFace } from './catalog.js';
import { bySimilarity, checkFaces, checkPersonCollection, FACE_DIM } from './roles/face-store.js';
import { checkVector } from './roles/item-store.js';
import { fromBlob, type SqlDb, toBlob } from './sqlite-entities.js';

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
  descriptor: Buffer;
}

const FACE_SELECT = `SELECT f.id, f.item_id, f.collection_id, i.entity_id, f.x, f.y, f.width, f.height, f.score, f.descriptor FROM faces f JOIN items i ON i.id = f.item_id`;

const toFace = (r: FaceRow): StoredFace => ({
  id: r.id,
  itemId: r.item_id,
  collectionId: r.collection_id,
  entityId: r.entity_id,
  box: { x: r.x, y: r.y, width: r.width, height: r.height },
  score: r.score,
  descriptor: fromBlob(r.descriptor),
});

/** Faces compared per page of a search. */
const SEARCH_PAGE = 4096;

/** Cosine similarity, as pgvector's `<=>` computes it (1 − distance): descriptors are unit length, but a query may not be exactly. */
function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export class SqliteFaces {
  constructor(
    private readonly db: SqlDb,
    private readonly write: <T>(fn: () => T) => T,
    private readonly getItems: (ids: readonly number[]) => Map<number, Item>,
  ) {}

  setFacesEnabled(collectionId: number, on: boolean): boolean {
    return this.write(() => {
      const collection = this.db.prepare(`SELECT name, kind FROM collections WHERE id = ?`).get(collectionId) as Pick<Collection, 'name' | 'kind'> | undefined;
      if (!collection) return false;
      checkPersonCollection(collection);
      if (on) {
        this.db.prepare(`INSERT OR IGNORE INTO face_collections (collection_id, enabled_at) VALUES (?, ?)`).run(collectionId, Date.now());
        return true;
      }
      this.db.prepare(`DELETE FROM face_collections WHERE collection_id = ?`).run(collectionId);
      this.db.prepare(`DELETE FROM faces WHERE collection_id = ?`).run(collectionId);
      this.db.prepare(`DELETE FROM face_scans WHERE item_id IN (SELECT id FROM items WHERE collection_id = ?)`).run(collectionId);
      return true;
    });
  }

  facesEnabled(collectionId: number): boolean {
    return this.db.prepare(`SELECT 1 FROM face_collections WHERE collection_id = ?`).get(collectionId) !== undefined;
  }

  faceCollectionIds(): number[] {
    return (this.db.prepare(`SELECT collection_id FROM face_collections ORDER BY collection_id`).all() as Array<{ collection_id: number }>).map((r) => r.collection_id);
  }

  itemsWithoutFaces(limit: number, afterId = 0): Item[] {
    const rows = this.db
      .prepare(
        `SELECT i.id FROM items i JOIN face_collections c ON c.collection_id = i.collection_id
         WHERE i.deleted_at IS NULL AND i.id > ? AND NOT EXISTS (SELECT 1 FROM face_scans s WHERE s.item_id = i.id) ORDER BY i.id LIMIT ?`,
      )
      .all(afterId, limit) as Array<{ id: number }>;
    const items = this.getItems(rows.map((r) => r.id));
    return rows.flatMap((r) => items.get(r.id) ?? []);
  }

  putFaces(itemId: number, modelId: string, faces: readonly NewFace[]): boolean {
    checkFaces(faces);
    return this.write(() => {
      const item = this.db
        .prepare(`SELECT i.collection_id FROM items i JOIN face_collections c ON c.collection_id = i.collection_id WHERE i.id = ? AND i.deleted_at IS NULL`)
        .get(itemId) as { collection_id: number } | undefined;
      if (!item) return false;
      this.db.prepare(`DELETE FROM faces WHERE item_id = ?`).run(itemId);
      const insert = this.db.prepare(`INSERT INTO faces (item_id, collection_id, x, y, width, height, score, descriptor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const f of faces) insert.run(itemId, item.collection_id, f.box.x, f.box.y, f.box.width, f.box.height, f.score, toBlob(f.descriptor));
      this.db
        .prepare(`INSERT INTO face_scans (item_id, model_id, faces, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET model_id = excluded.model_id, faces = excluded.faces, created_at = excluded.created_at`)
        .run(itemId, modelId, faces.length, Date.now());
      return true;
    });
  }

  facesOf(itemId: number): StoredFace[] {
    return (this.db.prepare(`${FACE_SELECT} WHERE f.item_id = ? ORDER BY f.id`).all(itemId) as FaceRow[]).map(toFace);
  }

  countFaces(collectionId?: number): { processed: number; faces: number; pending: number } {
    const only = collectionId === undefined ? '' : ' AND i.collection_id = ?';
    const params = collectionId === undefined ? [] : [collectionId, collectionId, collectionId];
    return this.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM face_scans s JOIN items i ON i.id = s.item_id WHERE i.deleted_at IS NULL${only}) AS processed,
                (SELECT COUNT(*) FROM faces f JOIN items i ON i.id = f.item_id WHERE i.deleted_at IS NULL${only}) AS faces,
                (SELECT COUNT(*) FROM items i JOIN face_collections c ON c.collection_id = i.collection_id
                 WHERE i.deleted_at IS NULL${only} AND NOT EXISTS (SELECT 1 FROM face_scans s WHERE s.item_id = i.id)) AS pending`,
      )
      .get(...params) as { processed: number; faces: number; pending: number };
  }

  searchFaces(descriptor: Float32Array, k: number, collectionIds?: ReadonlySet<number>): FaceHit[] {
    checkVector(FACE_DIM, descriptor, 'query');
    const limit = Math.floor(k);
    if (!(limit > 0) || collectionIds?.size === 0) return [];
    const filter = collectionIds ? ` AND f.collection_id IN (SELECT value FROM json_each(?))` : '';
    const page = this.db.prepare(`SELECT f.id, f.descriptor FROM faces f WHERE f.id > ?${filter} ORDER BY f.id LIMIT ${SEARCH_PAGE}`);
    const allowed = collectionIds ? [JSON.stringify([...collectionIds])] : [];
    // The best `limit` so far, as (similarity, id), kept sorted: k is small next to the faces compared.
    let best: Array<{ id: number; similarity: number }> = [];
    for (let after = 0; ; ) {
      const rows = page.all(after, ...allowed) as Array<{ id: number; descriptor: Buffer }>;
      for (const r of rows) {
        const similarity = cosine(descriptor, fromBlob(r.descriptor));
        if (best.length < limit || similarity > best[best.length - 1]!.similarity) {
          best.push({ id: r.id, similarity });
          best.sort((a, b) => b.similarity - a.similarity || a.id - b.id);
          if (best.length > limit) best = best.slice(0, limit);
        }
      }
      if (rows.length < SEARCH_PAGE) break;
      after = rows[rows.length - 1]!.id;
    }
    if (best.length === 0) return [];
    const rows = this.db.prepare(`${FACE_SELECT} WHERE f.id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(best.map((b) => b.id))) as FaceRow[];
    const similarity = new Map(best.map((b) => [b.id, b.similarity]));
    return rows.map((r) => ({ ...toFace(r), similarity: similarity.get(r.id)! })).sort(bySimilarity);
  }

  facesIn(collectionId: number, afterId: number, limit: number): StoredFace[] {
    return (this.db.prepare(`${FACE_SELECT} WHERE f.collection_id = ? AND f.id > ? ORDER BY f.id LIMIT ?`).all(collectionId, afterId, limit) as FaceRow[]).map(toFace);
  }
}
