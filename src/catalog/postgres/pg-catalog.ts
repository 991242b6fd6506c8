/**
 * The catalogue on PostgreSQL + pgvector, shared by every Referent process pointed at the same
 * database and schema: the Catalog seam of catalog.ts, composed of one store per role on one pool.
 *
 *   pg-item-store.ts     ItemCatalog (and searchImages, pgvector's HNSW search)
 *   pg-entity-store.ts   EntityCatalog
 *   pg-access-store.ts   AccessCatalog
 *   pg-lexical-store.ts  LexicalCatalog
 *   pg-media-store.ts    MediaCatalog
 *   pg-face-store.ts     FaceCatalog
 *   pg-write.ts          write transactions and the logs (seq order across processes)
 *   pg-vectors.ts        vectors in and out, models and their HNSW indexes
 *   pg-migrations.ts     the schema, and the triggers that notify every change
 *
 * Behaviour is the SQLite catalogue's (sqlite-catalog.ts and its halves), method for method; where it
 * differs, the store says so. What this file adds is the change stamp (see changeStamp), and the
 * routing of the heavy reads to a streaming replica when there is one (`readUrl`): a second set of
 * the same read stores over the replica's pool, chosen per call by ReplicaReads (pg-replica.ts),
 * which admits a read to the replica only when it has replayed everything the primary had
 * committed when the read began. Writes, the logs the followers read, the hash lookups made before
 * a write, migrations and LISTEN stay on the primary.
 */
import { randomUUID } from 'node:crypto';
import type { Catalog } from '../catalog.js';
import type { Modality, ReferenceVectorStore, StoredReference } from '../../references/reference-graphs.js';
import type { ImageHit } from '../roles/item-store.js';
import { PgAccessStore } from './pg-access-store.js';
import { PgEntities } from './pg-entity-store.js';
import { PgFaceStore } from './pg-face-store.js';
import { PgItems } from './pg-item-store.js';
import { PgLexicalStore } from './pg-lexical-store.js';
import { PgMedia } from './pg-media-store.js';
import { PgReferenceStore } from './pg-reference-store.js';
import { changeChannel, migratePg, quoteSchema } from './pg-migrations.js';
import { openPgDb, type PgDb, type PgListener } from './pg-pool.js';
import { ReplicaReads, replicaWrite } from './pg-replica.js';
import { PgModels } from './pg-vectors.js';
import { pgWriter } from './pg-write.js';

export interface PgCatalogOptions {
  /** The schema that holds the catalogue (created when missing); default "public". */
  schema?: string;
  /** Connections in the pool at most (default 10), besides the listener's. */
  poolMax?: number;
  /**
   * Listen for other processes' commits (default true), so changeStamp stands still while nothing
   * changes. Without it every changeStamp is new: followers read the logs each time (correct, slower).
   */
  listen?: boolean;
  /**
   * A streaming replica of the primary (postgres://…): the heavy reads go there whenever it has
   * replayed what the primary had committed when the read began, and to the primary otherwise
   * (pg-replica.ts). Its pool has `poolMax` connections too.
   */
  readUrl?: string;
  /** How often a replica that could not be used is looked at again (default 5 s). */
  readRetryMs?: number;
  /** Where the replica's changes of state are told, one line each (default: stderr). */
  log?: (line: string) => void;
}

/** How long a read waits for a connection to the replica before it goes to the primary. */
const REPLICA_CONNECT_MS = 3_000;

/** The stores whose reads may be answered by the replica. */
interface ReadStores {
  items: PgItems;
  entities: PgEntities;
  access: PgAccessStore;
  lexicon: PgLexicalStore;
}

export class PgCatalog implements Catalog, ReferenceVectorStore {
  readonly location: string;
  private readonly items: PgItems;
  private readonly entities: PgEntities;
  private readonly access: PgAccessStore;
  private readonly lexicon: PgLexicalStore;
  private readonly media: PgMedia;
  private readonly faces: PgFaceStore;
  private readonly references: PgReferenceStore;
  private readonly listener: PgListener | null;
  private readonly channel: string;
  /** The primary's read stores, and the replica's with what picks one of them per call (null without a replica). */
  private readonly own: ReadStores;
  private readonly replica: { stores: ReadStores; reads: ReplicaReads } | null;

  /** Commits through this catalogue (counted at once; their notifications arrive later). */
  private commits = 0;
  /** Notifications received (other processes' commits, and this one's). */
  private notifications = 0;
  /** Bumped by every LISTEN that took effect: stamps of one connection never equal another's. */
  private generation = 0;
  /** Stamps handed out while not listening: each one new. */
  private unheard = 0;
  /** The probe sent after the last LISTEN, until it came back (null: none in flight). */
  private probe: string | null = null;
  private heard = false;
  private closed = false;

  private constructor(
    private readonly db: PgDb,
    private readonly schema: string,
    listen: boolean,
    replica: ReplicaReads | null,
  ) {
    this.location = replica ? `${db.where} with reads on the replica ${replica.where}` : db.where;
    this.channel = changeChannel(schema);
    const write = pgWriter(db, schema, () => this.commits++);
    const models = new PgModels(db, quoteSchema(schema), `The PostgreSQL catalogue at ${db.where} (schema ${schema})`);
    this.entities = new PgEntities(db, schema, write, models, (ids) => this.items.getItems(ids));
    this.items = new PgItems(db, schema, write, models, this.entities);
    this.access = new PgAccessStore(db, schema, () => this.commits++);
    this.lexicon = new PgLexicalStore(db, schema, write);
    this.media = new PgMedia(db, schema, write);
    this.faces = new PgFaceStore(db, schema, write);
    this.references = new PgReferenceStore(db, schema, models);
    this.own = { items: this.items, entities: this.entities, access: this.access, lexicon: this.lexicon };
    if (replica) {
      // The same stores over the replica's connections. A read there that would write goes to the primary.
      const on = replica.view;
      const entities: PgEntities = new PgEntities(on, schema, replicaWrite, models, (ids) => items.getItems(ids));
      const items = new PgItems(on, schema, replicaWrite, models, entities);
      const stores = { items, entities, access: new PgAccessStore(on, schema, () => {}), lexicon: new PgLexicalStore(on, schema, replicaWrite) };
      this.replica = { stores, reads: replica };
    } else {
      this.replica = null;
    }
    this.listener = listen
      ? db.listen(this.channel, {
          onUp: () => {
            this.generation++;
            void this.sendProbe();
          },
          onDown: () => {
            this.heard = false;
            this.probe = null;
          },
          onNotify: (payload) => {
            this.notifications++;
            if (!this.heard && this.probe !== null && payload === this.probe) this.heard = true;
          },
        })
      : null;
  }

  /**
   * Opens the catalogue at a postgres:// URL: a pool, the schema migrated (created when missing), and
   * a listener for other processes' commits. DATABASE_UNAVAILABLE when the server cannot be used,
   * DATABASE_UNSUPPORTED without pgvector, CATALOG_NEWER_SCHEMA when a newer Referent migrated it,
   * CONFIG_INVALID for a URL or schema name that cannot be one.
   */
  static async open(url: string, options: PgCatalogOptions = {}): Promise<PgCatalog> {
    quoteSchema(options.schema ?? 'public');
    const max = options.poolMax === undefined ? {} : { max: options.poolMax };
    // A replica that is down must not hold up a read for long: the read goes to the primary.
    const readDb = options.readUrl ? openPgDb(options.readUrl, { ...max, connectTimeoutMs: REPLICA_CONNECT_MS, urlName: 'The read replica URL' }) : undefined;
    let db: PgDb;
    try {
      db = openPgDb(url, max);
    } catch (err) {
      await readDb?.close();
      throw err;
    }
    return PgCatalog.onPool(db, { ...options, ...(readDb ? { readDb } : {}) });
  }

  /**
   * The catalogue on a pool already opened with openPgDb (its schema migrated here), for callers that
   * size or set up the pool themselves; close() closes the pool. `poolMax` does not apply. The pool is
   * closed when the migration fails.
   */
  static async onPool(db: PgDb, options: Omit<PgCatalogOptions, 'poolMax' | 'readUrl'> & { readDb?: PgDb } = {}): Promise<PgCatalog> {
    const schema = options.schema ?? 'public';
    try {
      await migratePg(db, schema);
    } catch (err) {
      await db.close().catch(() => {});
      await options.readDb?.close().catch(() => {});
      throw err;
    }
    const log = options.log ?? ((line: string) => void process.stderr.write(`referent: ${line}\n`));
    const reads = options.readDb ? new ReplicaReads(db, options.readDb, { log, ...(options.readRetryMs === undefined ? {} : { retryMs: options.readRetryMs }) }) : null;
    return new PgCatalog(db, schema, options.listen !== false, reads);
  }

  /**
   * True while this catalogue hears the schema's notifications: its listener LISTENs and has received
   * the probe it sent itself over the pool after that LISTEN, which proves that a commit elsewhere
   * reaches it. Until then (and with `listen: false`) every changeStamp is new.
   *
   * PGlite behind pglite-socket never gets here: all its socket connections share one single-user
   * backend, whose NotificationResponse goes out on the connection whose statement was running when
   * the notification was delivered (the committing one), never on the listener's.
   */
  get hearing(): boolean {
    return this.heard;
  }

  /**
   * A value that changes whenever anything is committed, by this process or another. Every write
   * transaction notifies the schema's channel at commit (triggers, pg-migrations.ts version 4), and a
   * connection of its own LISTENs to it, so another process's commit moves the stamp with no polling;
   * this process's own commits move it at once (counted here; their notification comes later and
   * moves it again, which costs a follower one empty read). While the listener is not proven to hear
   * (connecting, reconnecting after the server went away, or on a server that does not deliver), each
   * call returns a new value: followers then read their logs every time, which is correct, only slower.
   */
  async changeStamp(): Promise<string> {
    if (this.heard) return `${this.generation}:${this.notifications}:${this.commits}`;
    if (this.listener?.up && this.probe === null) void this.sendProbe();
    return `unheard:${++this.unheard}`;
  }

  /** Notifies the channel with a token of this catalogue's own, over the pool (see `hearing`). */
  private async sendProbe(): Promise<void> {
    const token = randomUUID();
    this.probe = token;
    try {
      await this.db.query(`SELECT pg_notify($1, $2)`, [this.channel, token]);
    } catch {
      // Sent again by the next changeStamp while the listener is up.
      if (this.probe === token) this.probe = null;
    }
  }

  async schemaVersion(): Promise<number> {
    const [row] = await this.db.query<{ v: number }>(`SELECT COALESCE(MAX(version), 0) AS v FROM ${quoteSchema(this.schema)}.schema_version`);
    return row?.v ?? 0;
  }

  /** Image search through the model's HNSW index (VectorSearch, not part of Catalog): see PgItems.searchImages. */
  searchImages(modelId: string, query: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<ImageHit[]> {
    return this.read((s) => s.items.searchImages(modelId, query, k, collectionIds));
  }

  /** The entities' fused references (ReferenceVectorStore, not part of Catalog): see pg-reference-store.ts. */
  putReferences(modelId: string, rows: readonly StoredReference[]): Promise<void> {
    return this.references.putReferences(modelId, rows);
  }

  storedReferences(modelId: string): Promise<Array<{ entityId: number; modality: Modality; vector: Float32Array }>> {
    return this.references.storedReferences(modelId);
  }

  searchReferences(modelId: string, modality: Modality, q: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<number[]> {
    return this.references.searchReferences(modelId, modality, q, k, collectionIds);
  }

  /** Live items' vectors by id (VectorSearch): see PgItems.imageVectors. */
  imageVectors(modelId: string, itemIds: readonly number[]): Promise<Map<number, Float32Array>> {
    return this.read((s) => s.items.imageVectors(modelId, itemIds));
  }

  /**
   * Routed reads answered by the replica, and by the primary instead (behind, down, or not a
   * standby of it); both 0 without a replica. For operators and tests.
   */
  get replicaReads(): { replica: number; primary: number } {
    return { ...(this.replica?.reads.counts ?? { replica: 0, primary: 0 }) };
  }

  /** Closes the listener and the pools. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.heard = false;
    this.replica?.reads.close();
    await Promise.all([this.db.close(), this.replica?.reads.view.close()]);
  }

  /** A read the replica answers when ReplicaReads admits it there; the primary's stores otherwise. */
  private read<T>(fn: (stores: ReadStores) => Promise<T>): Promise<T> {
    const replica = this.replica;
    if (!replica) return fn(this.own);
    return replica.reads.read(
      () => fn(replica.stores),
      () => fn(this.own),
    );
  }

  // Items, vectors, the model and the index log: see pg-item-store.ts.
  getModel: Catalog['getModel'] = () => this.items.getModel();
  setModel: Catalog['setModel'] = (...a) => this.items.setModel(...a);
  findLiveItemByHash: Catalog['findLiveItemByHash'] = (...a) => this.items.findLiveItemByHash(...a);
  addItem: Catalog['addItem'] = (...a) => this.items.addItem(...a);
  removeItem: Catalog['removeItem'] = (...a) => this.items.removeItem(...a);
  getItem: Catalog['getItem'] = (...a) => this.read((s) => s.items.getItem(...a));
  getItems: Catalog['getItems'] = (...a) => this.read((s) => s.items.getItems(...a));
  countItems: Catalog['countItems'] = (...a) => this.read((s) => s.items.countItems(...a));
  countItemVectors: Catalog['countItemVectors'] = (...a) => this.read((s) => s.items.countItemVectors(...a));
  itemVectors: Catalog['itemVectors'] = (...a) => this.read((s) => s.items.itemVectors(...a));
  itemsWithoutVector: Catalog['itemsWithoutVector'] = (...a) => this.items.itemsWithoutVector(...a);
  putItemVector: Catalog['putItemVector'] = (...a) => this.items.putItemVector(...a);
  deleteVectorsExcept: Catalog['deleteVectorsExcept'] = (...a) => this.items.deleteVectorsExcept(...a);
  lastLogSeq: Catalog['lastLogSeq'] = () => this.items.lastLogSeq();
  changesSince: Catalog['changesSince'] = (...a) => this.items.changesSince(...a);

  // Entities, descriptions, verdicts, forgetting: see pg-entity-store.ts.
  ensureEntity: Catalog['ensureEntity'] = (...a) => this.entities.ensureEntity(...a);
  getEntity: Catalog['getEntity'] = (...a) => this.entities.getEntity(...a);
  findEntities: Catalog['findEntities'] = (...a) => this.entities.findEntities(...a);
  liveEntityIds: Catalog['liveEntityIds'] = () => this.entities.liveEntityIds();
  countEntities: Catalog['countEntities'] = () => this.entities.countEntities();
  entityMaterial: Catalog['entityMaterial'] = (...a) => this.read((s) => s.entities.entityMaterial(...a));
  entityItems: Catalog['entityItems'] = (...a) => this.read((s) => s.entities.entityItems(...a));
  addText: Catalog['addText'] = (...a) => this.entities.addText(...a);
  linkItem: Catalog['linkItem'] = (...a) => this.entities.linkItem(...a);
  entityChangesSince: Catalog['entityChangesSince'] = (...a) => this.entities.entityChangesSince(...a);
  lastEntitySeq: Catalog['lastEntitySeq'] = () => this.entities.lastEntitySeq();
  addVerdict: Catalog['addVerdict'] = (...a) => this.entities.addVerdict(...a);
  getVerdict: Catalog['getVerdict'] = (...a) => this.entities.getVerdict(...a);
  undoVerdict: Catalog['undoVerdict'] = (...a) => this.entities.undoVerdict(...a);
  verdictsOn: Catalog['verdictsOn'] = (...a) => this.read((s) => s.entities.verdictsOn(...a));
  entityVerdictsOn: Catalog['entityVerdictsOn'] = (...a) => this.read((s) => s.entities.entityVerdictsOn(...a));
  forgetEntity: Catalog['forgetEntity'] = (...a) => this.entities.forgetEntity(...a);
  textsWithoutVector: Catalog['textsWithoutVector'] = (...a) => this.entities.textsWithoutVector(...a);
  putTextEmbedding: Catalog['putTextEmbedding'] = (...a) => this.entities.putTextEmbedding(...a);

  // Collections, grants, audit: see pg-access-store.ts.
  ensureCollection: Catalog['ensureCollection'] = (...a) => this.access.ensureCollection(...a);
  findCollection: Catalog['findCollection'] = (...a) => this.access.findCollection(...a);
  listCollections: Catalog['listCollections'] = () => this.access.listCollections();
  setCollectionEnabled: Catalog['setCollectionEnabled'] = (...a) => this.access.setCollectionEnabled(...a);
  grant: Catalog['grant'] = (...a) => this.access.grant(...a);
  revoke: Catalog['revoke'] = (...a) => this.access.revoke(...a);
  listGrants: Catalog['listGrants'] = (...a) => this.access.listGrants(...a);
  grantedCollectionIds: Catalog['grantedCollectionIds'] = (...a) => this.access.grantedCollectionIds(...a);
  addAudit: Catalog['addAudit'] = (...a) => this.access.addAudit(...a);
  listAudit: Catalog['listAudit'] = (...a) => this.read((s) => s.access.listAudit(...a));

  // OCR readings and lexical matching: see pg-lexical-store.ts.
  itemsWithoutOcr: Catalog['itemsWithoutOcr'] = (...a) => this.lexicon.itemsWithoutOcr(...a);
  countOcr: Catalog['countOcr'] = () => this.lexicon.countOcr();
  resetOcr: Catalog['resetOcr'] = () => this.lexicon.resetOcr();
  putOcr: Catalog['putOcr'] = (...a) => this.lexicon.putOcr(...a);
  ocrOf: Catalog['ocrOf'] = (...a) => this.lexicon.ocrOf(...a);
  lexicalMatches: Catalog['lexicalMatches'] = (...a) => this.read((s) => s.lexicon.lexicalMatches(...a));

  // Media files, their trash, the platforms' copies: see pg-media-store.ts.
  isMediaLive: Catalog['isMediaLive'] = (...a) => this.media.isMediaLive(...a);
  mediaCollections: Catalog['mediaCollections'] = (...a) => this.media.mediaCollections(...a);
  mediaTrash: Catalog['mediaTrash'] = (...a) => this.media.mediaTrash(...a);
  mediaTrashed: Catalog['mediaTrashed'] = (...a) => this.media.mediaTrashed(...a);
  checkpoint: Catalog['checkpoint'] = () => this.media.checkpoint();
  platformFile: Catalog['platformFile'] = (...a) => this.media.platformFile(...a);
  setPlatformFile: Catalog['setPlatformFile'] = (...a) => this.media.setPlatformFile(...a);

  // Faces in person collections: see pg-face-store.ts (on the primary).
  setFacesEnabled: Catalog['setFacesEnabled'] = (...a) => this.faces.setFacesEnabled(...a);
  facesEnabled: Catalog['facesEnabled'] = (...a) => this.faces.facesEnabled(...a);
  faceCollectionIds: Catalog['faceCollectionIds'] = () => this.faces.faceCollectionIds();
  itemsWithoutFaces: Catalog['itemsWithoutFaces'] = (...a) => this.faces.itemsWithoutFaces(...a);
  putFaces: Catalog['putFaces'] = (...a) => this.faces.putFaces(...a);
  facesOf: Catalog['facesOf'] = (...a) => this.faces.facesOf(...a);
  countFaces: Catalog['countFaces'] = (...a) => this.faces.countFaces(...a);
  searchFaces: Catalog['searchFaces'] = (...a) => this.faces.searchFaces(...a);
  facesIn: Catalog['facesIn'] = (...a) => this.faces.facesIn(...a);
}
