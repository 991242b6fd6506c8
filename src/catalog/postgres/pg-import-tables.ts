/**
 * How each table of the SQLite catalogue (migrations.ts) becomes rows of the PostgreSQL one
 * (pg-migrations.ts), for `referent migrate` (pg-import.ts). One entry per PostgreSQL table, in an
 * order that satisfies every foreign key; each names the SQLite rows it copies, their key (the order
 * of the copy and of the checksums, and how far a copy got), and its columns: where each value comes
 * from and what kind it is, which says how it is written and read back.
 *
 * - Ids and log seqs are kept: identity columns are written with OVERRIDING SYSTEM VALUE and their
 *   sequences set past the copied ids at the end (`identity`).
 * - Derived columns are filled as the stores fill them on their own writes: entities.label_key is
 *   labelKey(label) (pg-entity-store.ts), texts.lexeme and item_ocr.lexeme are
 *   to_tsvector('simple', searchWords(body)) (pg-entity-store.ts, pg-lexical-store.ts), vector_models
 *   is each model's dimension (its HNSW index is made by PgModels.ensure once its vectors are in).
 * - SQLite's `vectors` splits by owner into item_vectors and text_vectors (pgvector columns); its
 *   `dim` column becomes vector_models. The FTS5 tables (lexicon, ocr_chars and theirs) are indexes
 *   of rows copied here, rebuilt by PostgreSQL from the lexeme columns: nothing to copy.
 * - Where SQLite allows a NULL that PostgreSQL does not (an audit entry's user, platform, scope), the
 *   value is what SqliteAccess.listAudit answers for it: ''.
 * Text keys are ordered bytewise on both sides (SQLite's BINARY, PostgreSQL's "C").
 */
import { labelKey } from '../../ocr/identifiers.js';
import { FACE_DIM } from '../roles/face-store.js';
import { dimensionMismatch } from '../roles/item-store.js';
import { fromBlob } from '../sqlite-entities.js';
import { searchWords } from './pg-rows.js';

/**
 * What a column holds, which fixes how it travels: `time` is epoch ms at the interface and timestamptz
 * in the table; `vector` a Float32Array and pgvector's `vector`; `jsonb` JSON text; `lexeme` the words
 * of a text, stored as their tsvector; `double` a float8 (SQLite's REAL), bit for bit.
 */
export type ColumnKind = 'bigint' | 'integer' | 'double' | 'text' | 'boolean' | 'time' | 'jsonb' | 'vector' | 'lexeme';

export type SourceRow = Record<string, unknown>;
export type ColumnValue = string | number | boolean | null | Float32Array;

export interface ImportColumn {
  /** The PostgreSQL column. */
  name: string;
  kind: ColumnKind;
  /** Its value for a SQLite row (default: the SQLite column of the same name). */
  from?: (row: SourceRow) => ColumnValue;
}

export interface ImportTable {
  /** The PostgreSQL table: also the name in the bookkeeping and in the report. */
  name: string;
  /** The SQLite tables it reads (every table of the SQLite catalogue is read by some entry, or derived). */
  reads: readonly string[];
  /** SQLite: a SELECT of the rows to copy, naming the key columns as `key` does (no ORDER BY, no LIMIT). */
  source: string;
  /** Key columns, named alike in `source` and in the PostgreSQL table: rows are copied and compared in this order. */
  key: readonly string[];
  columns: readonly ImportColumn[];
  /** The identity column, whose sequence goes past the copied values. */
  identity?: string;
}

const col = (name: string, kind: ColumnKind, from?: (row: SourceRow) => ColumnValue): ImportColumn => (from ? { name, kind, from } : { name, kind });
const id = (name = 'id') => col(name, 'bigint');
const ref = (name: string) => col(name, 'bigint');
const text = (name: string) => col(name, 'text');
const time = (name: string) => col(name, 'time');
const flag = (name: string) => col(name, 'boolean', (r) => r[name] === 1);
/** The words of a body, as the stores write them into `lexeme`. */
const words = (r: SourceRow) => searchWords(String(r.body)).join(' ');
const embedding = col('embedding', 'vector', (r) => {
  const data = r.data as Buffer;
  if (data.length !== Number(r.dim) * 4) throw new RangeError(`a vector of ${String(r.model_id)} holds ${data.length} bytes for ${String(r.dim)} dimensions`);
  return fromBlob(data);
});

export const IMPORT_TABLES: readonly ImportTable[] = [
  {
    name: 'collections',
    reads: ['collections'],
    source: `SELECT id, name, kind, enabled, created_at FROM collections`,
    key: ['id'],
    identity: 'id',
    columns: [id(), text('name'), text('kind'), flag('enabled'), time('created_at')],
  },
  {
    name: 'collection_scopes',
    reads: ['collection_scopes'],
    source: `SELECT collection_id, platform, workspace, channel FROM collection_scopes`,
    key: ['collection_id', 'platform', 'workspace', 'channel'],
    columns: [ref('collection_id'), text('platform'), text('workspace'), text('channel')],
  },
  {
    name: 'audit',
    reads: ['audit'],
    source: `SELECT id, user, platform, scope, collection_id, query, created_at FROM audit`,
    key: ['id'],
    identity: 'id',
    columns: [
      id(),
      col('actor', 'text', (r) => (r.user as string | null) ?? ''),
      col('platform', 'text', (r) => (r.platform as string | null) ?? ''),
      col('scope', 'text', (r) => (r.scope as string | null) ?? ''),
      ref('collection_id'),
      text('query'),
      time('created_at'),
    ],
  },
  {
    name: 'entities',
    reads: ['entities'],
    source: `SELECT id, collection_id, label, kind, created_at, deleted_at FROM entities`,
    key: ['id'],
    identity: 'id',
    columns: [id(), ref('collection_id'), text('label'), text('kind'), time('created_at'), time('deleted_at'), col('label_key', 'text', (r) => labelKey(String(r.label)))],
  },
  {
    name: 'items',
    reads: ['items'],
    source: `SELECT id, collection_id, hash, media_key, width, height, caption, entity_id, source_platform, source_channel, source_user, source_ref, created_at, deleted_at FROM items`,
    key: ['id'],
    identity: 'id',
    columns: [
      id(),
      ref('collection_id'),
      text('hash'),
      text('media_key'),
      col('width', 'integer'),
      col('height', 'integer'),
      text('caption'),
      ref('entity_id'),
      text('source_platform'),
      text('source_channel'),
      text('source_user'),
      text('source_ref'),
      time('created_at'),
      time('deleted_at'),
    ],
  },
  {
    name: 'texts',
    reads: ['texts'],
    source: `SELECT id, entity_id, item_id, body, source, author, created_at, deleted_at FROM texts`,
    key: ['id'],
    identity: 'id',
    columns: [id(), ref('entity_id'), ref('item_id'), text('body'), text('source'), text('author'), time('created_at'), time('deleted_at'), col('lexeme', 'lexeme', words)],
  },
  {
    name: 'phrases',
    reads: ['phrases'],
    source: `SELECT id, text_id, body FROM phrases`,
    key: ['id'],
    identity: 'id',
    columns: [id(), ref('text_id'), text('body')],
  },
  {
    // Every model's vectors have one dimension (PgModels refuses another): a catalogue that mixes them cannot move.
    name: 'vector_models',
    reads: ['vectors'],
    source: `SELECT model_id, MIN(dim) AS dim, MAX(dim) AS max_dim FROM vectors GROUP BY model_id`,
    key: ['model_id'],
    columns: [
      text('model_id'),
      col('dim', 'integer', (r) => {
        if (r.dim !== r.max_dim) throw dimensionMismatch(String(r.model_id), Number(r.dim), Number(r.max_dim), 'The SQLite catalogue');
        return Number(r.dim);
      }),
    ],
  },
  {
    name: 'item_vectors',
    reads: ['vectors'],
    source: `SELECT owner_id AS item_id, model_id, dim, data FROM vectors WHERE owner_kind = 'item'`,
    key: ['item_id', 'model_id'],
    columns: [ref('item_id'), text('model_id'), embedding],
  },
  {
    name: 'text_vectors',
    reads: ['vectors'],
    source: `SELECT owner_kind, owner_id, model_id, dim, data FROM vectors WHERE owner_kind <> 'item'`,
    key: ['owner_kind', 'owner_id', 'model_id'],
    columns: [text('owner_kind'), ref('owner_id'), text('model_id'), embedding],
  },
  {
    name: 'feedback',
    reads: ['feedback'],
    source: `SELECT id, query, item_id, entity_id, verdict, user, created_at, undone_at, linked, text_id FROM feedback`,
    key: ['id'],
    identity: 'id',
    columns: [
      id(),
      text('query'),
      ref('item_id'),
      ref('entity_id'),
      text('verdict'),
      col('actor', 'text', (r) => r.user as string | null),
      time('created_at'),
      time('undone_at'),
      flag('linked'),
      ref('text_id'),
    ],
  },
  {
    name: 'item_ocr',
    reads: ['item_ocr'],
    source: `SELECT item_id, model_id, lines, body, chars, created_at FROM item_ocr`,
    key: ['item_id'],
    columns: [ref('item_id'), text('model_id'), col('lines', 'jsonb'), text('body'), text('chars'), time('created_at'), col('lexeme', 'lexeme', words)],
  },
  {
    name: 'item_identifiers',
    reads: ['item_identifiers'],
    source: `SELECT ident, item_id FROM item_identifiers`,
    key: ['ident', 'item_id'],
    columns: [text('ident'), ref('item_id')],
  },
  {
    name: 'index_log',
    reads: ['index_log'],
    source: `SELECT seq, item_id, op FROM index_log`,
    key: ['seq'],
    identity: 'seq',
    columns: [id('seq'), ref('item_id'), text('op')],
  },
  {
    name: 'entity_log',
    reads: ['entity_log'],
    source: `SELECT seq, entity_id FROM entity_log`,
    key: ['seq'],
    identity: 'seq',
    columns: [id('seq'), ref('entity_id')],
  },
  {
    name: 'meta',
    reads: ['meta'],
    source: `SELECT key, value FROM meta`,
    key: ['key'],
    columns: [text('key'), text('value')],
  },
  {
    name: 'platform_files',
    reads: ['platform_files'],
    source: `SELECT platform, workspace, media_key, file_ref, created_at FROM platform_files`,
    key: ['platform', 'workspace', 'media_key'],
    columns: [text('platform'), text('workspace'), text('media_key'), text('file_ref'), time('created_at')],
  },
  {
    name: 'face_collections',
    reads: ['face_collections'],
    source: `SELECT collection_id, enabled_at FROM face_collections`,
    key: ['collection_id'],
    columns: [ref('collection_id'), time('enabled_at')],
  },
  {
    name: 'face_scans',
    reads: ['face_scans'],
    source: `SELECT item_id, model_id, faces, created_at FROM face_scans`,
    key: ['item_id'],
    columns: [ref('item_id'), text('model_id'), col('faces', 'integer'), time('created_at')],
  },
  {
    name: 'faces',
    reads: ['faces'],
    source: `SELECT id, item_id, collection_id, x, y, width, height, score, descriptor FROM faces`,
    key: ['id'],
    identity: 'id',
    columns: [
      id(),
      ref('item_id'),
      ref('collection_id'),
      ...['x', 'y', 'width', 'height', 'score'].map((name) => col(name, 'double')),
      col('descriptor', 'vector', (r) => {
        const data = r.descriptor as Buffer;
        if (data.length !== FACE_DIM * 4) throw new RangeError(`a face descriptor holds ${data.length} bytes, not ${FACE_DIM * 4}`);
        return fromBlob(data);
      }),
    ],
  },
  {
    name: 'media_trash',
    reads: ['media_trash'],
    source: `SELECT media_key, queued_at FROM media_trash`,
    key: ['media_key'],
    columns: [text('media_key'), time('queued_at')],
  },
];

/**
 * PostgreSQL tables that no SQLite table feeds: entity_references holds the entities' fused
 * references, which every process derives from the rows copied here as it follows the entity log
 * (pg-reference-store.ts). They start empty.
 */
export const DERIVED_PG_TABLES: readonly string[] = ['entity_references'];

/**
 * SQLite tables that are indexes of copied rows (FTS5 and its shadow tables, fts5vocab) or SQLite's
 * own: nothing of them is copied.
 */
export const isDerivedSqliteTable = (name: string): boolean => /^(lexicon|ocr_chars)(_(data|idx|content|docsize|config|terms))?$/.test(name) || name.startsWith('sqlite_');

/** A column's value for a SQLite row. */
export function sourceValue(column: ImportColumn, row: SourceRow): ColumnValue {
  if (column.from) return column.from(row);
  const value = row[column.name];
  return value === undefined ? null : (value as ColumnValue);
}
