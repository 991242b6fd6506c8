/**
 * EntityCatalog on PostgreSQL: entities, their descriptions (texts) and detail phrases with their
 * vectors, review verdicts, the entity log, and forgetting. Row for row what sqlite-entities.ts
 * does, with the same invariants:
 * - An entity is unique per (collection, label) and takes its collection's kind; a forgotten entity
 *   keeps its row (label 'forgotten:<id>', deleted_at set) and a label used again starts afresh.
 * - Every change that touches an entity (a text about it, an image linked to or from it, a verdict
 *   undone, a forget) logs the entity in the same transaction, so references can follow.
 * - A confirm links an unlinked image to the entity and keeps the query as a 'review' description,
 *   remembering both (linked, text_id) so undo reverts exactly what it did.
 * - Forgetting leaves nothing of the entity: see forgetEntity.
 *
 * Row locks order the writes that race: forgetEntity locks the entity row FOR UPDATE first, and
 * whatever attaches something to an entity (an item with its label, a link, a text, a verdict) locks
 * it FOR SHARE, so nothing is attached to an entity while it is being forgotten, and an item added
 * under its label after the forget gets a fresh entity. Every transaction takes the entity before
 * any image row, in the order forgetEntity does, so none of them can deadlock with it.
 */
import { labelKey } from '../../ocr/identifiers.js';
import { ErrorCode, ReferentError } from '../../errors.js';
import type { Entity, EntityMaterial, Item, NewText, NewVerdict, TextEmbedding, TextSource, Verdict, VerdictKind } from '../catalog.js';
import { checkName, unknownCollection } from '../roles/access-store.js';
import { quoteSchema } from './pg-migrations.js';
import { type PgDb, type PgQueryable, sqlState } from './pg-pool.js';
import { atParam, type EntityRow, entitySelect, msOf, searchWords, toEntity } from './pg-rows.js';
import { fromVectorBytes, type PgModels, vectorBytes, vectorLiteral } from './pg-vectors.js';
import type { PgWrite, PgWriteTx } from './pg-write.js';

interface VerdictRow {
  id: number;
  query: string;
  item_id: number;
  entity_id: number | null;
  verdict: VerdictKind;
  actor: string | null;
  linked: boolean;
  text_id: number | null;
  created_ms: number;
  undone_ms: number | null;
}

const toVerdict = (r: VerdictRow): Verdict => ({
  id: r.id,
  query: r.query,
  itemId: r.item_id,
  entityId: r.entity_id,
  verdict: r.verdict,
  user: r.actor,
  linked: r.linked,
  textId: r.text_id,
  createdAt: r.created_ms,
  undoneAt: r.undone_ms,
});

/** A live verdict with its query vector for one model (verdictsOn, entityVerdictsOn). */
export interface LiveVerdict {
  id: number;
  itemId: number;
  /** The entity when the verdict was given on one of its own photos (it then speaks for the entity). */
  entityId: number | null;
  verdict: VerdictKind;
  vector: Float32Array;
}

type VectorOwner = 'item' | 'text' | 'phrase' | 'feedback';

/** A foreign key missed by a write of an entity's material: the entity or the image it names is not there (NOT_FOUND). */
function missingRow(err: unknown, what: Record<string, number | null | undefined>): unknown {
  if (sqlState(err) !== '23503') return err;
  const named = Object.entries(what).flatMap(([kind, id]) => (id === null || id === undefined ? [] : [`${kind} ${id}`]));
  return new ReferentError(ErrorCode.NotFound, `There is no ${named.join(' or ')}.`, { cause: err, details: what });
}

/** Every vector of an embedding: the text's own and its phrases'. */
export const embeddingVectors = (e: TextEmbedding): Float32Array[] => [e.vector, ...e.phrases.map((p) => p.vector)];

export class PgEntities {
  private readonly s: string;

  constructor(
    private readonly db: PgDb,
    schema: string,
    private readonly write: PgWrite,
    private readonly models: PgModels,
    private readonly getItems: (ids: readonly number[]) => Promise<Map<number, Item>>,
  ) {
    this.s = quoteSchema(schema);
  }

  // ---- inside a write transaction ----------------------------------------------------------------

  /** Stores or replaces one vector (the model was checked before the transaction: PgModels.check). */
  async putVector(tx: PgQueryable, kind: VectorOwner, id: number, modelId: string, data: Float32Array): Promise<void> {
    const sql =
      kind === 'item'
        ? `INSERT INTO ${this.s}.item_vectors (item_id, model_id, embedding) VALUES ($1, $2, $3::vector)
           ON CONFLICT (item_id, model_id) DO UPDATE SET embedding = excluded.embedding`
        : `INSERT INTO ${this.s}.text_vectors (owner_kind, owner_id, model_id, embedding) VALUES ('${kind}', $1, $2, $3::vector)
           ON CONFLICT (owner_kind, owner_id, model_id) DO UPDATE SET embedding = excluded.embedding`;
    await tx.query(sql, [id, modelId, vectorLiteral(data)]);
  }

  /**
   * An entity id for the label in the collection, created (with the collection's kind) when new; a
   * forgotten one with this label starts afresh under the same row. NOT_FOUND for an unknown collection.
   */
  async ensureEntityIn(tx: PgQueryable, collectionId: number, label: string, now: number): Promise<number> {
    const s = this.s;
    const [found] = await tx.query<{ id: number; gone: boolean }>(
      `SELECT id, deleted_at IS NOT NULL AS gone FROM ${s}.entities WHERE collection_id = $1 AND label = $2 FOR SHARE`,
      [collectionId, label],
    );
    if (found && !found.gone) return found.id;
    const [made] = await tx.query<{ id: number }>(
      `INSERT INTO ${s}.entities AS e (collection_id, label, label_key, kind, created_at)
       SELECT c.id, $2, $3, c.kind, ${atParam(4)} FROM ${s}.collections c WHERE c.id = $1
       ON CONFLICT (collection_id, label) DO UPDATE
         SET deleted_at = NULL, label_key = excluded.label_key,
             created_at = CASE WHEN e.deleted_at IS NULL THEN e.created_at ELSE excluded.created_at END
       RETURNING id`,
      [collectionId, label, labelKey(label), now],
    );
    if (!made) throw unknownCollection(collectionId);
    return made.id;
  }

  /** Holds a live entity against a concurrent forget until this transaction ends (see the top). */
  private async holdEntity(tx: PgQueryable, entityId: number | null): Promise<void> {
    if (entityId !== null) await tx.query(`SELECT 1 FROM ${this.s}.entities WHERE id = $1 FOR SHARE`, [entityId]);
  }

  /** The text row, its vectors and its phrases' rows and vectors; logs its entity. `entityHeld`: the caller holds it already. */
  async insertText(tx: PgWriteTx, text: NewText, embedding: TextEmbedding | null, now: number, entityHeld = false): Promise<number> {
    const entityId = text.entityId ?? null;
    if (!entityHeld) await this.holdEntity(tx, entityId);
    const [row] = await tx.query<{ id: number }>(
      `INSERT INTO ${this.s}.texts (entity_id, item_id, body, source, author, created_at, lexeme)
       VALUES ($1, $2, $3, $4, $5, ${atParam(6)}, to_tsvector('simple', $7)) RETURNING id`,
      [entityId, text.itemId ?? null, text.body, text.source, text.author ?? null, now, searchWords(text.body).join(' ')],
    );
    const textId = row!.id;
    if (embedding) await this.putTextVectors(tx, textId, embedding, true);
    tx.logEntity(entityId);
    return textId;
  }

  /** The text's vector and its phrases' rows and vectors; `fresh`: the text was just inserted (it has no phrases yet). */
  private async putTextVectors(tx: PgQueryable, textId: number, embedding: TextEmbedding, fresh = false): Promise<void> {
    const s = this.s;
    await this.putVector(tx, 'text', textId, embedding.modelId, embedding.vector);
    // Phrases come from the body, so a re-embedding splits it the same way and keeps the rows.
    let ids = fresh ? [] : (await tx.query<{ id: number }>(`SELECT id FROM ${s}.phrases WHERE text_id = $1 ORDER BY id`, [textId])).map((r) => r.id);
    if (ids.length !== embedding.phrases.length) {
      await tx.query(`DELETE FROM ${s}.text_vectors WHERE owner_kind = 'phrase' AND owner_id = ANY($1::bigint[])`, [ids]);
      await tx.query(`DELETE FROM ${s}.phrases WHERE text_id = $1`, [textId]);
      ids = [];
    }
    if (embedding.phrases.length === 0) return;
    if (ids.length === 0) {
      // Ids are drawn in insertion order, so sorted ids pair with the phrases in order.
      const made = await tx.query<{ id: number }>(
        `INSERT INTO ${s}.phrases (text_id, body) SELECT $1, p.body FROM unnest($2::text[]) WITH ORDINALITY AS p(body, n) ORDER BY p.n RETURNING id`,
        [textId, embedding.phrases.map((p) => p.body)],
      );
      ids = made.map((r) => r.id).sort((a, b) => a - b);
    }
    await tx.query(
      `INSERT INTO ${s}.text_vectors (owner_kind, owner_id, model_id, embedding)
       SELECT 'phrase', p.id, $2, p.v::vector FROM unnest($1::bigint[], $3::text[]) AS p(id, v)
       ON CONFLICT (owner_kind, owner_id, model_id) DO UPDATE SET embedding = excluded.embedding`,
      [ids, embedding.modelId, embedding.phrases.map((p) => vectorLiteral(p.vector))],
    );
  }

  /** Removes texts, their phrases and every vector of both; verdicts that kept one forget it. */
  async deleteTexts(tx: PgQueryable, textIds: readonly number[]): Promise<void> {
    if (textIds.length === 0) return;
    const s = this.s;
    const ids = [...textIds];
    await tx.query(
      `DELETE FROM ${s}.text_vectors WHERE (owner_kind = 'phrase' AND owner_id IN (SELECT id FROM ${s}.phrases WHERE text_id = ANY($1::bigint[])))
          OR (owner_kind = 'text' AND owner_id = ANY($1::bigint[]))`,
      [ids],
    );
    await tx.query(`DELETE FROM ${s}.phrases WHERE text_id = ANY($1::bigint[])`, [ids]);
    await tx.query(`UPDATE ${s}.feedback SET text_id = NULL WHERE text_id = ANY($1::bigint[])`, [ids]);
    await tx.query(`DELETE FROM ${s}.texts WHERE id = ANY($1::bigint[])`, [ids]);
  }

  /** Links a live image to an entity (or unlinks it: null) and logs both entities; nothing when it is not live or already so. */
  private async setLink(tx: PgWriteTx, itemId: number, entityId: number | null): Promise<void> {
    const s = this.s;
    // The entity before the image, as forgetEntity takes them: the other order could deadlock.
    await this.holdEntity(tx, entityId);
    const [row] = await tx.query<{ entity_id: number | null }>(`SELECT entity_id FROM ${s}.items WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [itemId]);
    if (!row || row.entity_id === entityId) return;
    await tx.query(`UPDATE ${s}.items SET entity_id = $2 WHERE id = $1`, [itemId, entityId]);
    tx.logEntity(row.entity_id);
    tx.logEntity(entityId);
  }

  // ---- EntityCatalog ------------------------------------------------------------------------------

  async ensureEntity(collectionId: number, label: string): Promise<Entity> {
    checkName(label, 'entity label');
    const id = await this.write((tx) => this.ensureEntityIn(tx, collectionId, label, Date.now()));
    const entity = await this.getEntity(id);
    if (!entity) throw new Error(`entity ${id} vanished right after it was ensured`);
    return entity;
  }

  async getEntity(entityId: number): Promise<Entity | null> {
    const [row] = await this.db.query<EntityRow>(`${entitySelect(this.s)} WHERE id = $1 AND deleted_at IS NULL`, [entityId]);
    return row ? toEntity(row) : null;
  }

  async findEntities(label: string): Promise<Entity[]> {
    const rows = await this.db.query<EntityRow>(`${entitySelect(this.s)} WHERE label = $1 AND deleted_at IS NULL ORDER BY id`, [label]);
    return rows.map(toEntity);
  }

  async liveEntityIds(): Promise<number[]> {
    return (await this.db.query<{ id: number }>(`SELECT id FROM ${this.s}.entities WHERE deleted_at IS NULL ORDER BY id`)).map((r) => r.id);
  }

  async countEntities(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*) AS n FROM ${this.s}.entities WHERE deleted_at IS NULL`);
    return row?.n ?? 0;
  }

  async entityItems(entityId: number): Promise<Item[]> {
    const ids = (await this.db.query<{ id: number }>(`SELECT id FROM ${this.s}.items WHERE entity_id = $1 AND deleted_at IS NULL ORDER BY id`, [entityId])).map((r) => r.id);
    return [...(await this.getItems(ids)).values()];
  }

  async entityMaterial(entityId: number, modelId: string): Promise<EntityMaterial | null> {
    const entity = await this.getEntity(entityId);
    if (!entity) return null;
    const s = this.s;
    const images = (
      await this.db.query<{ id: number; vec: Buffer }>(
        `SELECT i.id, ${vectorBytes('v.embedding')} AS vec FROM ${s}.items i JOIN ${s}.item_vectors v ON v.item_id = i.id AND v.model_id = $2
         WHERE i.entity_id = $1 AND i.deleted_at IS NULL ORDER BY i.id`,
        [entityId, modelId],
      )
    ).map((r) => ({ itemId: r.id, vector: fromVectorBytes(r.vec) }));
    // Its descriptions: texts about it, and captions of its live images (linked after they were posted too).
    const texts = (
      await this.db.query<{ id: number; body: string; source: TextSource; vec: Buffer }>(
        `SELECT t.id, t.body, t.source, ${vectorBytes('v.embedding')} AS vec FROM (
           SELECT id, body, source FROM ${s}.texts WHERE entity_id = $1 AND item_id IS NULL AND deleted_at IS NULL
           UNION
           SELECT t.id, t.body, t.source FROM ${s}.items i JOIN ${s}.texts t ON t.item_id = i.id WHERE i.entity_id = $1 AND i.deleted_at IS NULL AND t.deleted_at IS NULL
         ) t JOIN ${s}.text_vectors v ON v.owner_kind = 'text' AND v.owner_id = t.id AND v.model_id = $2 ORDER BY t.id`,
        [entityId, modelId],
      )
    ).map((r) => ({ textId: r.id, body: r.body, source: r.source, vector: fromVectorBytes(r.vec) }));
    const phrases =
      texts.length === 0
        ? []
        : (
            await this.db.query<{ text_id: number; body: string; vec: Buffer }>(
              `SELECT p.text_id, p.body, ${vectorBytes('v.embedding')} AS vec FROM ${s}.phrases p
               JOIN ${s}.text_vectors v ON v.owner_kind = 'phrase' AND v.owner_id = p.id AND v.model_id = $2
               WHERE p.text_id = ANY($1::bigint[]) ORDER BY p.text_id, p.id`,
              [texts.map((t) => t.textId), modelId],
            )
          ).map((r) => ({ textId: r.text_id, body: r.body, vector: fromVectorBytes(r.vec) }));
    return { entity, images, texts, phrases };
  }

  async addText(text: NewText, embedding: TextEmbedding | null): Promise<number> {
    if (embedding) await this.models.check(embedding.modelId, embeddingVectors(embedding));
    try {
      return await this.write((tx) => this.insertText(tx, text, embedding, Date.now()));
    } catch (err) {
      throw missingRow(err, { entity: text.entityId ?? null, image: text.itemId ?? null });
    }
  }

  async linkItem(itemId: number, entityId: number | null): Promise<void> {
    try {
      await this.write((tx) => this.setLink(tx, itemId, entityId));
    } catch (err) {
      throw missingRow(err, { entity: entityId });
    }
  }

  async lastEntitySeq(): Promise<number> {
    const [row] = await this.db.query<{ s: number }>(`SELECT COALESCE(MAX(seq), 0) AS s FROM ${this.s}.entity_log`);
    return row?.s ?? 0;
  }

  async entityChangesSince(seq: number): Promise<{ seq: number; entityIds: number[] }> {
    const rows = await this.db.query<{ seq: number; entity_id: number }>(`SELECT seq, entity_id FROM ${this.s}.entity_log WHERE seq > $1 ORDER BY seq`, [seq]);
    return { seq: rows.at(-1)?.seq ?? seq, entityIds: [...new Set(rows.map((r) => r.entity_id))] };
  }

  async addVerdict(verdict: NewVerdict, query: TextEmbedding): Promise<Verdict> {
    await this.models.check(query.modelId, [...embeddingVectors(query), ...(verdict.searched ? [verdict.searched] : [])]);
    const s = this.s;
    let id: number;
    try {
      id = await this.write(async (tx) => {
        const now = Date.now();
        let linked = false;
        let textId: number | null = null;
        // The entity before the image, as forgetEntity takes them: the other order could deadlock.
        await this.holdEntity(tx, verdict.entityId);
        if (verdict.verdict === 'confirm' && verdict.entityId !== null) {
          const [item] = await tx.query<{ entity_id: number | null }>(`SELECT entity_id FROM ${s}.items WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [verdict.itemId]);
          if (item && item.entity_id === null) {
            await this.setLink(tx, verdict.itemId, verdict.entityId);
            linked = true;
          }
          if (verdict.keepQuery !== false) {
            textId = await this.insertText(tx, { entityId: verdict.entityId, body: verdict.query, source: 'review', author: verdict.user ?? null }, query, now, true);
          }
        }
        const [row] = await tx.query<{ id: number }>(
          `INSERT INTO ${s}.feedback (query, item_id, entity_id, verdict, actor, created_at, linked, text_id) VALUES ($1, $2, $3, $4, $5, ${atParam(6)}, $7, $8) RETURNING id`,
          [verdict.query, verdict.itemId, verdict.entityId, verdict.verdict, verdict.user ?? null, now, linked, textId],
        );
        await this.putVector(tx, 'feedback', row!.id, query.modelId, verdict.searched ?? query.vector);
        return row!.id;
      });
    } catch (err) {
      throw missingRow(err, { image: verdict.itemId, entity: verdict.entityId });
    }
    const stored = await this.getVerdict(id);
    if (!stored) throw new Error(`verdict ${id} vanished right after it was added`);
    return stored;
  }

  private verdictSelect(): string {
    return `SELECT id, query, item_id, entity_id, verdict, actor, linked, text_id, ${msOf('created_at')} AS created_ms, ${msOf('undone_at')} AS undone_ms FROM ${this.s}.feedback`;
  }

  async getVerdict(id: number): Promise<Verdict | null> {
    const [row] = await this.db.query<VerdictRow>(`${this.verdictSelect()} WHERE id = $1`, [id]);
    return row ? toVerdict(row) : null;
  }

  async undoVerdict(id: number): Promise<Verdict | null> {
    const s = this.s;
    const done = await this.write(async (tx) => {
      const [row] = await tx.query<VerdictRow>(`${this.verdictSelect()} WHERE id = $1 FOR UPDATE`, [id]);
      if (!row || row.undone_ms !== null) return false;
      const v = toVerdict(row);
      await tx.query(`UPDATE ${s}.feedback SET undone_at = ${atParam(2)} WHERE id = $1`, [id, Date.now()]);
      await tx.query(`DELETE FROM ${s}.text_vectors WHERE owner_kind = 'feedback' AND owner_id = $1`, [id]);
      if (v.linked) await this.setLink(tx, v.itemId, null);
      if (v.textId !== null) await this.deleteTexts(tx, [v.textId]);
      tx.logEntity(v.entityId);
      return true;
    });
    return done ? this.getVerdict(id) : null;
  }

  /** Live verdicts on these items, for each id asked (in that order, repeats repeated), oldest first. */
  async verdictsOn(itemIds: readonly number[], modelId: string): Promise<LiveVerdict[]> {
    if (itemIds.length === 0) return [];
    const rows = await this.liveVerdicts(`f.item_id = ANY($1::bigint[])`, [...new Set(itemIds)], modelId, 'LEFT JOIN');
    const byItem = group(rows, (v) => v.itemId);
    return itemIds.flatMap((id) => byItem.get(id) ?? []);
  }

  /** Live verdicts given on one of these entities' own photos (each entity once, in the order asked). */
  async entityVerdictsOn(entityIds: readonly number[], modelId: string): Promise<Array<LiveVerdict & { entityId: number }>> {
    if (entityIds.length === 0) return [];
    const ids = [...new Set(entityIds)];
    const rows = await this.liveVerdicts(`f.entity_id = ANY($1::bigint[]) AND i.entity_id = f.entity_id`, ids, modelId, 'JOIN');
    const byEntity = group(
      rows.flatMap((v) => (v.entityId === null ? [] : [{ ...v, entityId: v.entityId }])),
      (v) => v.entityId,
    );
    return ids.flatMap((id) => byEntity.get(id) ?? []);
  }

  /**
   * Verdicts not undone, with their query vector for the model. entityId: the verdict's entity when
   * the photo it was given on is (still) linked to that entity, as SQLite's verdict cache has it.
   */
  private async liveVerdicts(where: string, ids: number[], modelId: string, itemJoin: 'JOIN' | 'LEFT JOIN'): Promise<LiveVerdict[]> {
    const s = this.s;
    const rows = await this.db.query<{ id: number; item_id: number; entity_id: number | null; verdict: VerdictKind; vec: Buffer }>(
      `SELECT f.id, f.item_id, CASE WHEN i.entity_id = f.entity_id THEN f.entity_id END AS entity_id, f.verdict, ${vectorBytes('v.embedding')} AS vec
       FROM ${s}.feedback f JOIN ${s}.text_vectors v ON v.owner_kind = 'feedback' AND v.owner_id = f.id AND v.model_id = $2
       ${itemJoin} ${s}.items i ON i.id = f.item_id
       WHERE ${where} AND f.undone_at IS NULL ORDER BY f.id`,
      [ids, modelId],
    );
    return rows.map((r) => ({ id: r.id, itemId: r.item_id, entityId: r.entity_id, verdict: r.verdict, vector: fromVectorBytes(r.vec) }));
  }

  /**
   * Forgets an entity in one transaction. Its live images are soft-deleted and scrubbed (caption,
   * source, entity link; hash and media key replaced, so nothing in the row can tell which image it
   * was), their vectors dropped and their deletion logged for the index; the entity's images removed
   * earlier are scrubbed the same way (SQLite leaves their captions). Gone with them: every text about
   * the entity or its images with phrases and vectors, every verdict on them with its vector, what
   * was read off the images (item_ocr, item_identifiers), and the platforms' copies of media no live
   * item uses any more, whose keys are queued in media_trash. The entity keeps its row as
   * 'forgotten:<id>', and is logged. Returns the forgotten live images and those media keys.
   */
  async forgetEntity(entityId: number): Promise<{ itemIds: number[]; orphanedMedia: string[] }> {
    const s = this.s;
    return this.write(async (tx) => {
      const now = Date.now();
      await tx.query(`SELECT 1 FROM ${s}.entities WHERE id = $1 FOR UPDATE`, [entityId]);
      const items = await tx.query<{ id: number; media_key: string; live: boolean }>(
        `SELECT id, media_key, deleted_at IS NULL AS live FROM ${s}.items WHERE entity_id = $1 ORDER BY id FOR UPDATE`,
        [entityId],
      );
      const live = items.filter((i) => i.live);
      const itemIds = live.map((i) => i.id);
      const allIds = items.map((i) => i.id);
      if (allIds.length > 0) {
        // Scrub what the item said, not just hide it: a forgotten image must not be findable again.
        await tx.query(
          `UPDATE ${s}.items SET deleted_at = COALESCE(deleted_at, ${atParam(2)}), caption = NULL, entity_id = NULL, source_ref = NULL, source_user = NULL,
             source_channel = NULL, hash = 'forgotten:' || id, media_key = '' WHERE id = ANY($1::bigint[])`,
          [allIds, now],
        );
        await tx.query(`DELETE FROM ${s}.item_vectors WHERE item_id = ANY($1::bigint[])`, [allIds]);
        await tx.query(`DELETE FROM ${s}.item_identifiers WHERE item_id = ANY($1::bigint[])`, [allIds]);
        await tx.query(`DELETE FROM ${s}.item_ocr WHERE item_id = ANY($1::bigint[])`, [allIds]);
        for (const id of itemIds) tx.logItem(id, 'del');
      }
      const texts = await tx.query<{ id: number }>(`SELECT id FROM ${s}.texts WHERE entity_id = $1 OR item_id = ANY($2::bigint[])`, [entityId, allIds]);
      await this.deleteTexts(
        tx,
        texts.map((t) => t.id),
      );
      await tx.query(
        `DELETE FROM ${s}.text_vectors WHERE owner_kind = 'feedback' AND owner_id IN (SELECT id FROM ${s}.feedback WHERE entity_id = $1 OR item_id = ANY($2::bigint[]))`,
        [entityId, allIds],
      );
      await tx.query(`DELETE FROM ${s}.feedback WHERE entity_id = $1 OR item_id = ANY($2::bigint[])`, [entityId, allIds]);
      // Its fused references are derived from all of the above.
      await tx.query(`DELETE FROM ${s}.entity_references WHERE entity_id = $1`, [entityId]);
      await tx.query(`UPDATE ${s}.entities SET deleted_at = ${atParam(2)}, label = 'forgotten:' || id, label_key = $3 WHERE id = $1`, [
        entityId,
        now,
        labelKey(`forgotten:${entityId}`),
      ]);
      tx.logEntity(entityId);
      const keys = [...new Set(live.map((i) => i.media_key))];
      const orphanedMedia =
        keys.length === 0
          ? []
          : (
              await tx.query<{ key: string }>(
                `SELECT k.key FROM unnest($1::text[]) WITH ORDINALITY AS k(key, n)
                 WHERE NOT EXISTS (SELECT 1 FROM ${s}.items i WHERE i.media_key = k.key AND i.deleted_at IS NULL) ORDER BY k.n`,
                [keys],
              )
            ).map((r) => r.key);
      if (orphanedMedia.length > 0) {
        // The platforms' copies go with the image: no card can show a forgotten photo again.
        await tx.query(`DELETE FROM ${s}.platform_files WHERE media_key = ANY($1::text[])`, [orphanedMedia]);
        await tx.query(`INSERT INTO ${s}.media_trash (media_key, queued_at) SELECT unnest($1::text[]), ${atParam(2)} ON CONFLICT (media_key) DO NOTHING`, [orphanedMedia, now]);
      }
      return { itemIds, orphanedMedia };
    });
  }

  async textsWithoutVector(modelId: string, limit: number): Promise<Array<{ kind: 'text' | 'feedback'; id: number; body: string }>> {
    const s = this.s;
    const texts = await this.db.query<{ id: number; body: string }>(
      `SELECT id, body FROM ${s}.texts t WHERE deleted_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM ${s}.text_vectors v WHERE v.owner_kind = 'text' AND v.owner_id = t.id AND v.model_id = $1) ORDER BY id LIMIT $2`,
      [modelId, limit],
    );
    const rest = limit - texts.length;
    const queries =
      rest > 0
        ? await this.db.query<{ id: number; body: string }>(
            `SELECT id, query AS body FROM ${s}.feedback f WHERE undone_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM ${s}.text_vectors v WHERE v.owner_kind = 'feedback' AND v.owner_id = f.id AND v.model_id = $1) ORDER BY id LIMIT $2`,
            [modelId, rest],
          )
        : [];
    return [...texts.map((t) => ({ kind: 'text' as const, id: t.id, body: t.body })), ...queries.map((q) => ({ kind: 'feedback' as const, id: q.id, body: q.body }))];
  }

  async putTextEmbedding(kind: 'text' | 'feedback', id: number, embedding: TextEmbedding): Promise<void> {
    await this.models.check(embedding.modelId, kind === 'text' ? embeddingVectors(embedding) : [embedding.vector]);
    await this.write((tx) => (kind === 'text' ? this.putTextVectors(tx, id, embedding) : this.putVector(tx, 'feedback', id, embedding.modelId, embedding.vector)));
  }
}

function group<T>(rows: readonly T[], key: (row: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const row of rows) {
    const list = out.get(key(row));
    if (list) list.push(row);
    else out.set(key(row), [row]);
  }
  return out;
}
