/**
 * Forward-only schema migrations for the PostgreSQL catalogue. Entry i moves the schema from
 * version i to i+1; never edit a released entry, add one. `migratePg` runs on start: every pending
 * entry and its schema_version row commit together, under a transaction-scoped advisory lock, so two
 * servers (or a server and a CLI command) starting at once apply each entry exactly once.
 *
 * The design for the whole catalogue, of which only the access slice exists yet (names follow the
 * SQLite catalogue, so a copy between engines is table by table):
 *   collections, collection_scopes, audit                        — access and audit (version 1)
 *   items, entities, texts, phrases, feedback, platform_files,
 *   media_trash                                                  — items and entities, one row as in SQLite
 *   item_vectors / text_vectors (owner, model_id, embedding vector) with one HNSW index per model
 *     (`vector_cosine_ops` on `embedding::vector(dim)` WHERE model_id = …), searched with pgvector's
 *     iterative scans so a collection filter still returns k rows
 *   index_log, entity_log (bigint identity seq)                  — what followers replay
 *   item_ocr + a tsvector/GIN lexicon and pg_trgm on OCR chars   — lexical search
 * Ids are `bigint` identities; times are timestamptz (epoch ms at the interface); text keys compare
 * in "C" collation, the byte order SQLite uses.
 */
import { ErrorCode, ReferentError } from '../../errors.js';
import { type PgDb, type PgQueryable, sqlState } from './pg-pool.js';

/** `s` is the quoted schema name. */
const migrations: ReadonlyArray<(s: string) => string> = [
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
];

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
 * Only simple-protocol statements (no bound parameters): each is one message on the wire, which an
 * embedded single-session server (PGlite behind its socket) cannot interleave with another client's.
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
      await tx.query(migrations[v]!(s));
      await tx.query(`INSERT INTO ${s}.schema_version (version) VALUES (${v + 1})`);
    }
    return PG_SCHEMA_VERSION;
  });
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
