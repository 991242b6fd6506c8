/**
 * LexicalStore on PostgreSQL: the tables of pg-migrations.ts version 3, in one schema.
 *
 * - A reading is one `item_ocr` row (lines as jsonb, body = the lines' text, chars = each line
 *   normalised, joined by spaces, as in SQLite) and its identifiers in `item_identifiers`.
 * - An identifier is found exactly in `item_identifiers`, and inside run-together OCR text by
 *   `chars LIKE '%IDENT%'` on the pg_trgm GIN index; the candidates are then judged by
 *   containsIdentifier, as SQLite judges its trigram hits, so 'M8' is not found in 'M80'.
 * - Labels are compared by labelKey (NFKC, Unicode letters and digits, JavaScript's upper case,
 *   cleanOcr's repairs). No SQL expression reproduces it for every label ('ß' → 'SS', '×' → 'X',
 *   'L0T 12' → 'LOT12', and upper()/[[:alnum:]] follow the database's locale), so
 *   `entities.label_key` holds labelKey(label), written here: entities are created by the item
 *   store, and each matchLabels first keys the entities that have none yet (an indexed lookup of
 *   the NULLs, nothing when all are keyed). The write is idempotent, so concurrent stores agree.
 */
import type { NewOcr, StoredOcr } from '../catalog.js';
import { containsIdentifier, labelKey, normalizeIdentifier } from '../../ocr/identifiers.js';
import type { OcrLine } from '../../ocr/ocr.js';
import { type LabelMatches, type LabelQuery, type LexicalStore, PER_ENTITY, PER_IDENTIFIER } from '../roles/lexical-store.js';
import { quoteSchema } from './pg-migrations.js';
import type { PgDb } from './pg-pool.js';

/** bigint[] / text[] in their text forms, for `= ANY($n::…[])`. */
const idArray = (ids: Iterable<number>): string => `{${[...ids].map((id) => Math.trunc(id)).join(',')}}`;
const textArray = (texts: Iterable<string>): string => `{${[...texts].map((t) => `"${t.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
/** LIKE's own characters escaped (identifiers are letters and digits, but the query is not checked). */
const likeInside = (text: string): string => `%${text.replace(/[\\%_]/g, '\\$&')}%`;
/** Entities keyed per round trip when labels are backfilled. */
const KEY_BATCH = 500;

export class PgLexicalStore implements LexicalStore {
  private readonly s: string;

  /** `db` must have been migrated (migratePg) for this schema. */
  constructor(
    private readonly db: PgDb,
    schema = 'public',
  ) {
    this.s = quoteSchema(schema);
  }

  async putOcr(itemId: number, ocr: NewOcr): Promise<boolean> {
    const s = this.s;
    const body = ocr.lines.map((l) => l.text).join('\n');
    const chars = ocr.lines.map((l) => normalizeIdentifier(l.text)).join(' ');
    return this.db.transaction(async (tx) => {
      // Locks the item row: a removal waits for this reading, or this waits and finds the item gone.
      const live = await tx.query(`SELECT 1 FROM ${s}.items WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [itemId]);
      if (live.length === 0) return false;
      await tx.query(`DELETE FROM ${s}.item_identifiers WHERE item_id = $1`, [itemId]);
      await tx.query(
        `INSERT INTO ${s}.item_ocr (item_id, model_id, lines, body, chars, created_at) VALUES ($1, $2, $3::jsonb, $4, $5, to_timestamp($6::float8 / 1000))
         ON CONFLICT (item_id) DO UPDATE SET model_id = excluded.model_id, lines = excluded.lines, body = excluded.body, chars = excluded.chars, created_at = excluded.created_at`,
        [itemId, ocr.modelId, JSON.stringify(ocr.lines), body, chars, Date.now()],
      );
      const idents = [...new Set(ocr.identifiers)];
      if (idents.length > 0) {
        await tx.query(`INSERT INTO ${s}.item_identifiers (ident, item_id) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`, [textArray(idents), itemId]);
      }
      return true;
    });
  }

  async ocrOf(itemId: number): Promise<StoredOcr | null> {
    const s = this.s;
    const [row] = await this.db.query<{ model_id: string; lines: OcrLine[]; created_ms: number; idents: string[] }>(
      `SELECT o.model_id, o.lines, round(extract(epoch FROM o.created_at) * 1000)::bigint AS created_ms,
              ARRAY(SELECT ident FROM ${s}.item_identifiers WHERE item_id = o.item_id ORDER BY ident) AS idents
       FROM ${s}.item_ocr o JOIN ${s}.items i ON i.id = o.item_id AND i.deleted_at IS NULL WHERE o.item_id = $1`,
      [itemId],
    );
    return row ? { modelId: row.model_id, lines: row.lines, identifiers: row.idents, at: row.created_ms } : null;
  }

  async matchLabels({ identifiers, labels, collectionIds }: LabelQuery): Promise<LabelMatches> {
    const out: LabelMatches = { identifiers: new Map(), named: new Map() };
    if (collectionIds?.size === 0) return out;
    const s = this.s;
    const allowed = collectionIds ? idArray(collectionIds) : null;
    const inCollections = (alias: string, n: number) => (allowed ? ` AND ${alias}.collection_id = ANY($${n}::bigint[])` : '');

    for (const ident of new Set(identifiers)) {
      // Exact readings, and the identifier inside run-together text (from 3 characters, as in SQLite),
      // then the live ones of the chosen collections.
      const rows = await this.db.query<{ id: number; exact: boolean; chars: string; lines: OcrLine[] }>(
        `SELECT i.id, c.exact, o.chars, o.lines FROM (
           (SELECT item_id, true AS exact FROM ${s}.item_identifiers WHERE ident = $1 LIMIT ${PER_IDENTIFIER})
           UNION ALL
           (SELECT item_id, false FROM ${s}.item_ocr WHERE length($1) >= 3 AND chars LIKE $2 LIMIT ${PER_IDENTIFIER})
         ) c JOIN ${s}.items i ON i.id = c.item_id AND i.deleted_at IS NULL
         JOIN ${s}.item_ocr o ON o.item_id = i.id
         WHERE true${inCollections('i', 3)}
         ORDER BY i.id`,
        allowed ? [ident, likeInside(ident), allowed] : [ident, likeInside(ident)],
      );
      for (const r of rows) {
        if (out.identifiers.has(r.id)) continue;
        if (!r.exact && !containsIdentifier(ident, r.chars)) continue;
        const line = r.lines.find((l) => containsIdentifier(ident, normalizeIdentifier(l.text)))?.text ?? ident;
        out.identifiers.set(r.id, { identifier: ident, line });
      }
    }

    const keys = [...new Set(labels)];
    if (keys.length === 0) return out;
    await this.keyLabels();
    const rows = await this.db.query<{ id: number; entity_id: number; label: string }>(
      `SELECT i.id, e.id AS entity_id, e.label FROM ${s}.entities e JOIN ${s}.items i ON i.entity_id = e.id AND i.deleted_at IS NULL
       WHERE e.deleted_at IS NULL AND e.label_key = ANY($1::text[])${inCollections('e', 2)}
       ORDER BY e.id, i.id`,
      allowed ? [textArray(keys), allowed] : [textArray(keys)],
    );
    const taken = new Map<number, number>();
    for (const r of rows) {
      const n = taken.get(r.entity_id) ?? 0;
      if (n >= PER_ENTITY) continue;
      taken.set(r.entity_id, n + 1);
      out.named.set(r.id, { entityId: r.entity_id, label: r.label });
    }
    return out;
  }

  /** Writes labelKey(label) for the entities that have no key yet. */
  private async keyLabels(): Promise<void> {
    const s = this.s;
    for (;;) {
      const missing = await this.db.query<{ id: number; label: string }>(`SELECT id, label FROM ${s}.entities WHERE label_key IS NULL ORDER BY id LIMIT ${KEY_BATCH}`);
      if (missing.length === 0) return;
      await this.db.query(
        `UPDATE ${s}.entities e SET label_key = k.key FROM unnest($1::bigint[], $2::text[]) AS k(id, key) WHERE e.id = k.id AND e.label_key IS NULL`,
        [idArray(missing.map((m) => m.id)), textArray(missing.map((m) => labelKey(m.label)))],
      );
      if (missing.length < KEY_BATCH) return;
    }
  }
}
