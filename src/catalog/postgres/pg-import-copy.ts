/**
 * The copy of `referent migrate`: every table of IMPORT_TABLES in batches, each batch one transaction
 * with its bookkeeping (pg-import-state.ts), then what makes the copy a working catalogue: identity
 * sequences past the copied ids, and each model's HNSW index, built once its vectors are in (faster
 * than growing it row by row).
 */
import { ErrorCode, ReferentError } from '../../errors.js';
import type { Progress } from '../../progress.js';
import type { ImportSource } from './pg-import-source.js';
import { advance, type ImportState, type TableProgress } from './pg-import-state.js';
import { type ColumnKind, type ColumnValue, type ImportTable, IMPORT_TABLES, type SourceRow, sourceValue } from './pg-import-tables.js';
import { quoteSchema } from './pg-migrations.js';
import { type PgDb, type SqlScalar, sqlState } from './pg-pool.js';
import { PgModels, vectorLiteral } from './pg-vectors.js';

/** How each kind of column travels in the batch's arrays, and the expression that stores it. */
const ARRAY_TYPE: Record<ColumnKind, string> = {
  bigint: 'bigint',
  integer: 'integer',
  double: 'float8',
  text: 'text',
  boolean: 'boolean',
  time: 'float8',
  jsonb: 'text',
  vector: 'text',
  lexeme: 'text',
};

const STORED: Record<ColumnKind, (v: string) => string> = {
  bigint: (v) => v,
  integer: (v) => v,
  double: (v) => v,
  text: (v) => v,
  boolean: (v) => v,
  // As atParam writes a time (pg-rows.ts).
  time: (v) => `to_timestamp(${v} / 1000)`,
  jsonb: (v) => `${v}::jsonb`,
  vector: (v) => `${v}::vector`,
  // As the stores write it: the words as searchWords() cuts them, in the 'simple' configuration.
  lexeme: (v) => `to_tsvector('simple', ${v})`,
};

export const quoteName = (name: string): string => `"${name}"`;

/** One INSERT for a batch: a parameter per column, each an array of the batch's values. */
function insertSql(s: string, table: ImportTable): string {
  const names = table.columns.map((c) => quoteName(c.name));
  const arrays = table.columns.map((c, i) => `$${i + 1}::${ARRAY_TYPE[c.kind]}[]`);
  const values = table.columns.map((c) => STORED[c.kind](`r.${quoteName(c.name)}`));
  const overriding = table.identity ? ' OVERRIDING SYSTEM VALUE' : '';
  return `INSERT INTO ${s}.${quoteName(table.name)} (${names.join(', ')})${overriding} SELECT ${values.join(', ')} FROM unnest(${arrays.join(', ')}) AS r(${names.join(', ')})`;
}

const asParam = (v: ColumnValue): SqlScalar => (v instanceof Float32Array ? vectorLiteral(v) : v);

/**
 * A batch that cannot be stored, as one line: a value PostgreSQL cannot hold (a NUL in a text, a
 * vector whose bytes do not match its dimension), or a row already there that this migration did not
 * copy (something wrote to the schema while it was half copied). Anything else passes unchanged.
 */
function uncopiable(err: unknown, table: ImportTable, first: SourceRow, schema: string): unknown {
  const at = `${table.name} (from ${table.key.map((k) => `${k}=${JSON.stringify(first[k])}`).join(', ')})`;
  if (err instanceof RangeError) return new ReferentError(ErrorCode.Conflict, `A row of ${at} cannot be stored in PostgreSQL: ${err.message}.`, { cause: err });
  if (sqlState(err) === '23505') {
    return new ReferentError(ErrorCode.Conflict, `Schema ${schema} already has rows of ${at} that this migration did not copy: was a Referent started on it before the copy finished? Empty the schema and run again.`, { cause: err });
  }
  return err;
}

export interface CopyOptions {
  batchSize: number;
  progress: Progress;
  /** Stops between batches: what was committed stays, and the next run goes on from there. */
  signal?: AbortSignal;
}

/**
 * Copies what is left of every table; the progress counts rows as their batch commits. Returns the
 * rows copied, and whether the signal stopped it before the end.
 */
export async function copyTables(source: ImportSource, db: PgDb, schema: string, state: ImportState, options: CopyOptions): Promise<{ copied: number; interrupted: boolean }> {
  const s = quoteSchema(schema);
  let copied = 0;
  for (const table of IMPORT_TABLES) {
    let at: TableProgress = state.progress.get(table.name) ?? { after: null, copied: 0, done: false };
    const sql = insertSql(s, table);
    while (!at.done) {
      if (options.signal?.aborted) return { copied, interrupted: true };
      const rows = source.rows(table, at.after, options.batchSize);
      const last = rows.at(-1);
      const next: TableProgress = {
        after: last ? table.key.map((k) => last[k]) : at.after,
        copied: at.copied + rows.length,
        done: rows.length < options.batchSize,
      };
      try {
        const values = rows.map((row) => table.columns.map((c) => asParam(sourceValue(c, row))));
        await db.transaction(async (tx) => {
          if (rows.length > 0) await tx.query(sql, table.columns.map((_, i) => values.map((v) => v[i]!)));
          await advance(tx, schema, table.name, at, next);
        });
      } catch (err) {
        throw uncopiable(err, table, rows[0] ?? {}, schema);
      }
      state.progress.set(table.name, next);
      at = next;
      copied += rows.length;
      options.progress.tick(rows.length);
    }
  }
  return { copied, interrupted: false };
}

/**
 * Makes the copied rows a catalogue the stores can write to: each identity sequence past the highest
 * copied id (and past the highest SQLite ever gave out, for its AUTOINCREMENT tables), and every
 * model's HNSW index (PgModels.ensure, as a store meeting the model would make it). Idempotent.
 */
export async function finishCopy(source: ImportSource, db: PgDb, schema: string): Promise<void> {
  const s = quoteSchema(schema);
  for (const table of IMPORT_TABLES) {
    if (!table.identity) continue;
    const column = quoteName(table.identity);
    const [row] = await db.query<{ n: number }>(`SELECT COALESCE(MAX(${column}), 0) AS n FROM ${s}.${quoteName(table.name)}`);
    const highest = Math.max(row?.n ?? 0, source.sequence(table.name));
    if (highest > 0) await db.query(`SELECT setval(pg_get_serial_sequence($1, $2), $3)`, [`${s}.${quoteName(table.name)}`, table.identity, highest]);
  }
  const models = new PgModels(db, s, `The PostgreSQL catalogue at ${db.where} (schema ${schema})`);
  for (const m of await db.query<{ model_id: string; dim: number }>(`SELECT model_id, dim FROM ${s}.vector_models ORDER BY model_id`)) {
    await models.ensure(m.model_id, m.dim);
  }
}

/** Rows to copy per table, and how many of them earlier runs copied. */
export function sizeCopy(source: ImportSource, state: ImportState): { total: number; done: number } {
  let total = 0;
  let done = 0;
  for (const table of IMPORT_TABLES) {
    const p = state.progress.get(table.name);
    // A finished table counts what it copied: the source may have grown since (a catalogue in use).
    const n = p?.done ? p.copied : Math.max(source.count(table), p?.copied ?? 0);
    total += n;
    done += p?.copied ?? 0;
  }
  return { total, done };
}
