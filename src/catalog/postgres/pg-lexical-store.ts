/**
 * LexicalCatalog on PostgreSQL: OCR readings, and the lexical side of hybrid search (sqlite-lexicon.ts
 * on SQLite).
 *
 * - A reading is one `item_ocr` row (lines as jsonb, body = the lines' text, chars = each line
 *   normalised, joined by spaces, as in SQLite, lexeme = the body's search words) and its
 *   identifiers in `item_identifiers`. A removed or forgotten image loses its reading (the item
 *   stores delete it in the same transaction).
 * - An identifier is found exactly in `item_identifiers`, and inside run-together OCR text by
 *   `chars LIKE '%IDENT%'` on the pg_trgm GIN index; the candidates are then judged by
 *   containsIdentifier, as SQLite judges its trigram hits, so 'M8' is not found in 'M80'.
 * - Labels are compared by labelKey (NFKC, Unicode letters and digits, JavaScript's upper case,
 *   cleanOcr's repairs). No SQL expression reproduces it for every label ('ß' → 'SS', '×' → 'X',
 *   'L0T 12' → 'LOT12', and upper()/[[:alnum:]] follow the database's locale), so
 *   `entities.label_key` holds labelKey(label), written with the entity; entities stored before
 *   (by schema version 3's item store) are keyed by the first label lookup (an indexed lookup of the
 *   NULLs, nothing when all are keyed; idempotent, so concurrent stores agree).
 * - Words: SQLite ranks FTS5 matches by BM25 over captions, descriptions and OCR text. Here the same
 *   texts carry a `lexeme` tsvector ('simple' configuration over searchWords(): the words as FTS5's
 *   unicode61 tokenizer with remove_diacritics cuts them) with a GIN index, and a match scores
 *   Σ idf(word) · ts_rank(lexeme, word, 1) over the query's words it has: BM25's idf (from the same
 *   document counts SQLite reads off its vocabulary), ts_rank's saturating term frequency, and its
 *   normalisation 1 (÷ 1 + log length) for BM25's length penalty. As in SQLite, scores are relative
 *   to the best match (0..1], and words on a large share of the texts are left to the vectors.
 */
import type { Item, LexicalCatalog, LexicalMatches, NewOcr, StoredOcr } from '../catalog.js';
import { containsIdentifier, labelKey, normalizeIdentifier } from '../../ocr/identifiers.js';
import type { OcrLine } from '../../ocr/ocr.js';
import { PER_ENTITY, PER_IDENTIFIER } from '../roles/lexical-store.js';
import { quoteSchema } from './pg-migrations.js';
import type { PgDb } from './pg-pool.js';
import { atParam, type ItemRow, itemSelect, msOf, searchWords, toItem } from './pg-rows.js';
import { pgWriter, type PgWrite } from './pg-write.js';

/** Word matches fetched per query before they are spread over entities' images. */
const WORD_HITS = 200;
/**
 * A word on more than this share of the indexed texts ("hex", "bolt" on every label of a bolt bin)
 * says little about which image is meant, and scoring it would rank most of the catalogue: it is
 * left to the vectors (as in SQLite, at least 20 texts).
 */
const COMMON_WORD_SHARE = 0.02;
/** Query words searched at most (SQLite's FTS query takes the first 32). */
const MAX_WORDS = 32;
/** Longer "words" are not words (and tsvector lexemes stop at 2 KB). */
const MAX_WORD_LENGTH = 200;
/** Entities keyed per round trip when labels are backfilled. */
const KEY_BATCH = 500;

/** LIKE's own characters escaped (identifiers are letters and digits, but the query is not checked). */
const likeInside = (text: string): string => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

/** BM25's idf as FTS5 computes it: log((N − n + 0.5) / (n + 0.5)), at least 1e-6. */
const idf = (total: number, docs: number): number => Math.max(1e-6, Math.log((total - docs + 0.5) / (docs + 0.5)));

type LiveRow = { id: number; entity_id: number | null; collection_id: number };

export class PgLexicalStore implements LexicalCatalog {
  private readonly s: string;
  private readonly write: PgWrite;

  /** `db` must have been migrated (migratePg) for this schema. */
  constructor(
    private readonly db: PgDb,
    schema = 'public',
    write?: PgWrite,
  ) {
    this.s = quoteSchema(schema);
    this.write = write ?? pgWriter(db, schema);
  }

  async itemsWithoutOcr(limit: number, afterId = 0): Promise<Item[]> {
    const s = this.s;
    const rows = await this.db.query<ItemRow>(
      `${itemSelect(s)} WHERE i.deleted_at IS NULL AND i.id > $1 AND NOT EXISTS (SELECT 1 FROM ${s}.item_ocr o WHERE o.item_id = i.id) ORDER BY i.id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map(toItem);
  }

  async countOcr(): Promise<{ read: number; withText: number; pending: number }> {
    const s = this.s;
    const [row] = await this.db.query<{ read: number; with_text: number; pending: number }>(
      `SELECT (SELECT count(*) FROM ${s}.item_ocr o JOIN ${s}.items i ON i.id = o.item_id AND i.deleted_at IS NULL) AS "read",
              (SELECT count(*) FROM ${s}.item_ocr o JOIN ${s}.items i ON i.id = o.item_id AND i.deleted_at IS NULL WHERE o.body <> '') AS with_text,
              (SELECT count(*) FROM ${s}.items i WHERE i.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM ${s}.item_ocr o WHERE o.item_id = i.id)) AS pending`,
    );
    return { read: row?.read ?? 0, withText: row?.with_text ?? 0, pending: row?.pending ?? 0 };
  }

  /** Forgets every reading, so the next OCR run reads every image again. Returns how many there were. */
  async resetOcr(): Promise<number> {
    const s = this.s;
    const [row] = await this.write((tx) =>
      tx.query<{ n: number }>(`WITH a AS (DELETE FROM ${s}.item_identifiers), b AS (DELETE FROM ${s}.item_ocr RETURNING 1) SELECT count(*) AS n FROM b`),
    );
    return row?.n ?? 0;
  }

  /** Stores what was read off an image (replacing an earlier reading). False when the item is gone. */
  async putOcr(itemId: number, ocr: NewOcr): Promise<boolean> {
    const s = this.s;
    const body = ocr.lines.map((l) => l.text).join('\n');
    const chars = ocr.lines.map((l) => normalizeIdentifier(l.text)).join(' ');
    return this.write(async (tx) => {
      // Locks the item row: a removal waits for this reading, or this waits and finds the item gone.
      const live = await tx.query(`SELECT 1 FROM ${s}.items WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [itemId]);
      if (live.length === 0) return false;
      await tx.query(`DELETE FROM ${s}.item_identifiers WHERE item_id = $1`, [itemId]);
      await tx.query(
        `INSERT INTO ${s}.item_ocr (item_id, model_id, lines, body, chars, created_at, lexeme) VALUES ($1, $2, $3::jsonb, $4, $5, ${atParam(6)}, to_tsvector('simple', $7))
         ON CONFLICT (item_id) DO UPDATE SET model_id = excluded.model_id, lines = excluded.lines, body = excluded.body, chars = excluded.chars,
           created_at = excluded.created_at, lexeme = excluded.lexeme`,
        [itemId, ocr.modelId, JSON.stringify(ocr.lines), body, chars, Date.now(), searchWords(body).join(' ')],
      );
      const idents = [...new Set(ocr.identifiers)];
      if (idents.length > 0) {
        await tx.query(`INSERT INTO ${s}.item_identifiers (ident, item_id) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`, [idents, itemId]);
      }
      return true;
    });
  }

  async ocrOf(itemId: number): Promise<StoredOcr | null> {
    const s = this.s;
    const [row] = await this.db.query<{ model_id: string; lines: OcrLine[]; created_ms: number; idents: string[] }>(
      `SELECT o.model_id, o.lines, ${msOf('o.created_at')} AS created_ms,
              ARRAY(SELECT ident FROM ${s}.item_identifiers WHERE item_id = o.item_id ORDER BY ident) AS idents
       FROM ${s}.item_ocr o JOIN ${s}.items i ON i.id = o.item_id AND i.deleted_at IS NULL WHERE o.item_id = $1`,
      [itemId],
    );
    return row ? { modelId: row.model_id, lines: row.lines, identifiers: row.idents, at: row.created_ms } : null;
  }

  /**
   * What the words and identifiers of a query find, among live images of the given collections
   * (an empty set finds nothing): images whose own label carries an identifier (with the line it is
   * on, and the entity of the image's collection whose label is that identifier), images of the
   * entities the query names, and word matches (captions and OCR text per image, descriptions per
   * entity), scored relative to the best. Words only rank among what an identifier found.
   */
  async lexicalMatches(query: { words: readonly string[]; identifiers: readonly string[]; labels?: readonly string[]; collectionIds?: ReadonlySet<number> }): Promise<LexicalMatches> {
    const out: LexicalMatches = { identifiers: new Map(), words: new Map(), named: new Map(), items: new Map() };
    if (query.collectionIds?.size === 0) return out;
    const allowed = query.collectionIds ? [...query.collectionIds] : null;
    const identifiers = [...new Set(query.identifiers)];
    if ((query.labels?.length ?? 0) > 0 || identifiers.length > 0) await this.keyLabels();
    await this.namedImages(query.labels ?? [], allowed, out);
    for (const ident of identifiers) await this.identifierImages(ident, allowed, out);
    // An identifier found nowhere leaves the query as it was.
    if (query.identifiers.length > 0 && out.items.size === 0) return out;
    await this.wordImages(query.words, allowed, out);
    return out;
  }

  /** The live images whose own reading carries the identifier, exactly or inside run-together text. */
  private async identifierImages(ident: string, allowed: number[] | null, out: LexicalMatches): Promise<void> {
    const s = this.s;
    // Exact readings, and the identifier inside run-together text (from 3 characters, as in SQLite),
    // then the live ones of the chosen collections, with the entity of their collection named by it.
    const rows = await this.db.query<{ id: number; entity_id: number | null; collection_id: number; exact: boolean; chars: string; lines: OcrLine[]; named: number | null }>(
      `SELECT i.id, i.entity_id, i.collection_id, c.exact, o.chars, o.lines,
              (SELECT e.id FROM ${s}.entities e WHERE e.collection_id = i.collection_id AND e.deleted_at IS NULL AND e.label_key = $1 ORDER BY e.id LIMIT 1) AS named
       FROM (
         (SELECT item_id, true AS exact FROM ${s}.item_identifiers WHERE ident = $1 LIMIT ${PER_IDENTIFIER})
         UNION ALL
         (SELECT item_id, false FROM ${s}.item_ocr WHERE length($1) >= 3 AND chars LIKE $2 LIMIT ${PER_IDENTIFIER})
       ) c JOIN ${s}.items i ON i.id = c.item_id AND i.deleted_at IS NULL
       JOIN ${s}.item_ocr o ON o.item_id = i.id
       WHERE true${allowed ? ' AND i.collection_id = ANY($3::bigint[])' : ''}
       ORDER BY i.id, c.exact DESC`,
      allowed ? [ident, likeInside(ident), allowed] : [ident, likeInside(ident)],
    );
    for (const r of rows) {
      if (!r.exact && !containsIdentifier(ident, r.chars)) continue;
      out.items.set(r.id, { entityId: r.entity_id, collectionId: r.collection_id });
      if (out.identifiers.has(r.id)) continue;
      const line = r.lines.find((l) => containsIdentifier(ident, normalizeIdentifier(l.text)))?.text ?? ident;
      out.identifiers.set(r.id, { identifier: ident, line, ...(r.named !== null ? { entityId: r.named } : {}) });
    }
  }

  /** The live images of the entities whose normalised label is one of `keys` (at most PER_ENTITY each). */
  private async namedImages(keys: readonly string[], allowed: number[] | null, out: LexicalMatches): Promise<void> {
    if (keys.length === 0) return;
    const s = this.s;
    const rows = await this.db.query<{ id: number; entity_id: number; collection_id: number; label: string }>(
      `SELECT i.id, e.id AS entity_id, i.collection_id, e.label FROM ${s}.entities e JOIN ${s}.items i ON i.entity_id = e.id AND i.deleted_at IS NULL
       WHERE e.deleted_at IS NULL AND e.label_key = ANY($1::text[])${allowed ? ' AND e.collection_id = ANY($2::bigint[])' : ''}
       ORDER BY e.id, i.id`,
      allowed ? [[...new Set(keys)], allowed] : [[...new Set(keys)]],
    );
    const taken = new Map<number, number>();
    for (const r of rows) {
      const n = taken.get(r.entity_id) ?? 0;
      if (n >= PER_ENTITY) continue;
      taken.set(r.entity_id, n + 1);
      out.named.set(r.id, { entityId: r.entity_id, label: r.label });
      out.items.set(r.id, { entityId: r.entity_id, collectionId: r.collection_id });
    }
  }

  /** Word matches: captions and OCR text credit their image, descriptions every image of their entity (PER_ENTITY at most). */
  private async wordImages(queryWords: readonly string[], allowed: number[] | null, out: LexicalMatches): Promise<void> {
    const words = await this.distinctive(queryWords);
    if (words.length === 0) return;
    const s = this.s;
    const scored = `(SELECT sum(w.idf * ts_rank(%.lexeme, w.q, 1)) FROM w WHERE %.lexeme @@ w.q)`;
    const hits = await this.db.query<{ item_id: number | null; entity_id: number | null; body: string; score: number }>(
      `WITH w AS (SELECT to_tsquery('simple', quote_literal(x.word)) AS q, x.idf FROM unnest($1::text[], $2::float8[]) AS x(word, idf)),
            q AS (SELECT to_tsquery('simple', $3) AS any_word)
       SELECT h.item_id, h.entity_id, h.body, h.score FROM (
         SELECT 0 AS kind, t.id, t.item_id, t.entity_id, t.body, ${scored.replace(/%/g, 't')} AS score FROM ${s}.texts t, q WHERE t.lexeme @@ q.any_word
         UNION ALL
         SELECT 1, o.item_id, o.item_id, NULL, o.body, ${scored.replace(/%/g, 'o')} FROM ${s}.item_ocr o, q WHERE o.lexeme @@ q.any_word
       ) h ORDER BY h.score DESC, h.kind, h.id LIMIT ${WORD_HITS}`,
      [words.map((w) => w.word), words.map((w) => w.idf), words.map((w) => `'${w.word}'`).join(' | ')],
    );
    const best = hits.reduce((m, h) => Math.max(m, h.score), 0) || 1;
    const credit = (itemId: number, score: number, text: string) => {
      const prev = out.words.get(itemId);
      if (!prev || prev.score < score) out.words.set(itemId, { score, text });
    };
    const itemIds = new Set<number>();
    const entityScores = new Map<number, { score: number; text: string }>();
    for (const h of hits) {
      const score = h.score / best;
      if (h.item_id !== null) {
        itemIds.add(h.item_id);
        credit(h.item_id, score, h.body);
      } else if (h.entity_id !== null && (entityScores.get(h.entity_id)?.score ?? -1) < score) {
        entityScores.set(h.entity_id, { score, text: h.body });
      }
    }
    // The images of the entities whose descriptions matched, in one query (at most PER_ENTITY each).
    const members =
      entityScores.size > 0
        ? await this.db.query<{ id: number; entity_id: number }>(
            `SELECT id, entity_id FROM ${s}.items WHERE entity_id = ANY($1::bigint[]) AND deleted_at IS NULL ORDER BY entity_id, id`,
            [[...entityScores.keys()]],
          )
        : [];
    const taken = new Map<number, number>();
    for (const m of members) {
      const n = taken.get(m.entity_id) ?? 0;
      if (n >= PER_ENTITY) continue;
      taken.set(m.entity_id, n + 1);
      const e = entityScores.get(m.entity_id)!;
      itemIds.add(m.id);
      credit(m.id, e.score, e.text);
    }
    const reachable = await this.live([...itemIds], allowed);
    const keep = new Set(reachable.map((r) => r.id));
    for (const id of out.words.keys()) if (!keep.has(id)) out.words.delete(id);
    for (const row of reachable) out.items.set(row.id, { entityId: row.entity_id, collectionId: row.collection_id });
  }

  /**
   * The query's search words that some indexed text has and at most a small share of them has, with
   * their idf; the first MAX_WORDS of them. Documents are texts and readings, as in SQLite's lexicon;
   * each word's count stops one past the share (exact for every word kept).
   */
  private async distinctive(queryWords: readonly string[]): Promise<Array<{ word: string; idf: number }>> {
    const words = [...new Set(queryWords.flatMap((w) => searchWords(w.trim())))].filter((w) => w.length > 1 && w.length <= MAX_WORD_LENGTH);
    if (words.length === 0) return [];
    const s = this.s;
    const [total] = await this.db.query<{ n: number }>(`SELECT (SELECT count(*) FROM ${s}.texts) + (SELECT count(*) FROM ${s}.item_ocr) AS n`);
    const n = total?.n ?? 0;
    const limit = Math.max(20, n * COMMON_WORD_SHARE);
    const counts = await this.db.query<{ word: string; docs: number }>(
      `SELECT x.word, (SELECT count(*) FROM (SELECT 1 FROM ${s}.texts t WHERE t.lexeme @@ x.q LIMIT $2) a)
                    + (SELECT count(*) FROM (SELECT 1 FROM ${s}.item_ocr o WHERE o.lexeme @@ x.q LIMIT $2) b) AS docs
       FROM (SELECT word, to_tsquery('simple', quote_literal(word)) AS q FROM unnest($1::text[]) AS word) x`,
      [words, Math.floor(limit) + 1],
    );
    const docs = new Map(counts.map((c) => [c.word, c.docs]));
    return words
      .filter((w) => (docs.get(w) ?? 0) > 0 && docs.get(w)! <= limit)
      .slice(0, MAX_WORDS)
      .map((word) => ({ word, idf: idf(n, docs.get(word)!) }));
  }

  /** The live ones among the ids, of the allowed collections. */
  private async live(ids: readonly number[], allowed: number[] | null): Promise<LiveRow[]> {
    if (ids.length === 0) return [];
    return this.db.query<LiveRow>(
      `SELECT id, entity_id, collection_id FROM ${this.s}.items WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL${allowed ? ' AND collection_id = ANY($2::bigint[])' : ''}`,
      allowed ? [[...ids], allowed] : [[...ids]],
    );
  }

  /** Writes labelKey(label) for the entities that have no key yet (stored before version 4 keyed them on creation). */
  private async keyLabels(): Promise<void> {
    const s = this.s;
    for (;;) {
      const missing = await this.db.query<{ id: number; label: string }>(`SELECT id, label FROM ${s}.entities WHERE label_key IS NULL ORDER BY id LIMIT ${KEY_BATCH}`);
      if (missing.length === 0) return;
      await this.write((tx) =>
        tx.query(`UPDATE ${s}.entities e SET label_key = k.key FROM unnest($1::bigint[], $2::text[]) AS k(id, key) WHERE e.id = k.id AND e.label_key IS NULL`, [
          missing.map((m) => m.id),
          missing.map((m) => labelKey(m.label)),
        ]),
      );
      if (missing.length < KEY_BATCH) return;
    }
  }
}
