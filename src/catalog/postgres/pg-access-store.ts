/**
 * AccessCatalog on PostgreSQL: the tables of pg-migrations.ts version 1,
 * in one schema (default "public"; tests and side-by-side installs use their own). Every method is
 * one statement in autocommit (notified to other processes by the tables' triggers, counted for this
 * one's change stamp through `onWrite`), except ensureCollection's read-insert-read, which is safe
 * without a transaction because names are unique and rows are never renamed.
 */
import type { AccessCatalog, AuditEntry, ChatScope, Collection, CollectionKind, Grant, NewAuditEntry } from '../catalog.js';
import { checkCollectionName, unknownCollection } from '../roles/access-store.js';
import { quoteSchema } from './pg-migrations.js';
import { type PgQueryable, sqlState } from './pg-pool.js';
import { atParam, msOf } from './pg-rows.js';

/** A grant to a whole workspace/team is stored with this channel (as in SQLite). */
const ANY_CHANNEL = '*';

interface CollectionRow {
  id: number;
  name: string;
  kind: CollectionKind;
  enabled: boolean;
}

interface AuditRow {
  id: number;
  actor: string;
  platform: string;
  scope: string;
  collection_id: number | null;
  query: string;
  at_ms: number;
}

const toCollection = (r: CollectionRow): Collection => ({ id: r.id, name: r.name, kind: r.kind, enabled: r.enabled });

export class PgAccessStore implements AccessCatalog {
  private readonly s: string;

  /** `db` must have been migrated (migratePg) for this schema. `onWrite` is called after every statement that may have written. */
  constructor(
    private readonly db: PgQueryable,
    schema = 'public',
    private readonly onWrite: () => void = () => {},
  ) {
    this.s = quoteSchema(schema);
  }

  /** Runs a writing statement and counts it (whether or not it committed, as SQLite counts). */
  private async written<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } finally {
      this.onWrite();
    }
  }

  async ensureCollection(name: string, kind: CollectionKind = 'other'): Promise<Collection> {
    checkCollectionName(name);
    // An existing collection is read, not written: asked on every ingest, it must not notify anyone.
    const existing = await this.findCollection(name);
    if (existing) return existing;
    // Person collections start disabled: an admin has to enable person search.
    await this.written(() =>
      this.db.query(`INSERT INTO ${this.s}.collections (name, kind, enabled, created_at) VALUES ($1, $2, $3, ${atParam(4)}) ON CONFLICT (name) DO NOTHING`, [
        name,
        kind,
        kind !== 'person',
        Date.now(),
      ]),
    );
    const found = await this.findCollection(name);
    if (!found) throw new Error(`collection "${name}" vanished right after it was ensured`);
    return found;
  }

  async findCollection(name: string): Promise<Collection | null> {
    const [row] = await this.db.query<CollectionRow>(`SELECT id, name, kind, enabled FROM ${this.s}.collections WHERE name = $1`, [name]);
    return row ? toCollection(row) : null;
  }

  async listCollections(): Promise<Collection[]> {
    const rows = await this.db.query<CollectionRow>(`SELECT id, name, kind, enabled FROM ${this.s}.collections ORDER BY name`, []);
    return rows.map(toCollection);
  }

  async setCollectionEnabled(collectionId: number, enabled: boolean): Promise<boolean> {
    const rows = await this.written(() => this.db.query(`UPDATE ${this.s}.collections SET enabled = $2 WHERE id = $1 RETURNING id`, [collectionId, enabled]));
    return rows.length > 0;
  }

  async grant(g: Grant): Promise<boolean> {
    try {
      const rows = await this.written(() =>
        this.db.query(
          `INSERT INTO ${this.s}.collection_scopes (collection_id, platform, workspace, channel) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1 AS added`,
          [g.collectionId, g.platform, g.workspace, g.channel ?? ANY_CHANNEL],
        ),
      );
      return rows.length > 0;
    } catch (err) {
      // 23503: foreign_key_violation, and a grant's only foreign key is its collection.
      if (sqlState(err) === '23503') throw unknownCollection(g.collectionId, err);
      throw err;
    }
  }

  async revoke(g: Grant): Promise<boolean> {
    const rows = await this.written(() =>
      this.db.query(
        `DELETE FROM ${this.s}.collection_scopes WHERE collection_id = $1 AND platform = $2 AND workspace = $3 AND channel = $4 RETURNING 1 AS removed`,
        [g.collectionId, g.platform, g.workspace, g.channel ?? ANY_CHANNEL],
      ),
    );
    return rows.length > 0;
  }

  async listGrants(collectionId?: number): Promise<Grant[]> {
    const select = `SELECT collection_id, platform, workspace, channel FROM ${this.s}.collection_scopes`;
    const order = `ORDER BY collection_id, platform, workspace, channel`;
    const rows = await this.db.query<{ collection_id: number; platform: string; workspace: string; channel: string }>(
      collectionId === undefined ? `${select} ${order}` : `${select} WHERE collection_id = $1 ${order}`,
      collectionId === undefined ? [] : [collectionId],
    );
    return rows.map((r) => ({ collectionId: r.collection_id, platform: r.platform, workspace: r.workspace, ...(r.channel === ANY_CHANNEL ? {} : { channel: r.channel }) }));
  }

  async grantedCollectionIds(scope: ChatScope): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(
      `SELECT DISTINCT collection_id AS id FROM ${this.s}.collection_scopes WHERE platform = $1 AND workspace = $2 AND channel IN ($3, $4) ORDER BY id`,
      [scope.platform, scope.workspace, ANY_CHANNEL, scope.channel],
    );
    return rows.map((r) => r.id);
  }

  async addAudit(entry: NewAuditEntry): Promise<void> {
    // The time is taken here, not by the server, so both engines stamp an entry the same way.
    await this.written(() =>
      this.db.query(`INSERT INTO ${this.s}.audit (actor, platform, scope, collection_id, query, created_at) VALUES ($1, $2, $3, $4, $5, ${atParam(6)})`, [
        entry.user,
        entry.platform,
        entry.scope,
        entry.collectionId,
        entry.query,
        entry.at ?? Date.now(),
      ]),
    );
  }

  async listAudit(limit: number): Promise<AuditEntry[]> {
    const rows = await this.db.query<AuditRow>(
      // timestamptz keeps microseconds: epoch ms round-trip exactly.
      `SELECT id, actor, platform, scope, collection_id, query, ${msOf('created_at')} AS at_ms
       FROM ${this.s}.audit ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ id: r.id, user: r.actor, platform: r.platform, scope: r.scope, collectionId: r.collection_id, query: r.query, at: r.at_ms }));
  }
}
