/**
 * Write transactions of the PostgreSQL catalogue, and the two logs other processes follow.
 *
 * Followers (the image index, the entity references) remember the last seq they applied and read
 * `seq > watermark`. That is only right if no entry ever commits below a seq someone has already
 * read. A sequence does not give that on its own: two transactions draw seq 7 and 8, the one with 8
 * commits first, a follower reads up to 8 and moves its watermark there, then 7 commits and is never
 * read. So every transaction that logs takes one transaction-scoped advisory lock for the schema
 * (pg_advisory_xact_lock) right before its log rows are inserted, and holds it to COMMIT: between
 * drawing a seq and committing it no other transaction can draw one, so entries commit in seq order
 * across every process. The log rows are written last, at the end of the transaction, so the lock is
 * held for as short a time as possible (two inserts and the commit), and one lock covers both logs
 * (two locks taken in different orders could deadlock). A rolled-back transaction leaves a gap in the
 * seqs, never an entry out of order.
 *
 * Every write also notifies the schema's channel at commit (the notify_change triggers of
 * pg-migrations.ts version 4), and `onCommit` counts it for this process's change stamp.
 */
import { quoteSchema } from './pg-migrations.js';
import type { PgDb, PgQueryable } from './pg-pool.js';

export interface PgWriteTx extends PgQueryable {
  /** Queues an index-log entry (written at the end of the transaction, in the order queued). */
  logItem(itemId: number, op: 'add' | 'del'): void;
  /** Queues an entity-log entry; nothing for null. */
  logEntity(entityId: number | null): void;
}

/** Runs fn in one transaction and commits it with its log entries; ROLLBACK when fn throws. */
export type PgWrite = <T>(fn: (tx: PgWriteTx) => Promise<T>) => Promise<T>;

export function pgWriter(db: PgDb, schema: string, onCommit: () => void = () => {}): PgWrite {
  const s = quoteSchema(schema);
  // Two-key form: its own key space, apart from the single-key locks of migrations and models.
  const lock = `SELECT pg_advisory_xact_lock(hashtext('referent.log'), hashtext('${schema}'))`;
  return async (fn) => {
    try {
      return await db.transaction(async (tx) => {
        const items: Array<{ itemId: number; op: 'add' | 'del' }> = [];
        const entities: number[] = [];
        const value = await fn({
          query: (sql, params) => tx.query(sql, params),
          logItem: (itemId, op) => void items.push({ itemId, op }),
          logEntity: (entityId) => void (entityId !== null && entities.push(entityId)),
        });
        if (items.length > 0 || entities.length > 0) {
          await tx.query(lock);
          // ORDER BY the position: seqs are drawn in the order the rows are inserted.
          if (items.length > 0) {
            await tx.query(
              `INSERT INTO ${s}.index_log (item_id, op) SELECT e.item_id, e.op FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS e(item_id, op, n) ORDER BY e.n`,
              [items.map((e) => e.itemId), items.map((e) => e.op)],
            );
          }
          if (entities.length > 0) {
            await tx.query(`INSERT INTO ${s}.entity_log (entity_id) SELECT e.entity_id FROM unnest($1::bigint[]) WITH ORDINALITY AS e(entity_id, n) ORDER BY e.n`, [entities]);
          }
        }
        return value;
      });
    } finally {
      // Counted whether or not it committed, as SQLite does: a stamp that moves for nothing costs a read.
      onCommit();
    }
  };
}
