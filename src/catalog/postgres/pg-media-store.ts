/**
 * MediaCatalog on PostgreSQL: which media files live items still use, the trash of files forgetting
 * left to delete, and the platforms' copies of images (a Slack file id per workspace). As in SQLite:
 * - A queued key leaves the trash once its files are deleted (mediaTrashed), or when a live item
 *   uses it again (the same photo added back), which mediaTrash notices before answering.
 * - Forgetting an image's last live item removes the platforms' copies of it (pg-entity-store.ts).
 * - checkpoint is nothing to do here: SQLite folds its write-ahead log into the zeroed database file
 *   after a forget, so no old page keeps the forgotten rows. PostgreSQL's deleted and updated row
 *   versions, and their index entries (the HNSW and GIN indexes' too), stay in their pages,
 *   invisible to every query, until VACUUM reclaims them, which autovacuum does on its own
 *   schedule; its WAL is recycled by the server's checkpoints. Neither is the client's to drive: a
 *   VACUUM cannot run inside a transaction, needs table ownership, and would stall a forget on a
 *   large table. Plain VACUUM marks the space reusable but leaves the bytes in the pages until they
 *   are overwritten (measured: a forgotten description stayed in the pages of texts, phrases and a
 *   GIN index after VACUUM; VACUUM FULL rewrote them away), and the WAL keeps them until recycled.
 *   Operators who must bound how long forgotten text can linger on disk run VACUUM FULL on the
 *   schema's tables (test/reliability/storage-postgres.ts checks the raw pages after it).
 */
import type { PlatformFileKey } from '../catalog.js';
import { quoteSchema } from './pg-migrations.js';
import type { PgDb } from './pg-pool.js';
import { atParam } from './pg-rows.js';
import type { PgWrite } from './pg-write.js';

export class PgMedia {
  private readonly s: string;

  constructor(
    private readonly db: PgDb,
    schema: string,
    private readonly write: PgWrite,
  ) {
    this.s = quoteSchema(schema);
  }

  async isMediaLive(mediaKey: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM ${this.s}.items WHERE media_key = $1 AND deleted_at IS NULL LIMIT 1`, [mediaKey]);
    return rows.length > 0;
  }

  async mediaCollections(mediaKey: string): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(`SELECT DISTINCT collection_id AS id FROM ${this.s}.items WHERE media_key = $1 AND deleted_at IS NULL ORDER BY id`, [mediaKey]);
    return rows.map((r) => r.id);
  }

  async mediaTrash(limit: number): Promise<string[]> {
    const s = this.s;
    // Asked by every upkeep round: an empty queue writes nothing (and notifies no one).
    if ((await this.db.query(`SELECT 1 FROM ${s}.media_trash LIMIT 1`)).length === 0) return [];
    return this.write(async (tx) => {
      await tx.query(`DELETE FROM ${s}.media_trash t WHERE EXISTS (SELECT 1 FROM ${s}.items i WHERE i.media_key = t.media_key AND i.deleted_at IS NULL)`);
      const rows = await tx.query<{ media_key: string }>(`SELECT media_key FROM ${s}.media_trash ORDER BY queued_at, media_key LIMIT $1`, [limit]);
      return rows.map((r) => r.media_key);
    });
  }

  async mediaTrashed(mediaKeys: readonly string[]): Promise<void> {
    if (mediaKeys.length === 0) return;
    await this.write((tx) => tx.query(`DELETE FROM ${this.s}.media_trash WHERE media_key = ANY($1::text[])`, [[...mediaKeys]]));
  }

  /** Nothing: see the top of this file. */
  async checkpoint(): Promise<void> {}

  async platformFile(ref: PlatformFileKey): Promise<string | null> {
    const [row] = await this.db.query<{ file_ref: string }>(`SELECT file_ref FROM ${this.s}.platform_files WHERE platform = $1 AND workspace = $2 AND media_key = $3`, [
      ref.platform,
      ref.workspace,
      ref.mediaKey,
    ]);
    return row?.file_ref ?? null;
  }

  async setPlatformFile(ref: PlatformFileKey, fileRef: string): Promise<void> {
    await this.write((tx) =>
      tx.query(
        `INSERT INTO ${this.s}.platform_files (platform, workspace, media_key, file_ref, created_at) VALUES ($1, $2, $3, $4, ${atParam(5)})
         ON CONFLICT (platform, workspace, media_key) DO UPDATE SET file_ref = excluded.file_ref, created_at = excluded.created_at`,
        [ref.platform, ref.workspace, ref.mediaKey, fileRef, Date.now()],
      ),
    );
  }
}
