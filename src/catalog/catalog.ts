/**
 * The catalogue: the source of truth for collections, items, entities, texts, vectors, feedback and
 * audit. Every index is a cache of what is here and can be rebuilt from it.
 * Invariants: a write that returned has been committed (durable in WAL); an item and its vector,
 * caption and index-log entry are written in one transaction; vectors are unit length.
 */
import type { OcrLine } from '../ocr/ocr.js';

export type CollectionKind = 'part' | 'person' | 'other';

export interface Collection {
  id: number;
  name: string;
  kind: CollectionKind;
  enabled: boolean;
}

export interface ItemSource {
  platform: string;
  channel?: string | null;
  user?: string | null;
  ref?: string | null;
}

export interface Item {
  id: number;
  collectionId: number;
  hash: string;
  mediaKey: string;
  width: number;
  height: number;
  caption: string | null;
  entityId: number | null;
  entityLabel: string | null;
  source: ItemSource;
  createdAt: number;
}

export interface NewItem {
  collectionId: number;
  /** Content hash of the original bytes (dedupe key within a collection). */
  hash: string;
  mediaKey: string;
  width: number;
  height: number;
  caption?: string | null;
  /** Label of the entity this image shows; created in the item's collection when new. */
  entityLabel?: string | null;
  source?: ItemSource;
}

export interface StoredModel {
  modelId: string;
  dim: number;
}

export interface IndexChange {
  seq: number;
  itemId: number;
  collectionId: number;
  op: 'add' | 'del';
  /** The item's vector for the requested model; null for deletions or when the item has none. */
  vector: Float32Array | null;
}

export interface Entity {
  id: number;
  collectionId: number;
  label: string;
  kind: string;
  createdAt: number;
}

export type TextSource = 'caption' | 'describe' | 'review' | 'import';

export interface NewText {
  /** The entity the text describes (and/or the item it captions); at least one is set. */
  entityId?: number | null;
  itemId?: number | null;
  body: string;
  source: TextSource;
  author?: string | null;
}

/** A text's vector and its detail phrases' vectors, for one model. */
export interface TextEmbedding {
  modelId: string;
  vector: Float32Array;
  phrases: Array<{ body: string; vector: Float32Array }>;
}

/** Everything an entity's reference is built from, for one model (vectors unit length). */
export interface EntityMaterial {
  entity: Entity;
  images: Array<{ itemId: number; vector: Float32Array }>;
  /** Its descriptions: texts written about the entity and captions of its images; oldest first. */
  texts: Array<{ textId: number; body: string; source: TextSource; vector: Float32Array }>;
  phrases: Array<{ textId: number; body: string; vector: Float32Array }>;
}

export type VerdictKind = 'confirm' | 'reject';

export interface NewVerdict {
  query: string;
  itemId: number;
  entityId: number | null;
  verdict: VerdictKind;
  user?: string | null;
  /** A confirm keeps the query as a description of the entity unless this is false (a photo query's note). */
  keepQuery?: boolean;
  /**
   * The vector that was searched with, when it is not the query text's own (a photo, a photo with
   * words): later queries close to it feel the verdict. Not part of the stored Verdict.
   */
  searched?: Float32Array;
}

export interface Verdict extends NewVerdict {
  id: number;
  /** A confirm that linked the image to its entity (undo unlinks it). */
  linked: boolean;
  /** The description a confirm kept (undo removes it). */
  textId: number | null;
  createdAt: number;
  undoneAt: number | null;
}

/**
 * A collection granted to a chat scope: a whole workspace/team (no channel) or one channel of it.
 * Platform "web" is the local web chat.
 */
export interface Grant {
  collectionId: number;
  platform: string;
  workspace: string;
  channel?: string;
}

export interface NewAuditEntry {
  /** Who asked ("slack:T1:U2"), where ("slack:T1/C3"), and what, in which collection. */
  user: string;
  platform: string;
  scope: string;
  collectionId: number | null;
  query: string;
  at?: number;
}

export interface AuditEntry extends NewAuditEntry {
  id: number;
  at: number;
}

/** What an OCR engine read off one image. */
export interface NewOcr {
  modelId: string;
  lines: OcrLine[];
  /** Normalised identifiers on the image (see ocr/identifiers.ts). */
  identifiers: string[];
}

export interface StoredOcr extends NewOcr {
  at: number;
}

/** The lexical side of a query, per image: see LexicalCatalog.lexicalMatches. */
export interface LexicalMatches {
  /**
   * Images whose own label carries one of the query's identifiers, with the line it is on, and the
   * entity whose label is that identifier (in the image's collection), when there is one.
   */
  identifiers: Map<number, { identifier: string; line: string; entityId?: number }>;
  /** Images whose caption or OCR text, or whose entity's descriptions, share words with the query: BM25 relative to the best match (0..1]. */
  words: Map<number, { score: number; text: string }>;
  /** Images of the entities whose label the query is or contains ("P-20417", "p20417", "P 20417"), with that label. */
  named: Map<number, { entityId: number; label: string }>;
  /** Every image above, with its entity and collection (the vectors may not have found them). */
  items: Map<number, { entityId: number | null; collectionId: number }>;
}

/*
 * The storage seam, cut along its roles. Every method is async, so the same slices are served by the
 * embedded SQLite catalogue of one data folder (sqlite-catalog.ts, behind asyncCatalog) and by
 * PostgreSQL + pgvector shared by many Referent processes (postgres/pg-catalog.ts). Each consumer
 * names the slices it uses (`Pick`s of these, or the role interfaces themselves); the contract
 * suites in test/catalog/ run every slice against both engines.
 *
 * What every engine keeps:
 * - A method that resolved has committed its write: another process reading the store sees it.
 * - Writes that belong together (an item, its vector, its caption and its log entry; a forget)
 *   commit in one transaction.
 * - Ids are positive integers, never reused for another row.
 */

/** Images and their vectors, the model they were embedded with, and the log the indexes follow. */
export interface ItemCatalog {
  schemaVersion(): Promise<number>;
  /** The model whose vectors this catalogue serves; null until the first item is stored. */
  getModel(): Promise<StoredModel | null>;
  setModel(model: StoredModel): Promise<void>;

  findLiveItemByHash(collectionId: number, hash: string): Promise<Item | null>;
  /** Stores the item, its caption, its entity link, its vector and an index-log entry atomically. */
  addItem(item: NewItem, vector: { modelId: string; data: Float32Array }, caption?: TextEmbedding | null): Promise<Item>;
  /** Soft-deletes the item, drops its vectors, its reading and its faces, and logs the deletion; false when not live. */
  removeItem(itemId: number): Promise<boolean>;
  getItem(itemId: number): Promise<Item | null>;
  getItems(itemIds: readonly number[]): Promise<Map<number, Item>>;
  countItems(collectionId?: number): Promise<number>;

  countItemVectors(modelId: string): Promise<number>;
  /**
   * Live items' vectors for a model, in item order, `limit` at a time after item `afterItemId`
   * (rebuilding an index: call again after the last id returned until a page comes back short).
   */
  itemVectors(modelId: string, afterItemId: number, limit: number): Promise<Array<{ itemId: number; collectionId: number; vector: Float32Array }>>;
  /** Live items that have no vector for this model yet (re-embedding), at most `limit`. */
  itemsWithoutVector(modelId: string, limit: number): Promise<Item[]>;
  putItemVector(itemId: number, modelId: string, data: Float32Array): Promise<void>;
  /** Drops every vector of other models (after a completed re-embed). Returns how many. */
  deleteVectorsExcept(modelId: string): Promise<number>;

  lastLogSeq(): Promise<number>;
  /** Index-log entries past `seq`, in order; entries commit in seq order, so none appears later below a seq already read. */
  changesSince(seq: number, modelId: string): Promise<IndexChange[]>;
  /**
   * A value that changes whenever anything is committed, by this process or another (SQLite's
   * data_version; PostgreSQL's notifications): followers skip their log reads while it stands.
   */
  changeStamp(): Promise<string>;
}

/** Text read off images, and lexical matching over it and the catalogue's captions and descriptions. */
export interface LexicalCatalog {
  /** Live images not read yet, by id (after `afterId`). */
  itemsWithoutOcr(limit: number, afterId?: number): Promise<Item[]>;
  countOcr(): Promise<{ read: number; withText: number; pending: number }>;
  /** Forgets every reading (to read all images again); returns how many there were. */
  resetOcr(): Promise<number>;
  /** False when the image is gone. A removed or forgotten image loses its reading. */
  putOcr(itemId: number, ocr: NewOcr): Promise<boolean>;
  ocrOf(itemId: number): Promise<StoredOcr | null>;
  /** `labels`: normalised forms of what the query may be naming (labelKey of its word runs). */
  lexicalMatches(query: { words: readonly string[]; identifiers: readonly string[]; labels?: readonly string[]; collectionIds?: ReadonlySet<number> }): Promise<LexicalMatches>;
}

/** Which media files the catalogue still needs, the ones forgetting left to delete, and the platforms' copies. */
export interface MediaCatalog {
  /** True while a live item uses the media key. */
  isMediaLive(mediaKey: string): Promise<boolean>;
  /** The collections of the live items that use the media key (none for an unknown key). */
  mediaCollections(mediaKey: string): Promise<number[]>;
  /**
   * Keys that forgetting queued for deletion (oldest first, at most `limit`) and that no live item
   * uses; a queued key that a live item uses again (the same photo added back) leaves the queue here.
   */
  mediaTrash(limit: number): Promise<string[]>;
  /** These keys' files are deleted: they leave the queue. */
  mediaTrashed(mediaKeys: readonly string[]): Promise<void>;
  /**
   * After a forget: makes sure no copy of the forgotten rows lingers in the engine's own files
   * (SQLite folds its write-ahead log into the zeroed database file; PostgreSQL leaves that to VACUUM).
   */
  checkpoint(): Promise<void>;
  /** The platform's own file for an image in one workspace (a Slack file id), or null. */
  platformFile(ref: PlatformFileKey): Promise<string | null>;
  /** Remembers (or replaces) that mapping. Forgetting the image's last item removes it. */
  setPlatformFile(ref: PlatformFileKey, fileRef: string): Promise<void>;
}

/** Entities, their descriptions and the review verdicts: what references are built from. */
export interface EntityCatalog {
  ensureEntity(collectionId: number, label: string): Promise<Entity>;
  getEntity(entityId: number): Promise<Entity | null>;
  /** Live entities with this label, in any collection. */
  findEntities(label: string): Promise<Entity[]>;
  liveEntityIds(): Promise<number[]>;
  countEntities(): Promise<number>;
  /** Null when the entity does not exist or was forgotten. Texts without a vector for the model are left out. */
  entityMaterial(entityId: number, modelId: string): Promise<EntityMaterial | null>;
  /** Live items linked to the entity. */
  entityItems(entityId: number): Promise<Item[]>;
  /** Stores a text (and its vectors when given) in one transaction; returns its id. */
  addText(text: NewText, embedding: TextEmbedding | null): Promise<number>;
  /** Links an image to an entity, or unlinks it (null). Logs both entities as changed. */
  linkItem(itemId: number, entityId: number | null): Promise<void>;

  /** Entity changes past `seq` (to recompute references): the entities touched and the last seq. */
  entityChangesSince(seq: number): Promise<{ seq: number; entityIds: number[] }>;
  lastEntitySeq(): Promise<number>;

  /**
   * Records a verdict with the query's vector. A confirm also links an unlinked image to the entity
   * and keeps the query as a description of it (source "review") in the same transaction.
   */
  addVerdict(verdict: NewVerdict, query: TextEmbedding): Promise<Verdict>;
  getVerdict(id: number): Promise<Verdict | null>;
  /** Marks a verdict undone and reverts what it changed (link, kept description). Null when not found or already undone. */
  undoVerdict(id: number): Promise<Verdict | null>;
  /** Live verdicts on these items with their query vectors for the model. */
  verdictsOn(itemIds: readonly number[], modelId: string): Promise<Array<{ id: number; itemId: number; verdict: VerdictKind; vector: Float32Array }>>;
  /**
   * Live verdicts given on an entity's own photo (the entity's card): they move every photo of it.
   * Same shape as verdictsOn, with the entity.
   */
  entityVerdictsOn(entityIds: readonly number[], modelId: string): Promise<Array<{ id: number; entityId: number; itemId: number; verdict: VerdictKind; vector: Float32Array }>>;

  /**
   * Forgets an entity: its images (soft-deleted, scrubbed of caption, source, hash and media key,
   * vectors dropped, logged for the index), descriptions, phrases, verdicts and their vectors, what
   * was read off its images and the faces found on them, the platforms' copies, and the entity itself. Returns the forgotten item
   * ids and the media keys no live item uses any more, which are queued in the media trash in the
   * same transaction (the caller deletes the files, then empties the queue: see `mediaTrash`).
   */
  forgetEntity(entityId: number): Promise<{ itemIds: number[]; orphanedMedia: string[] }>;

  /** Re-embedding: texts (and verdict queries) with no vector for the model yet. */
  textsWithoutVector(modelId: string, limit: number): Promise<Array<{ kind: 'text' | 'feedback'; id: number; body: string }>>;
  putTextEmbedding(kind: 'text' | 'feedback', id: number, embedding: TextEmbedding): Promise<void>;
}

/** A face's box on its image, in the original image's pixels (x, y: top-left corner). */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A face found on an image, as the face engine gives it. */
export interface NewFace {
  box: FaceBox;
  /** The detector's confidence, 0..1. */
  score: number;
  /** Unit length, FACE_DIM (128) numbers. */
  descriptor: Float32Array;
}

export interface StoredFace extends NewFace {
  id: number;
  itemId: number;
  collectionId: number;
  /** The entity the face's image is linked to (a labelled person), or null. */
  entityId: number | null;
}

/** A face found by searchFaces. */
export interface FaceHit extends StoredFace {
  /** Cosine similarity of the query's descriptor and this face's (higher is closer). */
  similarity: number;
}

/**
 * Faces in person collections: a switch per collection (off until an admin turns it on), the faces
 * found on each image with their descriptors, and nearest-face search. Face records are biometric
 * data: nothing of them outlives their image (removeItem and forgetEntity delete them in their own
 * transactions) or the switch (`off` deletes every one of the collection in the same transaction).
 */
export interface FaceCatalog {
  /**
   * Turns face processing on or off for a person collection; off deletes every face record of it.
   * False for an unknown collection; USAGE_INVALID for a collection of another kind.
   */
  setFacesEnabled(collectionId: number, on: boolean): Promise<boolean>;
  facesEnabled(collectionId: number): Promise<boolean>;
  /** The collections with faces on, ascending. */
  faceCollectionIds(): Promise<number[]>;
  /** Live images of collections with faces on that were not processed yet, by id (after `afterId`). */
  itemsWithoutFaces(limit: number, afterId?: number): Promise<Item[]>;
  /**
   * Records the image as processed with these faces (none is a result too), replacing earlier ones.
   * False when the image is gone or its collection's faces are off. MODEL_MISMATCH for a descriptor
   * that is not FACE_DIM finite numbers, USAGE_INVALID for a box or score that is not finite.
   */
  putFaces(itemId: number, modelId: string, faces: readonly NewFace[]): Promise<boolean>;
  /** The image's faces, in the order they were given. */
  facesOf(itemId: number): Promise<StoredFace[]>;
  /** Images processed, faces found on them, images waiting (of one collection, or of all). */
  countFaces(collectionId?: number): Promise<{ processed: number; faces: number; pending: number }>;
  /** The k faces nearest the descriptor by cosine, best first (ties by face id); only in `collectionIds` when given. */
  searchFaces(descriptor: Float32Array, k: number, collectionIds?: ReadonlySet<number>): Promise<FaceHit[]>;
  /** A collection's faces by id, `limit` at a time after face `afterId` (face references, grouping unknown faces). */
  facesIn(collectionId: number, afterId: number, limit: number): Promise<StoredFace[]>;
}

/** Collections and their person-search switch, grants of collections to chat scopes, and the audit log of person queries. */
export interface AccessCatalog {
  /**
   * The collection with this name, created when missing. A new person collection starts disabled
   * (an admin enables person search); other kinds start enabled. An existing collection is returned
   * as it is. Default kind "other". Names must be 1 to 200 printable characters, else USAGE_INVALID.
   * Names are compared exactly; listings are in byte order of the name.
   */
  ensureCollection(name: string, kind?: CollectionKind): Promise<Collection>;
  findCollection(name: string): Promise<Collection | null>;
  listCollections(): Promise<Collection[]>;
  /** Person collections start disabled; an admin enables them. False for an unknown collection. */
  setCollectionEnabled(collectionId: number, enabled: boolean): Promise<boolean>;
  /** False when the grant already existed. NOT_FOUND for an unknown collection. */
  grant(grant: Grant): Promise<boolean>;
  /** False when there was no such grant. */
  revoke(grant: Grant): Promise<boolean>;
  /** Grants of one collection, or of all, ordered by collection id, platform, workspace, channel. */
  listGrants(collectionId?: number): Promise<Grant[]>;
  /** Collections granted to the workspace as a whole or to this channel of it (enabled or not), each once, ascending. */
  grantedCollectionIds(scope: ChatScope): Promise<number[]>;
  /** Appends to the audit log; `at` (epoch ms) defaults to now. */
  addAudit(entry: NewAuditEntry): Promise<void>;
  /** The latest `limit` entries, newest first. */
  listAudit(limit: number): Promise<AuditEntry[]>;
}

/** The chat scope a request comes from: a channel of a workspace/team on one platform. */
export interface ChatScope {
  platform: string;
  workspace: string;
  channel: string;
}

export interface Catalog extends ItemCatalog, EntityCatalog, AccessCatalog, LexicalCatalog, MediaCatalog, FaceCatalog {
  /** Where it is, for messages: the SQLite file, or user@host:port/database (never a password). */
  readonly location: string;
  close(): Promise<void>;
}

export interface PlatformFileKey {
  platform: string;
  workspace: string;
  mediaKey: string;
}

/** The same interface with every method answering at once: how the embedded SQLite engine is written. */
export type Sync<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K];
};

export type SyncCatalog = Sync<Catalog>;
