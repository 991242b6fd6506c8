/**
 * Text read off images (OCR) and the lexical side of hybrid search: the words of captions,
 * descriptions and OCR text (FTS5, BM25), and identifiers printed on labels (exact, and as
 * substrings of the OCR text whatever spaces the engine dropped). The lexical half of
 * SqliteCatalog, on the same connection; migration 4 holds the tables and the triggers that keep
 * the FTS tables in step with the rows they index.
 */
import { containsIdentifier, normalizeIdentifier } from '../ocr/identifiers.js';
import type { OcrLine } from '../ocr/ocr.js';
import type { Item, LexicalMatches, NewOcr, StoredOcr } from './catalog.js';
import type { SqlDb } from './sqlite-entities.js';

/** Word matches fetched per query before they are spread over entities' images. */
const WORD_HITS = 200;
/** Images of one entity that a match on the entity (a description) reaches. */
const PER_ENTITY = 50;
/** Images one identifier may reach (a label printed on every photo of a bin is still one answer). */
const PER_IDENTIFIER = 200;
/**
 * A word on more than this share of the indexed texts ("hex", "bolt" on every label of a bolt bin)
 * says little about which image is meant, and scoring it would rank most of the catalogue: it is
 * left to the vectors.
 */
const COMMON_WORD_SHARE = 0.02;

/** FTS5 query for some words: each quoted (so no operator can be injected), any of them. */
function ftsQuery(words: readonly string[]): string | null {
  const terms = [...new Set(words.map((w) => w.trim()).filter((w) => w.length > 1))].slice(0, 32);
  return terms.length ? terms.map((w) => `"${w.replace(/"/g, '""')}"`).join(' OR ') : null;
}

/**
 * An entity's label as labelKey() forms it (letters of any script and digits, upper case:
 * 'P-20417', 'p20417' → 'P20417'; 'Zoë Ng' → 'ZOËNG'), by the function SqliteCatalog registers on
 * its connection. The query side is labelKeys() in src/search/hybrid.ts.
 */
const NORMALISED_LABEL = 'referent_label_key(e.label)';

export class SqliteLexicon {
  constructor(
    private readonly db: SqlDb,
    private readonly write: <T>(fn: () => T) => T,
    private readonly getItems: (ids: readonly number[]) => Map<number, Item>,
  ) {}

  itemsWithoutOcr(limit: number, afterId = 0): Item[] {
    const rows = this.db
      .prepare(`SELECT i.id FROM items i WHERE i.deleted_at IS NULL AND i.id > ? AND NOT EXISTS (SELECT 1 FROM item_ocr o WHERE o.item_id = i.id) ORDER BY i.id LIMIT ?`)
      .all(afterId, limit) as Array<{ id: number }>;
    const items = this.getItems(rows.map((r) => r.id));
    return rows.flatMap((r) => items.get(r.id) ?? []);
  }

  countOcr(): { read: number; withText: number; pending: number } {
    const row = this.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM item_ocr o JOIN items i ON i.id = o.item_id AND i.deleted_at IS NULL) AS read,
                (SELECT COUNT(*) FROM item_ocr o JOIN items i ON i.id = o.item_id AND i.deleted_at IS NULL WHERE o.body <> '') AS withText,
                (SELECT COUNT(*) FROM items i WHERE i.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM item_ocr o WHERE o.item_id = i.id)) AS pending`,
      )
      .get() as { read: number; withText: number; pending: number };
    return row;
  }

  /** Forgets every reading, so the next OCR run reads every image again. Returns how many there were. */
  resetOcr(): number {
    return this.write(() => this.db.prepare(`DELETE FROM item_ocr`).run().changes);
  }

  /** Stores what was read off an image (replacing an earlier reading). False when the item is gone. */
  putOcr(itemId: number, ocr: NewOcr): boolean {
    return this.write(() => {
      if (!this.db.prepare(`SELECT 1 FROM items WHERE id = ? AND deleted_at IS NULL`).get(itemId)) return false;
      this.db.prepare(`DELETE FROM item_ocr WHERE item_id = ?`).run(itemId);
      const body = ocr.lines.map((l) => l.text).join('\n');
      const chars = ocr.lines.map((l) => normalizeIdentifier(l.text)).join(' ');
      this.db
        .prepare(`INSERT INTO item_ocr (item_id, model_id, lines, body, chars, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(itemId, ocr.modelId, JSON.stringify(ocr.lines), body, chars, Date.now());
      for (const ident of new Set(ocr.identifiers)) this.db.prepare(`INSERT OR IGNORE INTO item_identifiers (ident, item_id) VALUES (?, ?)`).run(ident, itemId);
      return true;
    });
  }

  ocrOf(itemId: number): StoredOcr | null {
    const row = this.db.prepare(`SELECT model_id, lines, created_at FROM item_ocr WHERE item_id = ?`).get(itemId) as { model_id: string; lines: string; created_at: number } | undefined;
    if (!row) return null;
    const identifiers = (this.db.prepare(`SELECT ident FROM item_identifiers WHERE item_id = ? ORDER BY ident`).all(itemId) as Array<{ ident: string }>).map((r) => r.ident);
    return { modelId: row.model_id, lines: JSON.parse(row.lines) as OcrLine[], identifiers, at: row.created_at };
  }

  /**
   * What the words and identifiers of a query find, among live images of the given collections:
   * images whose own label carries an identifier (with the line it is on), entities one of whose
   * photos carries it, and BM25 word matches (captions and OCR text per image, descriptions per entity).
   */
  lexicalMatches(query: { words: readonly string[]; identifiers: readonly string[]; labels?: readonly string[]; collectionIds?: ReadonlySet<number> }): LexicalMatches {
    const out: LexicalMatches = { identifiers: new Map(), words: new Map(), named: new Map(), items: new Map() };
    const allowed = query.collectionIds ? JSON.stringify([...query.collectionIds]) : null;
    this.namedImages(query.labels ?? [], allowed, out);
    const live = (ids: readonly number[]) => {
      if (ids.length === 0) return [] as Array<{ id: number; entity_id: number | null; collection_id: number }>;
      const sql = `SELECT id, entity_id, collection_id FROM items WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL${allowed ? ' AND collection_id IN (SELECT value FROM json_each(?))' : ''}`;
      return this.db.prepare(sql).all(JSON.stringify(ids), ...(allowed ? [allowed] : [])) as Array<{ id: number; entity_id: number | null; collection_id: number }>;
    };
    for (const ident of new Set(query.identifiers)) {
      const exact = (this.db.prepare(`SELECT item_id FROM item_identifiers WHERE ident = ? LIMIT ?`).all(ident, PER_IDENTIFIER) as Array<{ item_id: number }>).map((r) => r.item_id);
      // The engine may have run the identifier into its neighbours ("HEXBOLTM8LOT4471B"): find it as a substring.
      const inside =
        ident.length >= 3
          ? (this.db.prepare(`SELECT rowid AS id, chars FROM ocr_chars WHERE ocr_chars MATCH ? LIMIT ?`).all(`"${ident}"`, PER_IDENTIFIER) as Array<{ id: number; chars: string }>)
              .filter((r) => containsIdentifier(ident, r.chars))
              .map((r) => r.id)
          : [];
      for (const row of live([...new Set([...exact, ...inside])])) {
        out.items.set(row.id, { entityId: row.entity_id, collectionId: row.collection_id });
        if (!out.identifiers.has(row.id)) {
          const named = this.entityNamed(ident, row.collection_id);
          out.identifiers.set(row.id, { identifier: ident, line: this.lineWith(row.id, ident), ...(named ? { entityId: named } : {}) });
        }
      }
    }
    // Words only rank among what an identifier found: an identifier found nowhere leaves the query as it was.
    if (query.identifiers.length > 0 && out.items.size === 0) return out;
    const fts = ftsQuery(this.distinctive(query.words));
    if (!fts) return out;
    const hits = this.db
      .prepare(
        `SELECT h.rowid AS rowid, h.score AS score, t.item_id AS textItem, t.entity_id AS textEntity, h.body AS body
         FROM (SELECT rowid, body, -bm25(lexicon) AS score FROM lexicon WHERE lexicon MATCH ? ORDER BY bm25(lexicon) LIMIT ?) h
         LEFT JOIN texts t ON h.rowid % 2 = 0 AND t.id = h.rowid / 2`,
      )
      .all(fts, WORD_HITS) as Array<{ rowid: number; score: number; textItem: number | null; textEntity: number | null; body: string }>;
    const best = hits.reduce((m, h) => Math.max(m, h.score), 0) || 1;
    const credit = (itemId: number, score: number, text: string) => {
      const prev = out.words.get(itemId);
      if (!prev || prev.score < score) out.words.set(itemId, { score, text });
    };
    const itemIds = new Set<number>();
    const entityScores = new Map<number, { score: number; text: string }>();
    for (const h of hits) {
      const score = h.score / best;
      const itemId = h.rowid % 2 === 1 ? (h.rowid - 1) / 2 : h.textItem;
      if (itemId !== null) {
        itemIds.add(itemId);
        credit(itemId, score, h.body);
      } else if (h.textEntity !== null && (entityScores.get(h.textEntity)?.score ?? -1) < score) {
        entityScores.set(h.textEntity, { score, text: h.body });
      }
    }
    // The images of the entities whose descriptions matched, in one query (at most PER_ENTITY each).
    const members = entityScores.size
      ? (this.db
          .prepare(`SELECT id, entity_id FROM items WHERE entity_id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL ORDER BY entity_id, id`)
          .all(JSON.stringify([...entityScores.keys()])) as Array<{ id: number; entity_id: number }>)
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
    const reachable = live([...itemIds]);
    const keep = new Set(reachable.map((r) => r.id));
    for (const id of out.words.keys()) if (!keep.has(id)) out.words.delete(id);
    for (const row of reachable) out.items.set(row.id, { entityId: row.entity_id, collectionId: row.collection_id });
    return out;
  }

  /** The query's words that are not on a large share of the indexed texts. */
  private distinctive(words: readonly string[]): string[] {
    if (words.length === 0) return [];
    // lexicon_docsize has one row per indexed text: counting it is instant, counting lexicon is not.
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM lexicon_docsize`).get() as { n: number }).n;
    const limit = Math.max(20, total * COMMON_WORD_SHARE);
    const counts = new Map(
      (this.db.prepare(`SELECT term, doc FROM lexicon_terms WHERE term IN (SELECT value FROM json_each(?))`).all(JSON.stringify(words)) as Array<{ term: string; doc: number }>).map((r) => [r.term, r.doc]),
    );
    return words.filter((w) => (counts.get(w) ?? 0) > 0 && counts.get(w)! <= limit);
  }

  /** The live images of the entities whose normalised label is one of `keys` (at most PER_ENTITY each). */
  private namedImages(keys: readonly string[], allowed: string | null, out: LexicalMatches): void {
    if (keys.length === 0) return;
    const rows = this.db
      .prepare(
        `SELECT i.id, i.entity_id, i.collection_id, e.label FROM entities e JOIN items i ON i.entity_id = e.id AND i.deleted_at IS NULL
         WHERE e.deleted_at IS NULL AND ${NORMALISED_LABEL} IN (SELECT value FROM json_each(?))${allowed ? ' AND e.collection_id IN (SELECT value FROM json_each(?))' : ''}
         ORDER BY e.id, i.id`,
      )
      .all(JSON.stringify(keys), ...(allowed ? [allowed] : [])) as Array<{ id: number; entity_id: number; collection_id: number; label: string }>;
    const taken = new Map<number, number>();
    for (const r of rows) {
      const n = taken.get(r.entity_id) ?? 0;
      if (n >= PER_ENTITY) continue;
      taken.set(r.entity_id, n + 1);
      out.named.set(r.id, { entityId: r.entity_id, label: r.label });
      out.items.set(r.id, { entityId: r.entity_id, collectionId: r.collection_id });
    }
  }

  /** The entity of a collection whose label is this identifier ('P-20417' for 'P20417'), if any. */
  private entityNamed(ident: string, collectionId: number): number | null {
    // Labels are written with the usual separators; compare them without, as identifiers are.
    const row = this.db
      .prepare(`SELECT e.id FROM entities e WHERE e.collection_id = ? AND e.deleted_at IS NULL AND ${NORMALISED_LABEL} = ? LIMIT 1`)
      .get(collectionId, ident) as { id: number } | undefined;
    return row?.id ?? null;
  }

  /** The OCR line that carries an identifier, as the engine read it. */
  private lineWith(itemId: number, ident: string): string {
    const row = this.db.prepare(`SELECT lines FROM item_ocr WHERE item_id = ?`).get(itemId) as { lines: string } | undefined;
    const lines = row ? (JSON.parse(row.lines) as OcrLine[]) : [];
    return lines.find((l) => containsIdentifier(ident, normalizeIdentifier(l.text)))?.text ?? ident;
  }
}
