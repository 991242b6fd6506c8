/**
 * Who may see what: collections granted to chat scopes, person search switched on per collection,
 * and the audit log of person queries. The access half of SqliteCatalog, on the same connection
 * (see sqlite-entities.ts for why it is a separate file).
 */
import type { AuditEntry, ChatScope, Grant, NewAuditEntry, PlatformFileKey } from './catalog.js';
import { unknownCollection } from './roles/access-store.js';
import type { SqlDb } from './sqlite-entities.js';

/** A grant to a whole workspace/team is stored with this channel. */
export const ANY_CHANNEL = '*';

interface AuditRow {
  id: number;
  user: string | null;
  platform: string | null;
  scope: string | null;
  collection_id: number | null;
  query: string;
  created_at: number;
}

export class SqliteAccess {
  constructor(
    private readonly db: SqlDb,
    private readonly write: <T>(fn: () => T) => T,
  ) {}

  /** False when the grant already existed; NOT_FOUND for an unknown collection. */
  grant(g: Grant): boolean {
    return this.write(() => {
      if (this.db.prepare(`SELECT 1 FROM collections WHERE id = ?`).get(g.collectionId) === undefined) throw unknownCollection(g.collectionId);
      const info = this.db
        .prepare(`INSERT OR IGNORE INTO collection_scopes (collection_id, platform, workspace, channel) VALUES (?, ?, ?, ?)`)
        .run(g.collectionId, g.platform, g.workspace, g.channel ?? ANY_CHANNEL);
      return info.changes > 0;
    });
  }

  revoke(g: Grant): boolean {
    const info = this.write(() =>
      this.db
        .prepare(`DELETE FROM collection_scopes WHERE collection_id = ? AND platform = ? AND workspace = ? AND channel = ?`)
        .run(g.collectionId, g.platform, g.workspace, g.channel ?? ANY_CHANNEL),
    );
    return info.changes > 0;
  }

  listGrants(collectionId?: number): Grant[] {
    const rows = (
      collectionId === undefined
        ? this.db.prepare(`SELECT * FROM collection_scopes ORDER BY collection_id, platform, workspace, channel`).all()
        : this.db.prepare(`SELECT * FROM collection_scopes WHERE collection_id = ? ORDER BY platform, workspace, channel`).all(collectionId)
    ) as Array<{ collection_id: number; platform: string; workspace: string; channel: string }>;
    return rows.map((r) => ({ collectionId: r.collection_id, platform: r.platform, workspace: r.workspace, ...(r.channel === ANY_CHANNEL ? {} : { channel: r.channel }) }));
  }

  /** Collections granted to the workspace as a whole or to this channel of it, each once, ascending. */
  grantedCollectionIds(scope: ChatScope): number[] {
    const rows = this.db
      .prepare(`SELECT DISTINCT collection_id AS id FROM collection_scopes WHERE platform = ? AND workspace = ? AND channel IN (?, ?) ORDER BY collection_id`)
      .all(scope.platform, scope.workspace, ANY_CHANNEL, scope.channel) as Array<{ id: number }>;
    return rows.map((r) => r.id);
  }

  setCollectionEnabled(collectionId: number, enabled: boolean): boolean {
    return this.write(() => this.db.prepare(`UPDATE collections SET enabled = ? WHERE id = ?`).run(enabled ? 1 : 0, collectionId).changes > 0);
  }

  addAudit(entry: NewAuditEntry): void {
    this.write(() =>
      this.db
        .prepare(`INSERT INTO audit (user, platform, scope, collection_id, query, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(entry.user, entry.platform, entry.scope, entry.collectionId, entry.query, entry.at ?? Date.now()),
    );
  }

  listAudit(limit: number): AuditEntry[] {
    const rows = this.db.prepare(`SELECT * FROM audit ORDER BY id DESC LIMIT ?`).all(limit) as AuditRow[];
    return rows.map((r) => ({ id: r.id, user: r.user ?? '', platform: r.platform ?? '', scope: r.scope ?? '', collectionId: r.collection_id, query: r.query, at: r.created_at }));
  }

  platformFile(ref: PlatformFileKey): string | null {
    const row = this.db
      .prepare(`SELECT file_ref FROM platform_files WHERE platform = ? AND workspace = ? AND media_key = ?`)
      .get(ref.platform, ref.workspace, ref.mediaKey) as { file_ref: string } | undefined;
    return row?.file_ref ?? null;
  }

  setPlatformFile(ref: PlatformFileKey, fileRef: string): void {
    this.write(() =>
      this.db
        .prepare(`INSERT OR REPLACE INTO platform_files (platform, workspace, media_key, file_ref, created_at) VALUES (?, ?, ?, ?, ?)`)
        .run(ref.platform, ref.workspace, ref.mediaKey, fileRef, Date.now()),
    );
  }
}
