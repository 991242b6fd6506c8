/**
 * The access-and-audit slice of the storage seam: collections and their person-search switch,
 * grants of collections to chat scopes, and the audit log of person queries. Async, so the same
 * interface is served by the embedded SQLite catalogue (sqlite-access-store.ts) and by PostgreSQL
 * shared by many Referent processes (postgres/pg-access-store.ts); both pass
 * test/catalog/access-store.contract.ts.
 *
 * Invariants every implementation keeps:
 * - A method that resolved has committed its write: another process reading the same store sees it.
 * - Collection names are unique and compared exactly (case- and byte-sensitive); listings are in
 *   byte order of the name (SQLite's BINARY collation, Postgres's "C").
 * - Ids are positive integers that are never reused for another row.
 */
import { ErrorCode, ReferentError } from '../../errors.js';
import type { AuditEntry, Collection, CollectionKind, Grant, NewAuditEntry } from '../catalog.js';

/** The chat scope a request comes from: a channel of a workspace/team on one platform. */
export interface ChatScope {
  platform: string;
  workspace: string;
  channel: string;
}

export interface AccessStore {
  /**
   * The collection with this name, created when missing. A new person collection starts disabled
   * (an admin enables person search); other kinds start enabled. An existing collection is returned
   * as it is: its kind is not changed by a different `kind` here. Default kind "other".
   * Names must be 1 to 200 printable characters, else USAGE_INVALID.
   */
  ensureCollection(name: string, kind?: CollectionKind): Promise<Collection>;
  /** Null when there is none by that exact name. */
  findCollection(name: string): Promise<Collection | null>;
  /** Every collection, by name. */
  listCollections(): Promise<Collection[]>;
  /** Switches a collection on or off (person search is off until an admin switches it on). False for an unknown collection. */
  setCollectionEnabled(collectionId: number, enabled: boolean): Promise<boolean>;

  /**
   * Grants a collection to a whole workspace/team (no channel) or to one channel of it. Idempotent:
   * false when that grant already existed. NOT_FOUND for an unknown collection.
   */
  grant(grant: Grant): Promise<boolean>;
  /** False when there was no such grant. A workspace grant and a channel grant are separate grants. */
  revoke(grant: Grant): Promise<boolean>;
  /** Grants of one collection, or of all, ordered by collection id, platform, workspace, channel (a workspace grant has no `channel`). */
  listGrants(collectionId?: number): Promise<Grant[]>;
  /**
   * Collections granted to the scope's workspace as a whole or to this very channel of it, enabled
   * or not (the caller filters on `enabled`), each once, ascending.
   */
  grantedCollectionIds(scope: ChatScope): Promise<number[]>;

  /** Appends to the audit log; `at` (epoch ms) defaults to now. */
  addAudit(entry: NewAuditEntry): Promise<void>;
  /** The latest `limit` entries (a non-negative integer), newest (last added) first. */
  listAudit(limit: number): Promise<AuditEntry[]>;
}

const MAX_NAME = 200;

/**
 * Collection names and entity labels are shown in chat cards and CLI output: printable and short.
 * Both engines check with this, so they refuse the same names.
 */
export function checkName(name: string, what: string): void {
  if (name.trim() === '' || name.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ReferentError(ErrorCode.UsageInvalid, `A ${what} must be 1 to ${MAX_NAME} printable characters.`, { details: { [what]: name.slice(0, 50) } });
  }
}

export const checkCollectionName = (name: string): void => checkName(name, 'collection');

export function unknownCollection(collectionId: number, cause?: unknown): ReferentError {
  return new ReferentError(ErrorCode.NotFound, `There is no collection ${collectionId}.`, { cause, details: { collectionId } });
}
