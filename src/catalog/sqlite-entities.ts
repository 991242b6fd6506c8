/**
 * The entity half of SqliteCatalog: entities, descriptions and their phrases, verdicts, and the entity
 * log that tells every process which references to recompute. Kept apart from sqlite-catalog.ts (the
 * only better-sqlite3 importer) for size; it talks to the same connection through the small
 * structural type below and runs every multi-statement write in the catalogue's transaction.
 */
import type { Entity, EntityMaterial, Item, NewText, NewVerdict, TextEmbedding, TextSource, Verdict, VerdictKind } from './catalog.js';

/** The part of a better-sqlite3 connection this file uses. */
export interface SqlDb {
  prepare(sql: string): {
    run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
    get(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
  };
}

export const toBlob = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
/**
 * A BLOB as a Float32Array: a view when the Buffer (a fresh copy per row from better-sqlite3) is
 * 4-byte aligned, which saves a copy per candidate in every refined search; a copy otherwise.
 */
export const fromBlob = (b: Buffer) =>
  b.byteOffset % 4 === 0 ? new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4) : new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

interface EntityRow {
  id: number;
  collection_id: number;
  label: string;
  kind: string;
  created_at: number;
}
const toEntity = (r: EntityRow): Entity => ({ id: r.id, collectionId: r.collection_id, label: r.label, kind: r.kind, createdAt: r.created_at });

interface VerdictRow {
  id: number;
  query: string;
  item_id: number;
  entity_id: number | null;
  verdict: VerdictKind;
  user: string | null;
  linked: number;
  text_id: number | null;
  created_at: number;
  undone_at: number | null;
}
const toVerdict = (r: VerdictRow): Verdict => ({
  id: r.id,
  query: r.query,
  itemId: r.item_id,
  entityId: r.entity_id,
  verdict: r.verdict,
  user: r.user,
  linked: r.linked === 1,
  textId: r.text_id,
  createdAt: r.created_at,
  undoneAt: r.undone_at,
});

export class SqliteEntities {
  constructor(
    private readonly db: SqlDb,
    private readonly write: <T>(fn: () => T) => T,
    private readonly getItems: (ids: number[]) => Map<number, Item>,
  ) {}

  logEntity(entityId: number | null): void {
    if (entityId !== null) this.db.prepare(`INSERT INTO entity_log (entity_id) VALUES (?)`).run(entityId);
  }

  putVector(kind: 'item' | 'text' | 'phrase' | 'feedback', id: number, modelId: string, data: Float32Array): void {
    this.db
      .prepare(`INSERT INTO vectors (owner_kind, owner_id, model_id, dim, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET dim = excluded.dim, data = excluded.data`)
      .run(kind, id, modelId, data.length, toBlob(data));
  }

  /** Inside a transaction: an entity id for the label in the collection, created when new. */
  ensureEntityIn(collectionId: number, label: string, now: number): number {
    const kind = (this.db.prepare(`SELECT kind FROM collections WHERE id = ?`).get(collectionId) as { kind: string } | undefined)?.kind ?? 'other';
    this.db.prepare(`INSERT INTO entities (collection_id, label, kind, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`).run(collectionId, label, kind, now);
    const row = this.db.prepare(`SELECT id, deleted_at FROM entities WHERE collection_id = ? AND label = ?`).get(collectionId, label) as { id: number; deleted_at: number | null };
    // A forgotten label used again starts a fresh entity under the same row.
    if (row.deleted_at !== null) this.db.prepare(`UPDATE entities SET deleted_at = NULL, created_at = ? WHERE id = ?`).run(now, row.id);
    return row.id;
  }

  ensureEntity(collectionId: number, label: string): Entity {
    const id = this.write(() => this.ensureEntityIn(collectionId, label, Date.now()));
    return this.getEntity(id)!;
  }

  getEntity(entityId: number): Entity | null {
    const row = this.db.prepare(`SELECT * FROM entities WHERE id = ? AND deleted_at IS NULL`).get(entityId) as EntityRow | undefined;
    return row ? toEntity(row) : null;
  }

  findEntities(label: string): Entity[] {
    return (this.db.prepare(`SELECT * FROM entities WHERE label = ? AND deleted_at IS NULL ORDER BY id`).all(label) as EntityRow[]).map(toEntity);
  }

  liveEntityIds(): number[] {
    return (this.db.prepare(`SELECT id FROM entities WHERE deleted_at IS NULL ORDER BY id`).all() as Array<{ id: number }>).map((r) => r.id);
  }

  countEntities(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM entities WHERE deleted_at IS NULL`).get() as { n: number }).n;
  }

  entityItems(entityId: number): Item[] {
    const ids = (this.db.prepare(`SELECT id FROM items WHERE entity_id = ? AND deleted_at IS NULL ORDER BY id`).all(entityId) as Array<{ id: number }>).map((r) => r.id);
    return [...this.getItems(ids).values()];
  }

  entityMaterial(entityId: number, modelId: string): EntityMaterial | null {
    const entity = this.getEntity(entityId);
    if (!entity) return null;
    // CROSS JOIN fixes the loop order (the entity's rows first, then their vectors by primary key);
    // left to itself the planner scanned every vector of the kind for each entity (45 ms at 10k).
    const images = (
      this.db
        .prepare(
          `SELECT i.id AS itemId, v.data FROM items i CROSS JOIN vectors v ON v.owner_kind = 'item' AND v.owner_id = i.id AND v.model_id = ?
           WHERE i.entity_id = ? AND i.deleted_at IS NULL ORDER BY i.id`,
        )
        .all(modelId, entityId) as Array<{ itemId: number; data: Buffer }>
    ).map((r) => ({ itemId: r.itemId, vector: fromBlob(r.data) }));
    // Its descriptions: texts about it, and captions of its live images (linked after they were posted
    // too). A caption follows its image, whatever entity it was stored with: a removed image's caption
    // is no longer the entity's, and one linked elsewhere describes the entity it is linked to now.
    const textRows = this.db
      .prepare(
        `SELECT t.id AS textId, t.body, t.source, v.data FROM (
           SELECT id, body, source FROM texts WHERE entity_id = ? AND item_id IS NULL AND deleted_at IS NULL
           UNION
           SELECT t.id, t.body, t.source FROM items i JOIN texts t ON t.item_id = i.id WHERE i.entity_id = ? AND i.deleted_at IS NULL AND t.deleted_at IS NULL
         ) t CROSS JOIN vectors v ON v.owner_kind = 'text' AND v.owner_id = t.id AND v.model_id = ? ORDER BY t.id`,
      )
      .all(entityId, entityId, modelId) as Array<{ textId: number; body: string; source: TextSource; data: Buffer }>;
    const texts = textRows.map((r) => ({ textId: r.textId, body: r.body, source: r.source, vector: fromBlob(r.data) }));
    const phraseStmt = this.db.prepare(
      `SELECT p.text_id AS textId, p.body, v.data FROM phrases p CROSS JOIN vectors v ON v.owner_kind = 'phrase' AND v.owner_id = p.id AND v.model_id = ? WHERE p.text_id = ? ORDER BY p.id`,
    );
    const phrases = texts.flatMap((t) => (phraseStmt.all(modelId, t.textId) as Array<{ textId: number; body: string; data: Buffer }>).map((r) => ({ textId: r.textId, body: r.body, vector: fromBlob(r.data) })));
    return { entity, images, texts, phrases };
  }

  /** Inside a transaction: the text row, its vector and its phrases' rows and vectors. */
  insertText(text: NewText, embedding: TextEmbedding | null, now: number): number {
    const info = this.db
      .prepare(`INSERT INTO texts (entity_id, item_id, body, source, author, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(text.entityId ?? null, text.itemId ?? null, text.body, text.source, text.author ?? null, now);
    const textId = Number(info.lastInsertRowid);
    if (embedding) this.putTextVectors(textId, embedding);
    this.logEntity(text.entityId ?? null);
    return textId;
  }

  private putTextVectors(textId: number, embedding: TextEmbedding): void {
    this.putVector('text', textId, embedding.modelId, embedding.vector);
    // Phrases come from the body, so a re-embedding splits it the same way and keeps the rows.
    const existing = this.db.prepare(`SELECT id FROM phrases WHERE text_id = ? ORDER BY id`).all(textId) as Array<{ id: number }>;
    if (existing.length !== embedding.phrases.length) {
      for (const { id } of existing) this.db.prepare(`DELETE FROM vectors WHERE owner_kind = 'phrase' AND owner_id = ?`).run(id);
      this.db.prepare(`DELETE FROM phrases WHERE text_id = ?`).run(textId);
      existing.length = 0;
    }
    embedding.phrases.forEach((p, i) => {
      const id = existing[i]?.id ?? Number(this.db.prepare(`INSERT INTO phrases (text_id, body) VALUES (?, ?)`).run(textId, p.body).lastInsertRowid);
      this.putVector('phrase', id, embedding.modelId, p.vector);
    });
  }

  addText(text: NewText, embedding: TextEmbedding | null): number {
    return this.write(() => this.insertText(text, embedding, Date.now()));
  }

  linkItem(itemId: number, entityId: number | null): void {
    this.write(() => this.setLink(itemId, entityId));
  }

  private setLink(itemId: number, entityId: number | null): void {
    const row = this.db.prepare(`SELECT entity_id FROM items WHERE id = ? AND deleted_at IS NULL`).get(itemId) as { entity_id: number | null } | undefined;
    if (!row || row.entity_id === entityId) return;
    this.db.prepare(`UPDATE items SET entity_id = ? WHERE id = ?`).run(entityId, itemId);
    this.logEntity(row.entity_id);
    this.logEntity(entityId);
  }

  lastEntitySeq(): number {
    return (this.db.prepare(`SELECT COALESCE(MAX(seq), 0) AS s FROM entity_log`).get() as { s: number }).s;
  }

  entityChangesSince(seq: number): { seq: number; entityIds: number[] } {
    const rows = this.db.prepare(`SELECT seq, entity_id FROM entity_log WHERE seq > ? ORDER BY seq`).all(seq) as Array<{ seq: number; entity_id: number }>;
    return { seq: rows.at(-1)?.seq ?? seq, entityIds: [...new Set(rows.map((r) => r.entity_id))] };
  }

  addVerdict(verdict: NewVerdict, query: TextEmbedding): Verdict {
    const id = this.write(() => {
      const now = Date.now();
      let linked = false;
      let textId: number | null = null;
      if (verdict.verdict === 'confirm' && verdict.entityId !== null) {
        const item = this.db.prepare(`SELECT entity_id FROM items WHERE id = ? AND deleted_at IS NULL`).get(verdict.itemId) as { entity_id: number | null } | undefined;
        if (item && item.entity_id === null) {
          this.setLink(verdict.itemId, verdict.entityId);
          linked = true;
        }
        if (verdict.keepQuery !== false) textId = this.insertText({ entityId: verdict.entityId, body: verdict.query, source: 'review', author: verdict.user ?? null }, query, now);
      }
      const info = this.db
        .prepare(`INSERT INTO feedback (query, item_id, entity_id, verdict, user, created_at, linked, text_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(verdict.query, verdict.itemId, verdict.entityId, verdict.verdict, verdict.user ?? null, now, linked ? 1 : 0, textId);
      const feedbackId = Number(info.lastInsertRowid);
      this.putVector('feedback', feedbackId, query.modelId, verdict.searched ?? query.vector);
      return feedbackId;
    });
    return this.getVerdict(id)!;
  }

  getVerdict(id: number): Verdict | null {
    const row = this.db.prepare(`SELECT * FROM feedback WHERE id = ?`).get(id) as VerdictRow | undefined;
    return row ? toVerdict(row) : null;
  }

  undoVerdict(id: number): Verdict | null {
    const done = this.write(() => {
      const v = this.getVerdict(id);
      if (!v || v.undoneAt !== null) return false;
      this.db.prepare(`UPDATE feedback SET undone_at = ? WHERE id = ?`).run(Date.now(), id);
      this.db.prepare(`DELETE FROM vectors WHERE owner_kind = 'feedback' AND owner_id = ?`).run(id);
      if (v.linked) this.setLink(v.itemId, null);
      if (v.textId !== null) this.deleteTexts([v.textId]);
      this.logEntity(v.entityId);
      return true;
    });
    return done ? this.getVerdict(id) : null;
  }

  /** Inside a transaction: removes texts, their phrases and every vector of both. */
  private deleteTexts(textIds: readonly number[]): void {
    for (const textId of textIds) {
      for (const { id } of this.db.prepare(`SELECT id FROM phrases WHERE text_id = ?`).all(textId) as Array<{ id: number }>) {
        this.db.prepare(`DELETE FROM vectors WHERE owner_kind = 'phrase' AND owner_id = ?`).run(id);
      }
      this.db.prepare(`DELETE FROM phrases WHERE text_id = ?`).run(textId);
      this.db.prepare(`DELETE FROM vectors WHERE owner_kind = 'text' AND owner_id = ?`).run(textId);
      this.db.prepare(`UPDATE feedback SET text_id = NULL WHERE text_id = ?`).run(textId);
      this.db.prepare(`DELETE FROM texts WHERE id = ?`).run(textId);
    }
  }

  /** Every live verdict with its query vector for the model (the verdict cache's source). */
  liveVerdicts(modelId: string): Array<{ id: number; itemId: number; entityId: number | null; verdict: VerdictKind; vector: Float32Array }> {
    // entityId: set when the verdict was given on a photo of that very entity (its card), so it speaks for the entity.
    const rows = this.db
      .prepare(
        `SELECT f.id, f.item_id AS itemId, CASE WHEN i.entity_id = f.entity_id THEN f.entity_id END AS entityId, f.verdict, v.data
         FROM feedback f CROSS JOIN vectors v ON v.owner_kind = 'feedback' AND v.owner_id = f.id AND v.model_id = ?
         LEFT JOIN items i ON i.id = f.item_id
         WHERE f.undone_at IS NULL`,
      )
      .all(modelId) as Array<{ id: number; itemId: number; entityId: number | null; verdict: VerdictKind; data: Buffer }>;
    return rows.map((r) => ({ id: r.id, itemId: r.itemId, entityId: r.entityId, verdict: r.verdict, vector: fromBlob(r.data) }));
  }

  forgetEntity(entityId: number): { itemIds: number[]; orphanedMedia: string[] } {
    return this.write(() => {
      const now = Date.now();
      const items = this.db.prepare(`SELECT id, media_key FROM items WHERE entity_id = ? AND deleted_at IS NULL`).all(entityId) as Array<{ id: number; media_key: string }>;
      const itemIds = items.map((i) => i.id);
      for (const id of itemIds) {
        // Scrub what the item said, not just hide it: a forgotten image must not be findable again.
        // The content hash and media key go too: nothing left in the row can tell which image it was.
        this.db
          .prepare(`UPDATE items SET deleted_at = ?, caption = NULL, entity_id = NULL, source_ref = NULL, source_user = NULL, source_channel = NULL, hash = 'forgotten:' || id, media_key = '' WHERE id = ?`)
          .run(now, id);
        this.db.prepare(`DELETE FROM vectors WHERE owner_kind = 'item' AND owner_id = ?`).run(id);
        this.db.prepare(`INSERT INTO index_log (item_id, op) VALUES (?, 'del')`).run(id);
      }
      const texts = this.db
        .prepare(`SELECT id FROM texts WHERE entity_id = ? OR item_id IN (SELECT value FROM json_each(?))`)
        .all(entityId, JSON.stringify(itemIds)) as Array<{ id: number }>;
      this.deleteTexts(texts.map((t) => t.id));
      const verdicts = this.db.prepare(`SELECT id FROM feedback WHERE entity_id = ? OR item_id IN (SELECT value FROM json_each(?))`).all(entityId, JSON.stringify(itemIds)) as Array<{ id: number }>;
      for (const { id } of verdicts) this.db.prepare(`DELETE FROM vectors WHERE owner_kind = 'feedback' AND owner_id = ?`).run(id);
      this.db.prepare(`DELETE FROM feedback WHERE entity_id = ? OR item_id IN (SELECT value FROM json_each(?))`).run(entityId, JSON.stringify(itemIds));
      this.db.prepare(`UPDATE entities SET deleted_at = ?, label = 'forgotten:' || id WHERE id = ?`).run(now, entityId);
      this.logEntity(entityId);
      const orphanedMedia = [...new Set(items.map((i) => i.media_key))].filter(
        (key) => !this.db.prepare(`SELECT 1 FROM items WHERE media_key = ? AND deleted_at IS NULL`).get(key),
      );
      // The platforms' copies go with the image: no card can show a forgotten photo again.
      for (const key of orphanedMedia) {
        this.db.prepare(`DELETE FROM platform_files WHERE media_key = ?`).run(key);
        this.db.prepare(`INSERT OR IGNORE INTO media_trash (media_key, queued_at) VALUES (?, ?)`).run(key, now);
      }
      return { itemIds, orphanedMedia };
    });
  }

  textsWithoutVector(modelId: string, limit: number): Array<{ kind: 'text' | 'feedback'; id: number; body: string }> {
    const texts = this.db
      .prepare(
        `SELECT id, body FROM texts t WHERE deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.owner_kind = 'text' AND v.owner_id = t.id AND v.model_id = ?) ORDER BY id LIMIT ?`,
      )
      .all(modelId, limit) as Array<{ id: number; body: string }>;
    const rest = limit - texts.length;
    const queries =
      rest > 0
        ? (this.db
            .prepare(
              `SELECT id, query AS body FROM feedback f WHERE undone_at IS NULL AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.owner_kind = 'feedback' AND v.owner_id = f.id AND v.model_id = ?) ORDER BY id LIMIT ?`,
            )
            .all(modelId, rest) as Array<{ id: number; body: string }>)
        : [];
    return [...texts.map((t) => ({ kind: 'text' as const, ...t })), ...queries.map((q) => ({ kind: 'feedback' as const, ...q }))];
  }

  putTextEmbedding(kind: 'text' | 'feedback', id: number, embedding: TextEmbedding): void {
    this.write(() => (kind === 'text' ? this.putTextVectors(id, embedding) : this.putVector('feedback', id, embedding.modelId, embedding.vector)));
  }
}
