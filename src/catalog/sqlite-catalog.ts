/**
 * The only file that imports better-sqlite3. SQLite in WAL mode with synchronous=FULL so that a
 * committed write survives kill -9 and power loss.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { labelKey } from '../ocr/identifiers.js';
import { checkName, unknownCollection } from './roles/access-store.js';
import { duplicateItem } from './roles/item-store.js';
import { asDiskError, ErrorCode, ReferentError } from '../errors.js';
import type { Collection, CollectionKind, IndexChange, Item, NewItem, StoredModel, SyncCatalog, TextEmbedding } from './catalog.js';
type Catalog = SyncCatalog;
import { migrations, SCHEMA_VERSION } from './migrations.js';
import { SqliteAccess } from './sqlite-access.js';
import { SqliteFaces } from './sqlite-faces.js';
import { SqliteLexicon } from './sqlite-lexicon.js';
import { VerdictCache } from './verdict-cache.js';
import { fromBlob, SqliteEntities } from './sqlite-entities.js';

interface ItemRow {
  id: number;
  collection_id: number;
  hash: string;
  media_key: string;
  width: number;
  height: number;
  caption: string | null;
  entity_id: number | null;
  label: string | null;
  source_platform: string;
  source_channel: string | null;
  source_user: string | null;
  source_ref: string | null;
  created_at: number;
}

const ITEM_SELECT = `SELECT i.*, e.label FROM items i LEFT JOIN entities e ON e.id = i.entity_id`;

function toItem(r: ItemRow): Item {
  return {
    id: r.id,
    collectionId: r.collection_id,
    hash: r.hash,
    mediaKey: r.media_key,
    width: r.width,
    height: r.height,
    caption: r.caption,
    entityId: r.entity_id,
    entityLabel: r.label,
    source: { platform: r.source_platform, channel: r.source_channel, user: r.source_user, ref: r.source_ref },
    createdAt: r.created_at,
  };
}

function toCollection(r: { id: number; name: string; kind: CollectionKind; enabled: number }): Collection {
  return { id: r.id, name: r.name, kind: r.kind, enabled: r.enabled === 1 };
}

export class SqliteCatalog implements SyncCatalog {
  private readonly entities: SqliteEntities;
  private readonly access: SqliteAccess;
  private readonly lexicon: SqliteLexicon;
  private readonly faces: SqliteFaces;
  private readonly verdicts: VerdictCache;
  /** Commits through this connection (SQLite's data_version counts only other connections'). */
  private commits = 0;
  private readonly dataVersion: Database.Statement;
  /** Prepared once, reused: preparing costs about as much as running the small queries of a search. */
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {
    this.entities = new SqliteEntities({ prepare: (sql) => this.prepare(sql) }, (fn) => this.write(fn), (ids) => this.getItems(ids));
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.access = new SqliteAccess({ prepare: (sql) => this.prepare(sql) }, (fn) => this.write(fn));
    this.lexicon = new SqliteLexicon({ prepare: (sql) => this.prepare(sql) }, (fn) => this.write(fn), (ids) => this.getItems(ids));
    this.faces = new SqliteFaces({ prepare: (sql) => this.prepare(sql) }, (fn) => this.write(fn), (ids) => this.getItems(ids));
    this.verdicts = new VerdictCache({
      stamp: () => this.changeStamp(),
      fingerprint: () => {
        const row = this.prepare(
          `SELECT COALESCE(MAX(id), 0) AS maxId, COUNT(*) FILTER (WHERE undone_at IS NULL) AS live, (SELECT COALESCE(MAX(seq), 0) FROM entity_log) AS entitySeq FROM feedback`,
        ).get() as { maxId: number; live: number; entitySeq: number };
        return `${row.maxId}:${row.live}:${row.entitySeq}`;
      },
      loadAll: (modelId) => this.entities.liveVerdicts(modelId),
    });
  }

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) this.statements.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }

  // Grants, person-search switches, audit: see sqlite-access.ts.
  grant: Catalog['grant'] = (...a) => this.access.grant(...a);
  revoke: Catalog['revoke'] = (...a) => this.access.revoke(...a);
  listGrants: Catalog['listGrants'] = (...a) => this.access.listGrants(...a);
  grantedCollectionIds: Catalog['grantedCollectionIds'] = (...a) => this.access.grantedCollectionIds(...a);
  setCollectionEnabled: Catalog['setCollectionEnabled'] = (...a) => this.access.setCollectionEnabled(...a);
  addAudit: Catalog['addAudit'] = (...a) => this.access.addAudit(...a);
  listAudit: Catalog['listAudit'] = (...a) => this.access.listAudit(...a);
  platformFile: Catalog['platformFile'] = (...a) => this.access.platformFile(...a);
  setPlatformFile: Catalog['setPlatformFile'] = (...a) => this.access.setPlatformFile(...a);

  // OCR readings and lexical matching: see sqlite-lexicon.ts.
  itemsWithoutOcr: Catalog['itemsWithoutOcr'] = (...a) => this.lexicon.itemsWithoutOcr(...a);
  countOcr: Catalog['countOcr'] = () => this.lexicon.countOcr();
  resetOcr: Catalog['resetOcr'] = () => this.lexicon.resetOcr();
  putOcr: Catalog['putOcr'] = (...a) => this.lexicon.putOcr(...a);
  ocrOf: Catalog['ocrOf'] = (...a) => this.lexicon.ocrOf(...a);
  lexicalMatches: Catalog['lexicalMatches'] = (...a) => this.lexicon.lexicalMatches(...a);

  // Faces in person collections: see sqlite-faces.ts.
  setFacesEnabled: Catalog['setFacesEnabled'] = (...a) => this.faces.setFacesEnabled(...a);
  facesEnabled: Catalog['facesEnabled'] = (...a) => this.faces.facesEnabled(...a);
  faceCollectionIds: Catalog['faceCollectionIds'] = () => this.faces.faceCollectionIds();
  itemsWithoutFaces: Catalog['itemsWithoutFaces'] = (...a) => this.faces.itemsWithoutFaces(...a);
  putFaces: Catalog['putFaces'] = (...a) => this.faces.putFaces(...a);
  facesOf: Catalog['facesOf'] = (...a) => this.faces.facesOf(...a);
  countFaces: Catalog['countFaces'] = (...a) => this.faces.countFaces(...a);
  searchFaces: Catalog['searchFaces'] = (...a) => this.faces.searchFaces(...a);
  facesIn: Catalog['facesIn'] = (...a) => this.faces.facesIn(...a);

  // Entities, descriptions, verdicts: see sqlite-entities.ts.
  ensureEntity: Catalog['ensureEntity'] = (...a) => (checkName(a[1], 'entity label'), this.entities.ensureEntity(...a));
  getEntity: Catalog['getEntity'] = (...a) => this.entities.getEntity(...a);
  findEntities: Catalog['findEntities'] = (...a) => this.entities.findEntities(...a);
  liveEntityIds: Catalog['liveEntityIds'] = () => this.entities.liveEntityIds();
  countEntities: Catalog['countEntities'] = () => this.entities.countEntities();
  entityMaterial: Catalog['entityMaterial'] = (...a) => this.entities.entityMaterial(...a);
  entityItems: Catalog['entityItems'] = (...a) => this.entities.entityItems(...a);
  addText: Catalog['addText'] = (...a) => this.entities.addText(...a);
  linkItem: Catalog['linkItem'] = (...a) => this.entities.linkItem(...a);
  entityChangesSince: Catalog['entityChangesSince'] = (...a) => this.entities.entityChangesSince(...a);
  lastEntitySeq: Catalog['lastEntitySeq'] = () => this.entities.lastEntitySeq();
  addVerdict: Catalog['addVerdict'] = (...a) => this.entities.addVerdict(...a);
  getVerdict: Catalog['getVerdict'] = (...a) => this.entities.getVerdict(...a);
  undoVerdict: Catalog['undoVerdict'] = (...a) => this.entities.undoVerdict(...a);
  verdictsOn: Catalog['verdictsOn'] = (...a) => this.verdicts.verdictsOn(...a);
  entityVerdictsOn: Catalog['entityVerdictsOn'] = (...a) => this.verdicts.entityVerdictsOn(...a);
  forgetEntity: Catalog['forgetEntity'] = (...a) => this.entities.forgetEntity(...a);
  textsWithoutVector: Catalog['textsWithoutVector'] = (...a) => this.entities.textsWithoutVector(...a);
  putTextEmbedding: Catalog['putTextEmbedding'] = (...a) => this.entities.putTextEmbedding(...a);

  /** Opens (creating if needed) the catalogue and applies pending migrations. */
  static open(file: string): SqliteCatalog {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      // Deleted content is overwritten with zeros, so a forgotten description is not left in free pages.
      db.pragma('secure_delete = ON');
      // Reads through a memory map: a refined search reads ~150 vectors at random, 40% faster than read().
      db.pragma('mmap_size = 1073741824');
      // Labels are compared as labelKey() forms them (any script, no separators), in SQL too.
      db.function('referent_label_key', { deterministic: true }, (label: unknown) => (typeof label === 'string' ? labelKey(label) : null));
    } catch (err) {
      throw asDiskError(err, file);
    }
    const catalog = new SqliteCatalog(file, db);
    catalog.migrate();
    return catalog;
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new ReferentError(
        ErrorCode.CatalogNewerSchema,
        `The catalogue ${this.path} has schema version ${current}, newer than this Referent (${SCHEMA_VERSION}). Upgrade Referent.`,
      );
    }
    for (let v = current; v < SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.exec(migrations[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /**
   * Runs fn in a transaction, turning a full disk into DISK_FULL (the transaction rolls back).
   * IMMEDIATE takes the write lock up front: a deferred transaction that reads and then writes fails
   * at once with SQLITE_BUSY_SNAPSHOT ("database is locked", busy_timeout or not) when another
   * process committed in between, which a server and a `referent ingest` beside it do all the time.
   */
  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw asDiskError(err, 'the catalogue');
    } finally {
      this.commits++;
    }
  }

  get location(): string {
    return this.path;
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  getModel(): StoredModel | null {
    const rows = this.prepare(`SELECT key, value FROM meta WHERE key IN ('model_id', 'model_dim')`).all() as Array<{ key: string; value: string }>;
    const m = Object.fromEntries(rows.map((r) => [r.key, r.value]));
    return m.model_id && m.model_dim ? { modelId: m.model_id, dim: Number(m.model_dim) } : null;
  }

  setModel(model: StoredModel): void {
    const put = this.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`);
    this.write(() => {
      put.run('model_id', model.modelId);
      put.run('model_dim', String(model.dim));
    });
  }

  ensureCollection(name: string, kind: CollectionKind = 'other'): Collection {
    checkName(name, 'collection');
    const existing = this.findCollection(name);
    if (existing) return existing;
    // Person collections start disabled: an admin has to enable person search (docs/web-chat.md, "Who sees what").
    this.write(() =>
      this.prepare(`INSERT INTO collections (name, kind, enabled, created_at) VALUES (?, ?, ?, ?)`).run(name, kind, kind === 'person' ? 0 : 1, Date.now()),
    );
    return this.findCollection(name)!;
  }

  findCollection(name: string): Collection | null {
    const row = this.prepare(`SELECT * FROM collections WHERE name = ?`).get(name) as Parameters<typeof toCollection>[0] | undefined;
    return row ? toCollection(row) : null;
  }

  listCollections(): Collection[] {
    return (this.prepare(`SELECT * FROM collections ORDER BY name`).all() as Array<Parameters<typeof toCollection>[0]>).map(toCollection);
  }

  findLiveItemByHash(collectionId: number, hash: string): Item | null {
    const row = this.prepare(`${ITEM_SELECT} WHERE i.collection_id = ? AND i.hash = ? AND i.deleted_at IS NULL`).get(collectionId, hash) as ItemRow | undefined;
    return row ? toItem(row) : null;
  }

  addItem(item: NewItem, vector: { modelId: string; data: Float32Array }, caption: TextEmbedding | null = null): Item {
    if (item.entityLabel) checkName(item.entityLabel, 'entity label');
    const now = Date.now();
    const id = this.write(() => {
      // Refused before anything is written (the transaction would roll it back anyway), with the
      // errors PostgreSQL gives too: NOT_FOUND for an unknown collection, CONFLICT for a live duplicate.
      if (this.prepare(`SELECT 1 FROM collections WHERE id = ?`).get(item.collectionId) === undefined) throw unknownCollection(item.collectionId);
      if (this.prepare(`SELECT 1 FROM items WHERE collection_id = ? AND hash = ? AND deleted_at IS NULL`).get(item.collectionId, item.hash) !== undefined) {
        throw duplicateItem(item.collectionId, item.hash);
      }
      const entityId = item.entityLabel ? this.entities.ensureEntityIn(item.collectionId, item.entityLabel, now) : null;
      const src = item.source ?? { platform: 'cli' };
      const info = this.prepare(
        `INSERT INTO items (collection_id, hash, media_key, width, height, caption, entity_id, source_platform, source_channel, source_user, source_ref, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(item.collectionId, item.hash, item.mediaKey, item.width, item.height, item.caption ?? null, entityId, src.platform, src.channel ?? null, src.user ?? null, src.ref ?? null, now);
      const itemId = Number(info.lastInsertRowid);
      if (item.caption) this.entities.insertText({ entityId, itemId, body: item.caption, source: 'caption', author: src.user ?? null }, caption, now);
      this.entities.putVector('item', itemId, vector.modelId, vector.data);
      this.prepare(`INSERT INTO index_log (item_id, op) VALUES (?, 'add')`).run(itemId);
      this.entities.logEntity(entityId);
      return itemId;
    });
    return this.getItem(id)!;
  }

  removeItem(itemId: number): boolean {
    return this.write(() => {
      const row = this.prepare(`SELECT entity_id FROM items WHERE id = ? AND deleted_at IS NULL`).get(itemId) as { entity_id: number | null } | undefined;
      if (!row) return false;
      this.prepare(`UPDATE items SET deleted_at = ? WHERE id = ?`).run(Date.now(), itemId);
      this.entities.logEntity(row.entity_id);
      this.prepare(`DELETE FROM vectors WHERE owner_kind = 'item' AND owner_id = ?`).run(itemId);
      this.prepare(`INSERT INTO index_log (item_id, op) VALUES (?, 'del')`).run(itemId);
      return true;
    });
  }

  getItem(itemId: number): Item | null {
    const row = this.prepare(`${ITEM_SELECT} WHERE i.id = ? AND i.deleted_at IS NULL`).get(itemId) as ItemRow | undefined;
    return row ? toItem(row) : null;
  }

  getItems(itemIds: readonly number[]): Map<number, Item> {
    const out = new Map<number, Item>();
    const stmt = this.prepare(`${ITEM_SELECT} WHERE i.id = ? AND i.deleted_at IS NULL`);
    for (const id of itemIds) {
      const row = stmt.get(id) as ItemRow | undefined;
      if (row) out.set(id, toItem(row));
    }
    return out;
  }

  countItems(collectionId?: number): number {
    const sql = `SELECT COUNT(*) AS n FROM items WHERE deleted_at IS NULL${collectionId === undefined ? '' : ' AND collection_id = ?'}`;
    const stmt = this.prepare(sql);
    const row = (collectionId === undefined ? stmt.get() : stmt.get(collectionId)) as { n: number };
    return row.n;
  }

  countItemVectors(modelId: string): number {
    const sql = `SELECT COUNT(*) AS n FROM vectors v JOIN items i ON i.id = v.owner_id WHERE v.owner_kind = 'item' AND v.model_id = ? AND i.deleted_at IS NULL`;
    return (this.prepare(sql).get(modelId) as { n: number }).n;
  }

  itemVectors(modelId: string, afterItemId: number, limit: number): Array<{ itemId: number; collectionId: number; vector: Float32Array }> {
    const rows = this.prepare(
      `SELECT v.owner_id AS itemId, i.collection_id AS collectionId, v.data FROM vectors v JOIN items i ON i.id = v.owner_id
       WHERE v.owner_kind = 'item' AND v.model_id = ? AND i.deleted_at IS NULL AND v.owner_id > ? ORDER BY v.owner_id LIMIT ?`,
    ).all(modelId, afterItemId, limit) as Array<{ itemId: number; collectionId: number; data: Buffer }>;
    return rows.map((row) => ({ itemId: row.itemId, collectionId: row.collectionId, vector: fromBlob(row.data) }));
  }

  itemsWithoutVector(modelId: string, limit: number): Item[] {
    const rows = this.prepare(
      `${ITEM_SELECT} WHERE i.deleted_at IS NULL AND NOT EXISTS
       (SELECT 1 FROM vectors v WHERE v.owner_kind = 'item' AND v.owner_id = i.id AND v.model_id = ?) ORDER BY i.id LIMIT ?`,
    ).all(modelId, limit) as ItemRow[];
    return rows.map(toItem);
  }

  putItemVector(itemId: number, modelId: string, data: Float32Array): void {
    this.write(() => this.entities.putVector('item', itemId, modelId, data));
  }

  deleteVectorsExcept(modelId: string): number {
    return this.write(() => this.prepare(`DELETE FROM vectors WHERE model_id != ?`).run(modelId).changes);
  }

  isMediaLive(mediaKey: string): boolean {
    return this.prepare(`SELECT 1 FROM items WHERE media_key = ? AND deleted_at IS NULL LIMIT 1`).get(mediaKey) !== undefined;
  }

  mediaCollections(mediaKey: string): number[] {
    return this.prepare(`SELECT DISTINCT collection_id FROM items WHERE media_key = ? AND deleted_at IS NULL`).pluck().all(mediaKey) as number[];
  }

  mediaTrash(limit: number): string[] {
    // Asked by every upkeep round: an empty queue takes no write lock.
    if (this.prepare(`SELECT 1 FROM media_trash LIMIT 1`).get() === undefined) return [];
    return this.write(() => {
      this.prepare(`DELETE FROM media_trash WHERE EXISTS (SELECT 1 FROM items i WHERE i.media_key = media_trash.media_key AND i.deleted_at IS NULL)`).run();
      return this.prepare(`SELECT media_key FROM media_trash ORDER BY queued_at, media_key LIMIT ?`).pluck().all(limit) as string[];
    });
  }

  mediaTrashed(mediaKeys: readonly string[]): void {
    this.write(() => {
      for (const key of mediaKeys) this.prepare(`DELETE FROM media_trash WHERE media_key = ?`).run(key);
    });
  }

  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  changeStamp(): string {
    return `${this.dataVersion.get() as number}:${this.commits}`;
  }

  lastLogSeq(): number {
    return (this.prepare(`SELECT COALESCE(MAX(seq), 0) AS s FROM index_log`).get() as { s: number }).s;
  }

  changesSince(seq: number, modelId: string): IndexChange[] {
    const rows = this.prepare(
      `SELECT l.seq, l.item_id AS itemId, i.collection_id AS collectionId, l.op, v.data FROM index_log l
       JOIN items i ON i.id = l.item_id
       LEFT JOIN vectors v ON v.owner_kind = 'item' AND v.owner_id = l.item_id AND v.model_id = ?
       WHERE l.seq > ? ORDER BY l.seq`,
    ).all(modelId, seq) as Array<{ seq: number; itemId: number; collectionId: number; op: 'add' | 'del'; data: Buffer | null }>;
    return rows.map((r) => ({ seq: r.seq, itemId: r.itemId, collectionId: r.collectionId, op: r.op, vector: r.op === 'add' && r.data ? fromBlob(r.data) : null }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * A catalogue file opened read-only for reading it whole (`referent migrate`, pg-import-source.ts):
 * nothing is ever written to it, and every read sees one snapshot, taken at open, while other
 * processes go on writing (the read transaction lasts until close; WAL lets writers through).
 * SQLite still needs the -wal and -shm files beside a WAL-mode file, and creates them when they are
 * missing: the caller decides which file to open.
 */
export interface SqliteSnapshot {
  /** The file's schema version (user_version). */
  readonly schemaVersion: number;
  /** The rows of a read, in the snapshot. */
  all<T>(sql: string, params?: readonly unknown[]): T[];
  close(): void;
}

export function openSqliteSnapshot(file: string): SqliteSnapshot {
  let db: Database.Database | undefined;
  let schemaVersion: number;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN');
    // The first read starts the read transaction: the snapshot every later read sees.
    schemaVersion = db.pragma('user_version', { simple: true }) as number;
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (err) {
    db?.close();
    throw asDiskError(err, file);
  }
  const open = db;
  const statements = new Map<string, Database.Statement>();
  return {
    schemaVersion,
    all<T>(sql: string, params: readonly unknown[] = []): T[] {
      let stmt = statements.get(sql);
      if (!stmt) statements.set(sql, (stmt = open.prepare(sql)));
      return stmt.all(...params) as T[];
    },
    close() {
      if (open.open) open.close();
    },
  };
}
