/**
 * Forward-only schema migrations for the PostgreSQL catalogue. Entry i moves the schema from
 * version i to i+1; never edit a released entry, add one. `migratePg` runs on start: every pending
 * entry and its schema_version row commit together, under a transaction-scoped advisory lock, so two
 * servers (or a server and a CLI command) starting at once apply each entry exactly once.
 *
 * The catalogue (names follow the SQLite catalogue, so a copy between engines is table by table):
 *   collections, collection_scopes, audit                        — access and audit (version 1)
 *   entities, items, vector_models, item_vectors                 — items and their vectors (2)
 *   item_ocr, item_identifiers, entities.label_key               — OCR and labels (3)
 *   meta, texts, phrases, text_vectors, feedback, index_log,
 *   entity_log, platform_files, media_trash                      — the rest of the catalogue (4)
 *   entity_references                                            — derived: fused references (5)
 *   face_collections, face_scans, faces                          — faces in person collections (6)
 * - Rows are the SQLite catalogue's, one for one: soft deletes (deleted_at) on items and entities,
 *   a forget scrubs rows rather than deleting them, index_log and entity_log are what followers
 *   replay (bigint identity seq; see pg-write.ts for why they commit in seq order).
 * - Vectors are pgvector `vector` columns: item_vectors (item, model) and text_vectors (owner_kind
 *   'text' | 'phrase' | 'feedback', owner id, model). vector_models records each model's dimension
 *   (fixed by its first vector) and owns one partial HNSW index per model on item_vectors
 *   (`vector_cosine_ops` on `embedding::vector(dim)` WHERE model_id = …), searched with pgvector's
 *   iterative scans so a collection filter still returns k rows (pg-vectors.ts, pg-item-store.ts).
 * - Lexical search: `lexeme` tsvector columns on texts and item_ocr ('simple' configuration over
 *   the words as the SQLite tokenizer cuts them, written by the stores) with GIN indexes, and a
 *   pg_trgm index on the OCR characters for identifiers inside run-together text.
 * - Every table has a statement-level trigger that calls pg_notify on the schema's channel
 *   (changeChannel): a transaction that changed anything notifies every listening process once, at
 *   commit, whoever wrote it and however (pg-catalog.ts changeStamp). A table a later version adds
 *   must get it too (notifyTriggers; version 6 does).
 * Ids are `bigint` identities; times are timestamptz (epoch ms at the interface); text keys compare
 * in "C" collation, the byte order SQLite uses.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, ReferentError } from '../../errors.js';
import { type PgDb, type PgQueryable, sqlState } from './pg-pool.js';

/** `s` is the quoted schema name, `schema` the bare one. */
const migrations: ReadonlyArray<(s: string, schema: string) => string> = [
  // 1: access and audit.
  (s) => `
  CREATE TABLE ${s}.collections (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text COLLATE "C" NOT NULL UNIQUE,
    kind text NOT NULL CHECK (kind IN ('part', 'person', 'other')),
    enabled boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  -- Chat scopes allowed to search a collection: a workspace/team (channel '*') or one channel of it.
  CREATE TABLE ${s}.collection_scopes (
    collection_id bigint NOT NULL REFERENCES ${s}.collections (id) ON DELETE CASCADE,
    platform text COLLATE "C" NOT NULL,
    workspace text COLLATE "C" NOT NULL,
    channel text COLLATE "C" NOT NULL DEFAULT '*',
    PRIMARY KEY (collection_id, platform, workspace, channel)
  );
  -- Every chat request asks "what may this scope search?": that lookup must not scan every grant.
  CREATE INDEX collection_scopes_scope ON ${s}.collection_scopes (platform, workspace, channel);
  CREATE TABLE ${s}.audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor text NOT NULL,
    platform text NOT NULL,
    scope text NOT NULL,
    collection_id bigint REFERENCES ${s}.collections (id),
    query text NOT NULL,
    created_at timestamptz NOT NULL
  );
  `,
  // 2: items, their entities, and item vectors (pg-item-store.ts). The HNSW index is per model and
  // made when a store for that model opens, since only then is the dimension known.
  (s) => `
  CREATE TABLE ${s}.entities (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id bigint NOT NULL REFERENCES ${s}.collections (id),
    label text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    created_at timestamptz NOT NULL,
    deleted_at timestamptz,
    UNIQUE (collection_id, label)
  );
  CREATE TABLE ${s}.items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id bigint NOT NULL REFERENCES ${s}.collections (id),
    hash text COLLATE "C" NOT NULL,
    media_key text COLLATE "C" NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    caption text,
    entity_id bigint REFERENCES ${s}.entities (id),
    source_platform text NOT NULL DEFAULT 'cli',
    source_channel text,
    source_user text,
    source_ref text,
    created_at timestamptz NOT NULL,
    deleted_at timestamptz
  );
  -- One live item per image per collection; a forgotten image may be added again.
  CREATE UNIQUE INDEX items_live_hash ON ${s}.items (collection_id, hash) WHERE deleted_at IS NULL;
  CREATE INDEX items_entity ON ${s}.items (entity_id);
  -- The dimension each model's vectors were stored with: a store opened with another is refused.
  CREATE TABLE ${s}.vector_models (
    model_id text COLLATE "C" PRIMARY KEY,
    dim integer NOT NULL CHECK (dim BETWEEN 1 AND 2000)
  );
  -- A removed item's vectors are deleted with it (soft delete of the item, hard delete of the vector).
  CREATE TABLE ${s}.item_vectors (
    item_id bigint NOT NULL REFERENCES ${s}.items (id),
    model_id text COLLATE "C" NOT NULL REFERENCES ${s}.vector_models (model_id),
    embedding vector NOT NULL,
    PRIMARY KEY (item_id, model_id)
  );
  `,
  // 3: OCR readings and the identifier/label half of lexical search (pg-lexical-store.ts). pg_trgm
  // is a trusted extension (PostgreSQL 13+): the database owner may create it. Its trigram index
  // on `chars` serves `LIKE '%IDENT%'`, the identifier found inside run-together OCR text.
  // `label_key` is labelKey(label), written by the lexical store (a JavaScript function no SQL
  // expression reproduces for every label); NULL until then.
  (s) => `
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE TABLE ${s}.item_ocr (
    item_id bigint PRIMARY KEY REFERENCES ${s}.items (id),
    model_id text COLLATE "C" NOT NULL,
    lines jsonb NOT NULL,
    body text NOT NULL,
    chars text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL
  );
  CREATE INDEX item_ocr_chars_trgm ON ${s}.item_ocr USING gin (chars gin_trgm_ops);
  CREATE TABLE ${s}.item_identifiers (
    ident text COLLATE "C" NOT NULL,
    item_id bigint NOT NULL REFERENCES ${s}.items (id),
    PRIMARY KEY (ident, item_id)
  );
  CREATE INDEX item_identifiers_item ON ${s}.item_identifiers (item_id);
  ALTER TABLE ${s}.entities ADD COLUMN label_key text COLLATE "C";
  CREATE INDEX entities_label_key ON ${s}.entities (label_key) WHERE deleted_at IS NULL;
  CREATE INDEX entities_label_key_missing ON ${s}.entities (id) WHERE label_key IS NULL;
  `,
  // 4: the rest of the catalogue (pg-catalog.ts and its stores): the model, descriptions and their
  // detail phrases, text vectors, verdicts, the two logs followers replay, the platforms' copies of
  // images, the media trash, word search over descriptions and OCR text, and change notifications.
  (s, schema) => `
  CREATE TABLE ${s}.meta (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);

  -- lexeme: to_tsvector('simple', …) of the body's words as searchWords() cuts them (lower case, no
  -- diacritics), written with the row: the folding is JavaScript's, as SQLite's FTS5 tokenizer does it.
  CREATE TABLE ${s}.texts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_id bigint REFERENCES ${s}.entities (id),
    item_id bigint REFERENCES ${s}.items (id),
    body text NOT NULL,
    source text NOT NULL CHECK (source IN ('caption', 'describe', 'review', 'import')),
    author text,
    created_at timestamptz NOT NULL,
    deleted_at timestamptz,
    lexeme tsvector NOT NULL,
    CHECK (entity_id IS NOT NULL OR item_id IS NOT NULL)
  );
  CREATE INDEX texts_entity ON ${s}.texts (entity_id);
  CREATE INDEX texts_item ON ${s}.texts (item_id);
  CREATE INDEX texts_lexeme ON ${s}.texts USING gin (lexeme);

  CREATE TABLE ${s}.phrases (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    text_id bigint NOT NULL REFERENCES ${s}.texts (id) ON DELETE CASCADE,
    body text NOT NULL
  );
  CREATE INDEX phrases_text ON ${s}.phrases (text_id);

  -- Vectors of texts, their phrases and verdict queries. Owners of three tables, so no foreign key:
  -- whoever deletes an owner deletes its vectors in the same transaction.
  CREATE TABLE ${s}.text_vectors (
    owner_kind text NOT NULL CHECK (owner_kind IN ('text', 'phrase', 'feedback')),
    owner_id bigint NOT NULL,
    model_id text COLLATE "C" NOT NULL REFERENCES ${s}.vector_models (model_id),
    embedding vector NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, model_id)
  );
  CREATE INDEX text_vectors_model ON ${s}.text_vectors (model_id);
  CREATE INDEX item_vectors_model ON ${s}.item_vectors (model_id);

  -- What followers replay, in seq order. Append-only, no foreign keys (as in SQLite): an entry
  -- outlives nothing it could point at, since items and entities are never deleted.
  CREATE TABLE ${s}.index_log (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id bigint NOT NULL,
    op text NOT NULL CHECK (op IN ('add', 'del'))
  );
  CREATE TABLE ${s}.entity_log (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_id bigint NOT NULL
  );

  -- Review verdicts; linked / text_id: what a confirm changed, so undo can revert it.
  CREATE TABLE ${s}.feedback (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    query text NOT NULL,
    item_id bigint NOT NULL REFERENCES ${s}.items (id),
    entity_id bigint REFERENCES ${s}.entities (id),
    verdict text NOT NULL CHECK (verdict IN ('confirm', 'reject')),
    actor text,
    created_at timestamptz NOT NULL,
    undone_at timestamptz,
    linked boolean NOT NULL DEFAULT false,
    text_id bigint REFERENCES ${s}.texts (id)
  );
  CREATE INDEX feedback_item ON ${s}.feedback (item_id);
  CREATE INDEX feedback_entity ON ${s}.feedback (entity_id);
  CREATE INDEX feedback_text ON ${s}.feedback (text_id);

  -- Images as a chat platform already holds them (a Slack file id per workspace).
  CREATE TABLE ${s}.platform_files (
    platform text COLLATE "C" NOT NULL,
    workspace text COLLATE "C" NOT NULL,
    media_key text COLLATE "C" NOT NULL,
    file_ref text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (platform, workspace, media_key)
  );
  CREATE INDEX platform_files_media ON ${s}.platform_files (media_key);

  -- Media files waiting to be deleted: forgetting queues its images' keys in the transaction that
  -- forgets them, and they leave once their files are gone, so a crash in between only delays it.
  CREATE TABLE ${s}.media_trash (
    media_key text COLLATE "C" PRIMARY KEY,
    queued_at timestamptz NOT NULL
  );
  -- "Does a live item still use this file?" is asked per key by forgetting and by the media sweep.
  CREATE INDEX items_live_media ON ${s}.items (media_key) WHERE deleted_at IS NULL;
  -- findEntities: live entities by label, in any collection.
  CREATE INDEX entities_label ON ${s}.entities (label) WHERE deleted_at IS NULL;

  -- OCR text in word search. Readings stored before this version are lower-cased here; new ones are
  -- folded by the store like texts.
  ALTER TABLE ${s}.item_ocr ADD COLUMN lexeme tsvector;
  UPDATE ${s}.item_ocr SET lexeme = to_tsvector('simple', lower(body));
  ALTER TABLE ${s}.item_ocr ALTER COLUMN lexeme SET NOT NULL;
  CREATE INDEX item_ocr_lexeme ON ${s}.item_ocr USING gin (lexeme);

  -- Change notifications. pg_notify is transactional: the notification goes out at COMMIT (never for
  -- a rollback), once per transaction however many statements fired it (identical ones are folded).
  CREATE FUNCTION ${s}.notify_change() RETURNS trigger LANGUAGE plpgsql AS $notify$
  BEGIN
    PERFORM pg_notify('${changeChannel(schema)}', '');
    RETURN NULL;
  END
  $notify$;
  ${NOTIFYING_TABLES.map((t) => `CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${s}.${t} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.notify_change();`).join('\n  ')}
  `,
  // 5: the entities' fused reference vectors, derived from the rows above by every Referent process
  // and searched through one partial HNSW index per model and modality (pg-reference-store.ts). The
  // one table without the notify trigger: nothing follows it, it is written as processes follow the
  // entity log, and a notification per write would only wake every process to read an empty log.
  (s) => `
  CREATE TABLE ${s}.entity_references (
    entity_id bigint NOT NULL REFERENCES ${s}.entities (id),
    model_id text COLLATE "C" NOT NULL,
    modality text NOT NULL CHECK (modality IN ('text', 'image')),
    collection_id bigint NOT NULL,
    based_on bigint NOT NULL,
    embedding vector NOT NULL,
    PRIMARY KEY (model_id, modality, entity_id)
  );
  CREATE INDEX entity_references_entity ON ${s}.entity_references (entity_id);
  `,
  // 6: faces in person collections (pg-face-store.ts), as SQLite's migration 6: the per-collection
  // switch, the images processed, and each face's box, detection score and descriptor, searched
  // through one HNSW index (cosine; 128: FACE_DIM, written out since a released entry never changes). A removed or forgotten image takes its face records along: the
  // trigger deletes them in the transaction that sets the image's deleted_at, whichever store does it.
  // The tables notify like those of version 4.
  (s) => `
  CREATE TABLE ${s}.face_collections (
    collection_id bigint PRIMARY KEY REFERENCES ${s}.collections (id),
    enabled_at timestamptz NOT NULL
  );
  CREATE TABLE ${s}.face_scans (
    item_id bigint PRIMARY KEY REFERENCES ${s}.items (id),
    model_id text COLLATE "C" NOT NULL,
    faces integer NOT NULL,
    created_at timestamptz NOT NULL
  );
  CREATE TABLE ${s}.faces (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id bigint NOT NULL REFERENCES ${s}.items (id),
    collection_id bigint NOT NULL REFERENCES ${s}.collections (id),
    x double precision NOT NULL,
    y double precision NOT NULL,
    width double precision NOT NULL,
    height double precision NOT NULL,
    score double precision NOT NULL,
    descriptor vector(128) NOT NULL
  );
  CREATE INDEX faces_item ON ${s}.faces (item_id);
  CREATE INDEX faces_collection ON ${s}.faces (collection_id, id);
  CREATE INDEX faces_hnsw ON ${s}.faces USING hnsw (descriptor vector_cosine_ops);
  CREATE FUNCTION ${s}.items_faces_forget() RETURNS trigger LANGUAGE plpgsql AS $forget$
  BEGIN
    DELETE FROM ${s}.faces WHERE item_id = NEW.id;
    DELETE FROM ${s}.face_scans WHERE item_id = NEW.id;
    RETURN NULL;
  END
  $forget$;
  CREATE TRIGGER items_faces_forget AFTER UPDATE OF deleted_at ON ${s}.items
    FOR EACH ROW WHEN (NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION ${s}.items_faces_forget();
  ${notifyTriggers(s, ['face_collections', 'face_scans', 'faces'])}
  `,
];

/** Every table of the catalogue (version 4): each notifies listeners when a transaction changed it. */
const NOTIFYING_TABLES = [
  'collections', 'collection_scopes', 'audit', 'entities', 'items', 'vector_models', 'item_vectors', 'item_ocr', 'item_identifiers',
  'meta', 'texts', 'phrases', 'text_vectors', 'index_log', 'entity_log', 'feedback', 'platform_files', 'media_trash',
];

/** The notify_change trigger (version 4) on tables a later version adds. */
function notifyTriggers(s: string, tables: readonly string[]): string {
  return tables.map((t) => `CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${s}.${t} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.notify_change();`).join('\n  ');
}

export const PG_SCHEMA_VERSION = migrations.length;

/** One key for every Referent schema in a database: CREATE EXTENSION is per database, so it is serialised too. */
const LOCK = `hashtext('referent.migrate')`;

/** Lower-case identifiers only, so a schema name never needs escaping beyond the quotes and reads the same in psql. */
export function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new ReferentError(ErrorCode.ConfigInvalid, `The PostgreSQL schema name "${schema.slice(0, 70)}" must be lower-case letters, digits and _ (at most 63).`);
  }
  return `"${schema}"`;
}

/**
 * Brings `schema` (created when missing) to PG_SCHEMA_VERSION and returns that version. Fails with
 * DATABASE_UNSUPPORTED when the server has no pgvector, CATALOG_NEWER_SCHEMA when a newer Referent
 * migrated it, DATABASE_UNAVAILABLE when the server cannot be used at all.
 *
 * Every statement is one simple-protocol message (pg-pool.ts says why), so two processes migrating
 * at once work on an embedded single-session server (PGlite behind its socket) too.
 */
export async function migratePg(db: PgDb, schema = 'public'): Promise<number> {
  const s = quoteSchema(schema);
  return db.transaction(async (tx) => {
    // Held to COMMIT: a second migrator waits here, then finds the versions applied.
    await tx.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
    await ensureVector(tx, db.where);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const [row] = await tx.query<{ v: number }>(`SELECT COALESCE(MAX(version), 0) AS v FROM ${s}.schema_version`);
    const current = row?.v ?? 0;
    if (current > PG_SCHEMA_VERSION) {
      throw new ReferentError(
        ErrorCode.CatalogNewerSchema,
        `The PostgreSQL catalogue at ${db.where} (schema ${schema}) has schema version ${current}, newer than this Referent (${PG_SCHEMA_VERSION}). Upgrade Referent.`,
      );
    }
    for (let v = current; v < PG_SCHEMA_VERSION; v++) {
      await tx.query(migrations[v]!(s, schema));
      await tx.query(`INSERT INTO ${s}.schema_version (version) VALUES (${v + 1})`);
    }
    return PG_SCHEMA_VERSION;
  });
}

/**
 * The notification channel of a schema's catalogue: `referent_<schema>`, or for a schema name too
 * long for that (channels are identifiers, at most 63 bytes) `referent_` and a digest of it.
 */
export function changeChannel(schema: string): string {
  const plain = `referent_${schema}`;
  return plain.length <= 63 ? plain : `referent_${createHash('md5').update(schema).digest('hex')}`;
}

/** The schema's applied versions, ascending (for checks and `referent status`). */
export async function appliedVersions(db: PgQueryable, schema = 'public'): Promise<number[]> {
  const rows = await db.query<{ version: number }>(`SELECT version FROM ${quoteSchema(schema)}.schema_version ORDER BY version`);
  return rows.map((r) => r.version);
}

/**
 * Vectors are what the shared engine is for: a server without pgvector is caught on start with one
 * line, not on the first search. Creating it needs a privileged user, so an existing one is not recreated.
 */
async function ensureVector(tx: PgQueryable, where: string): Promise<void> {
  const found = await tx.query(`SELECT 1 FROM pg_extension WHERE extname = 'vector'`);
  if (found.length > 0) return;
  try {
    await tx.query(`CREATE EXTENSION IF NOT EXISTS vector`);
  } catch (err) {
    const state = sqlState(err);
    // 0A000: "extension is not available" (PostgreSQL 16+, PGlite); 58P01: no control file (15 and older).
    if (state === '0A000' || state === '58P01') {
      throw new ReferentError(ErrorCode.DatabaseUnsupported, `PostgreSQL at ${where} has no pgvector extension: install pgvector (0.8 or later) on the server, then start again.`, { cause: err });
    }
    if (state === '42501') {
      throw new ReferentError(ErrorCode.DatabaseUnsupported, `The user of ${where} may not create the pgvector extension: run CREATE EXTENSION vector; in that database as a superuser, then start again.`, { cause: err });
    }
    throw err;
  }
}
