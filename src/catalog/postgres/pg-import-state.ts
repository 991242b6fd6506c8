/**
 * The bookkeeping of `referent migrate` in the target schema, which makes a migration resumable and
 * refuses a schema that holds something else:
 *   import_source    one row: which SQLite catalogue this schema is being (or was) filled from, when
 *                    the copy finished (copied_at) and when it last verified equal (verified_at);
 *   import_progress  one row per copied table: the key of the last row copied, how many rows, done.
 * Every batch of rows commits in the transaction that moves its table's row forward, so a run killed
 * at any moment leaves the two in step, and the next run goes on after the last committed key.
 * Neither table is part of the catalogue: PgCatalog never reads them; drop them once satisfied.
 */
import { ErrorCode, ReferentError } from '../../errors.js';
import { quoteSchema } from './pg-migrations.js';
import type { PgDb, PgQueryable } from './pg-pool.js';
import { msOf } from './pg-rows.js';

export interface TableProgress {
  /** The key of the last row copied (null: none yet). */
  after: unknown[] | null;
  copied: number;
  done: boolean;
}

export interface ImportState {
  /** The SQLite file the schema is being filled from (as the run that started it saw it). */
  source: string;
  /** Null until every table is copied and the sequences are set. */
  copiedAt: number | null;
  progress: Map<string, TableProgress>;
}

export function importTables(schema: string): { source: string; progress: string } {
  const s = quoteSchema(schema);
  return { source: `${s}.import_source`, progress: `${s}.import_progress` };
}

/**
 * Takes the schema for a migration from this source: starts one in an empty catalogue, or finds the
 * one this source started (resumed, or finished). USAGE_INVALID when the schema holds rows that did
 * not come from this source. `catalogueTables` are the tables that must be empty to start.
 */
export async function claimTarget(
  db: PgDb,
  schema: string,
  source: { file: string; fingerprint: string },
  catalogueTables: readonly string[],
): Promise<ImportState> {
  const s = quoteSchema(schema);
  const t = importTables(schema);
  const where = `${db.where} (schema ${schema})`;
  const elsewhere = 'Use another --schema, or empty this one (DROP SCHEMA … CASCADE) first.';
  // Nothing of this transaction stays when it refuses: the bookkeeping tables are not left behind.
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('referent.import'), hashtext('${schema}'))`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${t.source} (source text NOT NULL, fingerprint text NOT NULL, started_at timestamptz NOT NULL DEFAULT now(), copied_at timestamptz, verified_at timestamptz);
       CREATE TABLE IF NOT EXISTS ${t.progress} (table_name text COLLATE "C" PRIMARY KEY, after_key jsonb, copied bigint NOT NULL DEFAULT 0, done boolean NOT NULL DEFAULT false)`,
    );
    const [started] = await tx.query<{ source: string; fingerprint: string; copied_ms: number | null }>(
      `SELECT source, fingerprint, ${msOf('copied_at')} AS copied_ms FROM ${t.source} LIMIT 1`,
    );
    if (started && started.fingerprint !== source.fingerprint) {
      throw new ReferentError(ErrorCode.UsageInvalid, `PostgreSQL at ${where} holds a migration from another catalogue (${started.source}), not from ${source.file}. ${elsewhere}`);
    }
    if (!started) {
      const used = await nonEmpty(tx, s, catalogueTables);
      if (used.length > 0) throw new ReferentError(ErrorCode.UsageInvalid, `PostgreSQL at ${where} already holds a catalogue (rows in ${used.join(', ')}). ${elsewhere}`);
      await tx.query(`INSERT INTO ${t.source} (source, fingerprint) VALUES ($1, $2)`, [source.file, source.fingerprint]);
    }
    await tx.query(`INSERT INTO ${t.progress} (table_name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, [[...catalogueTables]]);
    const rows = await tx.query<{ table_name: string; after_key: unknown[] | null; copied: number; done: boolean }>(`SELECT table_name, after_key, copied, done FROM ${t.progress}`);
    return {
      source: started?.source ?? source.file,
      copiedAt: started?.copied_ms ?? null,
      progress: new Map(rows.map((r) => [r.table_name, { after: r.after_key, copied: r.copied, done: r.done }])),
    };
  });
}

/** The tables of the list that hold a row. */
async function nonEmpty(tx: PgQueryable, s: string, tables: readonly string[]): Promise<string[]> {
  const checks = tables.map((name) => `SELECT '${name}' AS name WHERE EXISTS (SELECT 1 FROM ${s}."${name}")`).join(' UNION ALL ');
  return (await tx.query<{ name: string }>(checks)).map((r) => r.name);
}

/**
 * Inside a batch's transaction: moves the table's progress from `from` to `to`. Fails (rolling the
 * batch back) when the row is not where this run left it: another `referent migrate` is copying
 * into the schema at the same time.
 */
export async function advance(tx: PgQueryable, schema: string, table: string, from: TableProgress, to: TableProgress): Promise<void> {
  const t = importTables(schema);
  const moved = await tx.query(
    `UPDATE ${t.progress} SET after_key = $3::jsonb, copied = $4, done = $5
     WHERE table_name = $1 AND after_key IS NOT DISTINCT FROM $2::jsonb AND copied = $6 AND NOT done RETURNING 1`,
    [table, from.after ? JSON.stringify(from.after) : null, to.after ? JSON.stringify(to.after) : null, to.copied, to.done, from.copied],
  );
  if (moved.length === 0) {
    throw new ReferentError(ErrorCode.Conflict, `Another referent migrate is copying ${table} into schema ${schema} at the same time: let it finish, then run again to verify.`);
  }
}

/** Records that every table is copied (copied_at), or that the copy verified equal (verified_at). */
export async function stamp(db: PgQueryable, schema: string, what: 'copied_at' | 'verified_at'): Promise<void> {
  await db.query(`UPDATE ${importTables(schema).source} SET ${what} = now()`);
}
