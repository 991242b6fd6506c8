/**
 * Moving a data folder's catalogue (SQLite) into PostgreSQL + pgvector: `referent migrate`.
 *
 *   pg-import-source.ts  reading the SQLite catalogue without changing its data folder
 *   pg-import-tables.ts  which SQLite rows become which PostgreSQL rows, column by column
 *   pg-import-state.ts   the bookkeeping in the target schema: resuming, refusing another catalogue
 *   pg-import-copy.ts    the copy in batches, sequences and HNSW indexes
 *   pg-import-verify.ts  counts and checksums of every table, read back from both sides
 *
 * The schema is migrated first (migratePg, as a server does), then claimed: a migration starts only
 * in an empty catalogue, and goes on only from the catalogue that started it. Every batch commits
 * with the record of how far its table got, so a run killed at any point is resumed by running the
 * same command again, with no row twice. A run whose copy had finished only verifies again. The
 * media stay where they are: PostgreSQL servers read them from the same REFERENT_DATA_DIR.
 */
import path from 'node:path';
import { ErrorCode, ReferentError } from '../../errors.js';
import { type Progress, silentProgress } from '../../progress.js';
import { copyTables, finishCopy, sizeCopy } from './pg-import-copy.js';
import { checkCatalogueFile, type ImportSource, openImportSource } from './pg-import-source.js';
import { claimTarget, type ImportState, stamp } from './pg-import-state.js';
import { IMPORT_TABLES } from './pg-import-tables.js';
import { type TableCheck, verifyTables } from './pg-import-verify.js';
import { migratePg, quoteSchema } from './pg-migrations.js';
import { openPgDb, type PgDb } from './pg-pool.js';

export type { TableCheck } from './pg-import-verify.js';

export interface ImportOptions {
  /** The SQLite catalogue: REFERENT_DATA_DIR/catalog.sqlite. */
  catalogFile: string;
  /** postgres://… of the target database. */
  url: string;
  /** The target schema (default "public"). */
  schema?: string;
  /** Rows per batch, each one transaction (default 500). */
  batchSize?: number;
  progress?: Progress;
  /** Lines for the person running it: what is read, that a run resumes, that the catalogue is in use. */
  say?: (line: string) => void;
  /** Stops between batches (Ctrl-C): what was committed stays, and the same call later goes on from there. */
  signal?: AbortSignal;
}

export interface ImportReport {
  /** The SQLite file read. */
  source: string;
  /** 'live': read in place as a snapshot, because another process had it open (pg-import-source.ts). */
  mode: 'copy' | 'live';
  /** user@host:port/database, never the password. */
  where: string;
  schema: string;
  /** Rows this run copied; rows earlier runs had copied. */
  copied: number;
  copiedBefore: number;
  /** The copy had finished before this run, which only verified it. */
  alreadyCopied: boolean;
  /** Empty when the run was interrupted before it verified. */
  checks: TableCheck[];
  /** Every table has the same rows on both sides. */
  ok: boolean;
  /** The signal stopped the run: the copy (or its check) is not finished. */
  interrupted: boolean;
  /** A process opened the catalogue during the run: what it wrote since is not in PostgreSQL. */
  openedSince: boolean;
}

const DEFAULT_BATCH = 500;
/** Rows per round trip when verifying, whatever the copy's batch size. */
const VERIFY_BATCH = 500;

/**
 * Copies the catalogue into the schema (or goes on with an interrupted copy), then verifies every
 * table. Errors: CONFIG_INVALID (no catalogue, not a catalogue, a bad URL or schema name),
 * USAGE_INVALID (the schema holds another catalogue), DATABASE_UNAVAILABLE / DATABASE_UNSUPPORTED
 * (openPgDb, migratePg), CONFLICT (another migrate copying into it at once). A verification that
 * finds a difference is not an error: `ok` is false and the checks say where.
 */
export async function importSqlite(options: ImportOptions): Promise<ImportReport> {
  const schema = options.schema ?? 'public';
  quoteSchema(schema);
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ReferentError(ErrorCode.UsageInvalid, `The batch size must be a whole number of rows, 1 or more (not ${batchSize}).`);
  const run: Run = { schema, batchSize, progress: options.progress ?? silentProgress, say: options.say ?? (() => {}), ...(options.signal ? { signal: options.signal } : {}) };
  const file = path.resolve(options.catalogFile);
  // The cheap mistakes first, before the database is touched or the catalogue copied.
  checkCatalogueFile(file);
  const db = openPgDb(options.url, { max: 4 });
  try {
    await migratePg(db, schema);
    const source = openImportSource(file);
    try {
      if (source.mode === 'live') run.say(`${source.file} is open in another process (or one was killed with it open): copying it as it is now; what is written to it from now on is not copied.`);
      const state = await claimTarget(db, schema, source, IMPORT_TABLES.map((t) => t.name));
      const size = sizeCopy(source, state);
      const alreadyCopied = state.copiedAt !== null;
      if (alreadyCopied) run.say(`The copy into schema ${schema} finished on ${new Date(state.copiedAt!).toISOString()}: verifying it again.`);
      const copied = alreadyCopied ? { copied: 0, interrupted: false } : await copyRest(source, db, state, size, run);
      const checks = copied.interrupted ? null : await verify(source, db, run);
      const report: ImportReport = {
        source: source.file,
        mode: source.mode,
        where: db.where,
        schema,
        copied: copied.copied,
        copiedBefore: alreadyCopied ? size.total : size.done,
        alreadyCopied,
        checks: checks ?? [],
        ok: checks !== null && checks.every((c) => c.ok),
        interrupted: checks === null,
        openedSince: source.openedSince(),
      };
      if (report.ok) await stamp(db, schema, 'verified_at');
      return report;
    } finally {
      source.close();
    }
  } finally {
    await db.close();
  }
}

interface Run {
  schema: string;
  batchSize: number;
  progress: Progress;
  say: (line: string) => void;
  signal?: AbortSignal;
}

/** The copy, from where earlier runs left it, and what makes it a catalogue once it is whole. */
async function copyRest(source: ImportSource, db: PgDb, state: ImportState, size: { total: number; done: number }, run: Run): Promise<{ copied: number; interrupted: boolean }> {
  if (size.done > 0) run.say(`Resuming: ${size.done} of ${size.total} rows were copied by an earlier run.`);
  run.progress.start('Copying to PostgreSQL', size.total, 'rows');
  if (size.done > 0) run.progress.update?.(size.done);
  let result: { copied: number; interrupted: boolean };
  try {
    result = await copyTables(source, db, run.schema, state, run);
  } finally {
    run.progress.stop();
  }
  if (result.interrupted) return result;
  await finishCopy(source, db, run.schema);
  await stamp(db, run.schema, 'copied_at');
  return result;
}

/** Every table compared (null when interrupted). */
async function verify(source: ImportSource, db: PgDb, run: Run): Promise<TableCheck[] | null> {
  run.progress.start('Verifying', IMPORT_TABLES.reduce((n, t) => n + source.count(t), 0), 'rows');
  try {
    return await verifyTables(source, db, run.schema, { ...run, batchSize: VERIFY_BATCH });
  } finally {
    run.progress.stop();
  }
}
