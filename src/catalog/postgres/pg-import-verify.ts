/**
 * The check at the end of `referent migrate`: every table read back whole from both sides, in key
 * order, each row in one canonical form, counted and hashed (SHA-256 over the rows' canonical JSON,
 * one a line), and compared row by row so a difference is named by its key.
 *
 * The canonical form is the value as the catalogue means it, whatever the engine: ids and integers as
 * numbers, times as epoch ms, flags as booleans, JSON with its keys sorted (jsonb reorders them),
 * vectors as their float32 bytes (hex), lexemes as PostgreSQL's text of the tsvector. A SQLite row
 * goes through the same mapping as the copy (pg-import-tables.ts), its lexemes computed by
 * PostgreSQL from the words the stores would give it; a PostgreSQL row is read as its stores read it.
 */
import { createHash } from 'node:crypto';
import type { Progress } from '../../progress.js';
import { quoteName } from './pg-import-copy.js';
import type { ImportSource } from './pg-import-source.js';
import { type ColumnKind, type ImportTable, IMPORT_TABLES, sourceValue } from './pg-import-tables.js';
import { quoteSchema } from './pg-migrations.js';
import type { PgDb } from './pg-pool.js';
import { msOf } from './pg-rows.js';
import { fromVectorBytes, vectorBytes } from './pg-vectors.js';

export interface TableCheck {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceDigest: string;
  targetDigest: string;
  ok: boolean;
  /** The first row that differs, by its key, when one does. */
  difference?: string;
}

type Canonical = unknown[];

/** How PostgreSQL reads a column for the check. */
const READ: Record<ColumnKind, (column: string) => string> = {
  bigint: (c) => c,
  integer: (c) => c,
  double: (c) => c,
  text: (c) => c,
  boolean: (c) => c,
  time: (c) => msOf(c),
  jsonb: (c) => c,
  vector: (c) => vectorBytes(c),
  lexeme: (c) => `${c}::text`,
};

/** Object keys sorted at every depth. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

const floatHex = (v: Float32Array): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');

function canonical(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'bigint':
    case 'integer':
    case 'double':
    case 'time':
      return Number(value);
    case 'boolean':
      return Boolean(value);
    case 'jsonb':
      return sortedJson(typeof value === 'string' ? JSON.parse(value) : value);
    case 'vector':
      return floatHex(value instanceof Float32Array ? value : fromVectorBytes(value as Buffer));
    default:
      return String(value);
  }
}

/** Batches of canonical rows of one side, in key order, with the key of each. */
type Reader = (after: readonly unknown[] | null, limit: number) => Promise<Array<{ key: unknown[]; row: Canonical }>>;

function sourceReader(source: ImportSource, db: PgDb, table: ImportTable): Reader {
  return async (after, limit) => {
    const rows = source.rows(table, after, limit);
    const out = rows.map((r) => ({ key: table.key.map((k) => r[k]), row: table.columns.map((c) => sourceValue(c, r)) as unknown[] }));
    for (const [i, column] of table.columns.entries()) {
      if (column.kind !== 'lexeme' || out.length === 0) continue;
      // PostgreSQL makes the tsvector: the expected value is what to_tsvector gives for those words.
      const made = await db.query<{ v: string }>(`SELECT to_tsvector('simple', x.w)::text AS v FROM unnest($1::text[]) WITH ORDINALITY AS x(w, n) ORDER BY x.n`, [
        out.map((o) => o.row[i] as string),
      ]);
      made.forEach((m, j) => (out[j]!.row[i] = m.v));
    }
    for (const o of out) o.row = o.row.map((v, i) => canonical(table.columns[i]!.kind, v));
    return out;
  };
}

function targetReader(db: PgDb, schema: string, table: ImportTable): Reader {
  const s = quoteSchema(schema);
  const kindOf = new Map(table.columns.map((c) => [c.name, c.kind]));
  // Text keys in byte order, as SQLite's BINARY orders them.
  const keys = table.key.map((k) => `t.${quoteName(k)}${kindOf.get(k) === 'text' ? ' COLLATE "C"' : ''}`).join(', ');
  const select = table.columns.map((c) => `${READ[c.kind](`t.${quoteName(c.name)}`)} AS ${quoteName(c.name)}`).join(', ');
  return async (after, limit) => {
    const past = after ? ` WHERE (${keys}) > (${table.key.map((_, i) => `$${i + 2}`).join(', ')})` : '';
    const rows = await db.query<Record<string, unknown>>(`SELECT ${select} FROM ${s}.${quoteName(table.name)} t${past} ORDER BY ${keys} LIMIT $1`, [
      limit,
      ...((after ?? []) as Array<string | number>),
    ]);
    return rows.map((r) => ({ key: table.key.map((k) => r[k]), row: table.columns.map((c) => canonical(c.kind, r[c.name])) }));
  };
}

/** One side's rows to its end, as canonical lines in key order. */
async function* lines(read: Reader, limit: number): AsyncGenerator<{ key: unknown[]; line: string }> {
  let after: unknown[] | null = null;
  for (;;) {
    const batch = await read(after, limit);
    for (const b of batch) yield { key: b.key, line: JSON.stringify(b.row) };
    if (batch.length < limit) return;
    after = batch.at(-1)!.key;
  }
}

const describeKey = (table: ImportTable, key: unknown[]): string => table.key.map((k, i) => `${k}=${JSON.stringify(key[i])}`).join(', ');

/** Compares one table on both sides. */
async function checkTable(source: ImportSource, db: PgDb, schema: string, table: ImportTable, batchSize: number, progress: Progress): Promise<TableCheck> {
  const left = lines(sourceReader(source, db, table), batchSize);
  const right = lines(targetReader(db, schema, table), batchSize);
  const hashes = [createHash('sha256'), createHash('sha256')] as const;
  const counts = [0, 0];
  let difference: string | undefined;
  for (;;) {
    const [a, b] = await Promise.all([left.next(), right.next()]);
    if (a.done && b.done) break;
    if (!a.done) {
      hashes[0].update(`${a.value.line}\n`);
      counts[0]!++;
      progress.tick(1);
    }
    if (!b.done) {
      hashes[1].update(`${b.value.line}\n`);
      counts[1]!++;
    }
    if (difference === undefined && (a.done || b.done || a.value.line !== b.value.line)) {
      const at = a.done ? b.value!.key : b.done ? a.value.key : a.value.key;
      difference = a.done ? `an extra row in PostgreSQL at ${describeKey(table, at)}` : b.done ? `a row missing in PostgreSQL at ${describeKey(table, at)}` : `the row at ${describeKey(table, at)}`;
    }
  }
  const [sourceDigest, targetDigest] = hashes.map((h) => h.digest('hex')) as [string, string];
  const ok = sourceDigest === targetDigest && counts[0] === counts[1];
  return { table: table.name, sourceRows: counts[0]!, targetRows: counts[1]!, sourceDigest, targetDigest, ok, ...(ok ? {} : { difference: difference ?? 'the rows' }) };
}

/** Every table, in the order they were copied; null when the signal stopped it between two tables. */
export async function verifyTables(
  source: ImportSource,
  db: PgDb,
  schema: string,
  options: { batchSize: number; progress: Progress; signal?: AbortSignal },
): Promise<TableCheck[] | null> {
  const checks: TableCheck[] = [];
  for (const table of IMPORT_TABLES) {
    if (options.signal?.aborted) return null;
    checks.push(await checkTable(source, db, schema, table, options.batchSize, options.progress));
  }
  return checks;
}
