/**
 * Forward-only schema migrations. Each entry moves the schema from version i to i+1 and runs in one
 * transaction with the version bump. Never edit a released entry: add a new one.
 */
export const migrations: readonly string[] = [
  // 1: the whole data model (collections, items, entities, texts, vectors, feedback, audit).
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('part', 'person', 'other')),
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
  );
  -- Chat scopes allowed to search a collection (workspace/team, optionally one channel).
  CREATE TABLE collection_scopes (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '*',
    PRIMARY KEY (collection_id, platform, workspace, channel)
  );

  CREATE TABLE entities (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id),
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER,
    UNIQUE (collection_id, label)
  );

  CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id INTEGER NOT NULL REFERENCES collections(id),
    hash TEXT NOT NULL,
    media_key TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    caption TEXT,
    entity_id INTEGER REFERENCES entities(id),
    source_platform TEXT NOT NULL DEFAULT 'cli',
    source_channel TEXT,
    source_user TEXT,
    source_ref TEXT,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER
  );
  -- One live item per image per collection; a forgotten image may be added again.
  CREATE UNIQUE INDEX items_live_hash ON items (collection_id, hash) WHERE deleted_at IS NULL;
  CREATE INDEX items_entity ON items (entity_id);

  CREATE TABLE texts (
    id INTEGER PRIMARY KEY,
    entity_id INTEGER REFERENCES entities(id),
    item_id INTEGER REFERENCES items(id),
    body TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('caption', 'describe', 'review', 'import')),
    author TEXT,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER,
    CHECK (entity_id IS NOT NULL OR item_id IS NOT NULL)
  );
  CREATE INDEX texts_entity ON texts (entity_id);
  CREATE INDEX texts_item ON texts (item_id);

  -- Embeddings are kept here so every index can be rebuilt from the catalogue alone.
  CREATE TABLE vectors (
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('item', 'text')),
    owner_id INTEGER NOT NULL,
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, model_id)
  ) WITHOUT ROWID;

  -- Ordered log of index changes. An index snapshot records the last seq it contains (its
  -- watermark); on start, later entries are replayed.
  CREATE TABLE index_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('add', 'del'))
  );

  CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    query TEXT NOT NULL,
    item_id INTEGER NOT NULL REFERENCES items(id),
    entity_id INTEGER REFERENCES entities(id),
    verdict TEXT NOT NULL CHECK (verdict IN ('confirm', 'reject')),
    user TEXT,
    created_at INTEGER NOT NULL,
    undone_at INTEGER
  );

  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    user TEXT,
    platform TEXT,
    scope TEXT,
    collection_id INTEGER REFERENCES collections(id),
    query TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 2: multi-modal references (MMRef). Texts' detail phrases and review queries get vectors too;
  // entity changes are logged so every process recomputes the references it holds; a verdict
  // remembers what it changed so it can be undone. Vectors move to a rowid table: SQLite keeps
  // WITHOUT ROWID tables for small rows, and 2 KB blobs made the file 2.4× the size of its vectors.
  `
  CREATE TABLE vectors_v2 (
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('item', 'text', 'phrase', 'feedback')),
    owner_id INTEGER NOT NULL,
    model_id TEXT NOT NULL,
    dim INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, model_id)
  );
  INSERT INTO vectors_v2 SELECT owner_kind, owner_id, model_id, dim, data FROM vectors;
  DROP TABLE vectors;
  ALTER TABLE vectors_v2 RENAME TO vectors;

  CREATE TABLE phrases (
    id INTEGER PRIMARY KEY,
    text_id INTEGER NOT NULL REFERENCES texts(id) ON DELETE CASCADE,
    body TEXT NOT NULL
  );
  CREATE INDEX phrases_text ON phrases (text_id);

  CREATE TABLE entity_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id INTEGER NOT NULL
  );

  ALTER TABLE feedback ADD COLUMN linked INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE feedback ADD COLUMN text_id INTEGER REFERENCES texts(id);
  CREATE INDEX feedback_item ON feedback (item_id);
  CREATE INDEX entities_label ON entities (label);
  `,
  // 3: images as a chat platform already holds them (a Slack file id per workspace), so a card shows
  // the posted photo or one upload instead of uploading the same image again for every answer.
  `
  CREATE TABLE platform_files (
    platform TEXT NOT NULL,
    workspace TEXT NOT NULL,
    media_key TEXT NOT NULL,
    file_ref TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (platform, workspace, media_key)
  ) WITHOUT ROWID;
  CREATE INDEX platform_files_media ON platform_files (media_key);
  `,
  // 4: text read off the images (OCR) and a lexical index for hybrid search. One item_ocr row per
  // item once it was read (text '' when there was none), its identifiers normalised for exact
  // lookup, and two FTS5 tables kept in step by triggers, in the same transactions as the rows
  // they index (so a crash never leaves them apart):
  //   lexicon   words of captions, descriptions and OCR text (rowid 2·text id, or 2·item id + 1);
  //   ocr_chars the OCR text as one run of A–Z0–9 per item (trigram: identifiers as substrings,
  //             whatever spaces the engine dropped or added).
  `
  CREATE TABLE item_ocr (
    item_id INTEGER PRIMARY KEY REFERENCES items(id),
    model_id TEXT NOT NULL,
    lines TEXT NOT NULL,
    body TEXT NOT NULL,
    chars TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE item_identifiers (
    ident TEXT NOT NULL,
    item_id INTEGER NOT NULL REFERENCES items(id),
    PRIMARY KEY (ident, item_id)
  ) WITHOUT ROWID;
  CREATE INDEX item_identifiers_item ON item_identifiers (item_id);

  CREATE VIRTUAL TABLE lexicon USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');
  CREATE VIRTUAL TABLE ocr_chars USING fts5(chars, tokenize = 'trigram');
  CREATE VIRTUAL TABLE lexicon_terms USING fts5vocab(lexicon, 'row');
  INSERT INTO lexicon (rowid, body) SELECT 2 * id, body FROM texts;

  CREATE TRIGGER texts_lexicon_add AFTER INSERT ON texts BEGIN
    INSERT INTO lexicon (rowid, body) VALUES (2 * new.id, new.body);
  END;
  CREATE TRIGGER texts_lexicon_del AFTER DELETE ON texts BEGIN
    DELETE FROM lexicon WHERE rowid = 2 * old.id;
  END;
  CREATE TRIGGER ocr_lexicon_add AFTER INSERT ON item_ocr BEGIN
    INSERT INTO lexicon (rowid, body) VALUES (2 * new.item_id + 1, new.body);
    INSERT INTO ocr_chars (rowid, chars) VALUES (new.item_id, new.chars);
  END;
  CREATE TRIGGER ocr_lexicon_del AFTER DELETE ON item_ocr BEGIN
    DELETE FROM lexicon WHERE rowid = 2 * old.item_id + 1;
    DELETE FROM ocr_chars WHERE rowid = old.item_id;
    DELETE FROM item_identifiers WHERE item_id = old.item_id;
  END;
  -- A removed or forgotten image takes what was read off it along.
  CREATE TRIGGER items_ocr_forget AFTER UPDATE OF deleted_at ON items WHEN new.deleted_at IS NOT NULL BEGIN
    DELETE FROM item_ocr WHERE item_id = new.id;
  END;
  `,
  // 5: media files waiting to be deleted. Forgetting queues its images' keys here in the same
  // transaction that forgets them, and they leave only once their files are gone, so a crash between
  // the commit and the file deletions cannot leave a forgotten photo on disk for good.
  `
  CREATE TABLE media_trash (
    media_key TEXT PRIMARY KEY,
    queued_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  -- Deletions take the words out of the full-text indexes at once, instead of leaving them behind
  -- delete markers until a merge: a forgotten description must not stay readable in the file.
  INSERT INTO lexicon (lexicon, rank) VALUES ('secure-delete', 1);
  INSERT INTO ocr_chars (ocr_chars, rank) VALUES ('secure-delete', 1);
  -- "Does a live item still use this file?" is asked per key by forgetting and by the media sweep.
  CREATE INDEX items_live_media ON items (media_key) WHERE deleted_at IS NULL;
  `,
  // 6: faces in person collections (sqlite-faces.ts). A collection has faces on while it has a
  // face_collections row; face_scans records each image processed (with how many faces, none being a
  // result too); faces holds each face's box, detection score and descriptor (FACE_DIM float32s).
  // A removed or forgotten image takes its face records along, in the transaction that removes it.
  `
  CREATE TABLE face_collections (
    collection_id INTEGER PRIMARY KEY REFERENCES collections(id),
    enabled_at INTEGER NOT NULL
  );
  CREATE TABLE face_scans (
    item_id INTEGER PRIMARY KEY REFERENCES items(id),
    model_id TEXT NOT NULL,
    faces INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE faces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items(id),
    collection_id INTEGER NOT NULL REFERENCES collections(id),
    x REAL NOT NULL,
    y REAL NOT NULL,
    width REAL NOT NULL,
    height REAL NOT NULL,
    score REAL NOT NULL,
    descriptor BLOB NOT NULL
  );
  CREATE INDEX faces_item ON faces (item_id);
  CREATE INDEX faces_collection ON faces (collection_id);
  CREATE TRIGGER items_faces_forget AFTER UPDATE OF deleted_at ON items WHEN new.deleted_at IS NOT NULL BEGIN
    DELETE FROM faces WHERE item_id = new.id;
    DELETE FROM face_scans WHERE item_id = new.id;
  END;
  `,
];

export const SCHEMA_VERSION = migrations.length;
