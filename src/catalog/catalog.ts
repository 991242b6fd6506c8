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

/** Text read off images, and lexical matching over it and the catalogue's captions and descriptions. */
export interface LexicalCatalog {
  /** Live images not read yet, by id (after `afterId`). */
  itemsWithoutOcr(limit: number, afterId?: number): Item[];
  countOcr(): { read: number; withText: number; pending: number };
  /** Forgets every reading (to read all images again); returns how many there were. */
  resetOcr(): number;
  /** False when the image is gone. A removed or forgotten image loses its reading. */
  putOcr(itemId: number, ocr: NewOcr): boolean;
  ocrOf(itemId: number): StoredOcr | null;
  /** `labels`: normalised forms of what the query may be naming (identifierKey of its word runs). */
  lexicalMatches(query: { words: readonly string[]; identifiers: readonly string[]; labels?: readonly string[]; collectionIds?: ReadonlySet<number> }): LexicalMatches;
}

/** Which media files the catalogue still needs, and the ones forgetting left to delete. */
export interface MediaCatalog {
  /** True while a live item uses the media key. */
  isMediaLive(mediaKey: string): boolean;
  /** The collections of the live items that use the media key (none for an unknown key). */
  mediaCollections(mediaKey: string): number[];
  /**
   * Keys that forgetting queued for deletion (oldest first, at most `limit`) and that no live item
   * uses; a queued key that a live item uses again (the same photo added back) leaves the queue here.
   */
  mediaTrash(limit: number): string[];
  /** These keys' files are deleted: they leave the queue. */
  mediaTrashed(mediaKeys: readonly string[]): void;
  /**
   * Folds the write-ahead log into the database file and empties it: after a forget, so the old
   * pages (zeroed in the file by secure_delete) do not linger in the log either.
   */
  checkpoint(): void;
}

export interface Catalog extends EntityCatalog, AccessCatalog, LexicalCatalog, MediaCatalog {
  readonly path: string;
  schemaVersion(): number;
  /** The model whose vectors this catalogue serves; null until the first item is stored. */
  getModel(): StoredModel | null;
  setModel(model: StoredModel): void;

  ensureCollection(name: string, kind?: CollectionKind): Collection;
  findCollection(name: string): Collection | null;
  listCollections(): Collection[];

  findLiveItemByHash(collectionId: number, hash: string): Item | null;
  /** Stores the item, its caption, its entity link, its vector and an index-log entry atomically. */
  addItem(item: NewItem, vector: { modelId: string; data: Float32Array }, caption?: TextEmbedding | null): Item;
  /** Soft-deletes the item, drops its vectors and logs the deletion; false when not live. */
  removeItem(itemId: number): boolean;
  getItem(itemId: number): Item | null;
  getItems(itemIds: readonly number[]): Map<number, Item>;
  countItems(collectionId?: number): number;

  countItemVectors(modelId: string): number;
  /** Live items' vectors for a model, in item order (for rebuilding an index). */
  itemVectors(modelId: string): IterableIterator<{ itemId: number; collectionId: number; vector: Float32Array }>;
  /** Live items that have no vector for this model yet (re-embedding), at most `limit`. */
  itemsWithoutVector(modelId: string, limit: number): Item[];
  putItemVector(itemId: number, modelId: string, data: Float32Array): void;
  /** Drops every vector of other models (after a completed re-embed). Returns how many. */
  deleteVectorsExcept(modelId: string): number;

  lastLogSeq(): number;
  changesSince(seq: number, modelId: string): IndexChange[];
  /**
   * A value that changes whenever anything is committed, by this connection or another (SQLite's
   * data_version and this connection's own commits): followers skip their log reads while it stands.
   */
  changeStamp(): string;

  close(): void;
}

/** Entities, their descriptions and the review verdicts: what references are built from. */
export interface EntityCatalog {
  ensureEntity(collectionId: number, label: string): Entity;
  getEntity(entityId: number): Entity | null;
  /** Live entities with this label, in any collection. */
  findEntities(label: string): Entity[];
  liveEntityIds(): number[];
  countEntities(): number;
  /** Null when the entity does not exist or was forgotten. Texts without a vector for the model are left out. */
  entityMaterial(entityId: number, modelId: string): EntityMaterial | null;
  /** Live items linked to the entity. */
  entityItems(entityId: number): Item[];
  /** Stores a text (and its vectors when given) in one transaction; returns its id. */
  addText(text: NewText, embedding: TextEmbedding | null): number;
  /** Links an image to an entity, or unlinks it (null). Logs both entities as changed. */
  linkItem(itemId: number, entityId: number | null): void;

  /** Entity changes past `seq` (to recompute references): the entities touched and the last seq. */
  entityChangesSince(seq: number): { seq: number; entityIds: number[] };
  lastEntitySeq(): number;

  /**
   * Records a verdict with the query's vector. A confirm also links an unlinked image to the entity
   * and keeps the query as a description of it (source "review") in the same transaction.
   */
  addVerdict(verdict: NewVerdict, query: TextEmbedding): Verdict;
  getVerdict(id: number): Verdict | null;
  /** Marks a verdict undone and reverts what it changed (link, kept description). Null when not found or already undone. */
  undoVerdict(id: number): Verdict | null;
  /** Live verdicts on these items with their query vectors for the model. */
  verdictsOn(itemIds: readonly number[], modelId: string): Array<{ id: number; itemId: number; verdict: VerdictKind; vector: Float32Array }>;
  /**
   * Live verdicts given on an entity's own photo (the entity's card): they move every photo of it.
   * Same shape as verdictsOn, with the entity.
   */
  entityVerdictsOn(entityIds: readonly number[], modelId: string): Array<{ id: number; entityId: number; itemId: number; verdict: VerdictKind; vector: Float32Array }>;

  /**
   * Forgets an entity: its images (soft-deleted, scrubbed of caption, source, hash and media key,
   * vectors dropped, logged for the index), descriptions, phrases, verdicts and their vectors, what
   * was read off its images, the platforms' copies, and the entity itself. Returns the forgotten item
   * ids and the media keys no live item uses any more, which are queued in the media trash in the
   * same transaction (the caller deletes the files, then empties the queue: see `mediaTrash`).
   */
  forgetEntity(entityId: number): { itemIds: number[]; orphanedMedia: string[] };

  /** Re-embedding: texts (and verdict queries) with no vector for the model yet. */
  textsWithoutVector(modelId: string, limit: number): Array<{ kind: 'text' | 'feedback'; id: number; body: string }>;
  putTextEmbedding(kind: 'text' | 'feedback', id: number, embedding: TextEmbedding): void;
}

/** Grants of collections to chat scopes, person search switches, and the audit log. */
export interface AccessCatalog {
  /** False when the grant already existed. */
  grant(grant: Grant): boolean;
  /** False when there was no such grant. */
  revoke(grant: Grant): boolean;
  listGrants(collectionId?: number): Grant[];
  /** Collections granted to the workspace as a whole or to this channel of it (enabled or not). */
  grantedCollectionIds(scope: { platform: string; workspace: string; channel: string }): number[];
  /** Person collections start disabled; an admin enables them. False for an unknown collection. */
  setCollectionEnabled(collectionId: number, enabled: boolean): boolean;
  addAudit(entry: NewAuditEntry): void;
  /** Newest first. */
  listAudit(limit: number): AuditEntry[];
  /** The platform's own file for an image in one workspace (a Slack file id), or null. */
  platformFile(ref: PlatformFileKey): string | null;
  /** Remembers (or replaces) that mapping. Forgetting the image's last item removes it. */
  setPlatformFile(ref: PlatformFileKey, fileRef: string): void;
}

export interface PlatformFileKey {
  platform: string;
  workspace: string;
  mediaKey: string;
}
