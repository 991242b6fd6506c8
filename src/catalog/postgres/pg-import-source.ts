/**
 * The SQLite catalogue `referent migrate` reads, without changing anything in its data folder.
 *
 * SQLite cannot open a WAL-mode file read-only without its -wal and -shm files beside it, and creates
 * them when they are missing. So:
 * - No -wal beside catalog.sqlite (no process has it open, and the last one closed it cleanly): the
 *   file alone is the whole catalogue. It is copied to a private temporary folder (checked unchanged
 *   across the copy) and read there, brought up to this Referent's schema first when it is older.
 *   Not a byte and not a file of the data folder changes. A killed run leaves its copy behind, and
 *   the next run removes it.
 * - A -wal beside it (a Referent process has it open, or one was killed): it is read in place,
 *   read-only, in one read transaction, so every batch comes from one consistent snapshot while that
 *   process goes on; what it writes afterwards is not copied (`live`). SQLite's shared-memory index
 *   (-shm) is used as any reader uses it; the catalogue and its WAL are not written.
 * Either way every read sees the catalogue as it was when it was opened.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, ReferentError } from '../../errors.js';
import { SCHEMA_VERSION } from '../migrations.js';
import { openSqliteSnapshot, SqliteCatalog, type SqliteSnapshot } from '../sqlite-catalog.js';
import { type ImportTable, isDerivedSqliteTable, IMPORT_TABLES, type SourceRow } from './pg-import-tables.js';

export interface ImportSource {
  /** The catalogue file, resolved. */
  readonly file: string;
  /** 'copy': read from a copy of a closed catalogue; 'live': read in place, a snapshot of a catalogue in use. */
  readonly mode: 'copy' | 'live';
  /** What identifies this catalogue, wherever its folder is: its first collection (or 'empty'). */
  readonly fingerprint: string;
  /** Up to `limit` rows of the table past `after` (a key, or null for the first), in key order. */
  rows(table: ImportTable, after: readonly unknown[] | null, limit: number): SourceRow[];
  count(table: ImportTable): number;
  /** The highest id SQLite ever gave out in the table (AUTOINCREMENT), 0 when it keeps none. */
  sequence(table: string): number;
  /** True when another process opened the catalogue after it was copied (what it writes is not copied). */
  openedSince(): boolean;
  /** Closes the snapshot and removes the copy. */
  close(): void;
}

const TEMP_PREFIX = 'referent-migrate-';

/** Opens the catalogue file for reading (see the top). CONFIG_INVALID when there is none or it is not a catalogue. */
export function openImportSource(catalogFile: string): ImportSource {
  const file = path.resolve(catalogFile);
  checkCatalogueFile(file);
  const live = fs.existsSync(`${file}-wal`);
  let copy: { dir: string; stat: fs.Stats } | null = null;
  let snapshot: SqliteSnapshot;
  try {
    if (live) {
      snapshot = openSqliteSnapshot(file);
    } else {
      copy = copyClosed(file);
      const copied = path.join(copy.dir, 'catalog.sqlite');
      snapshot = openSqliteSnapshot(copied);
      if (snapshot.schemaVersion > 0 && snapshot.schemaVersion < SCHEMA_VERSION) {
        // An older catalogue is brought up to this Referent's schema, on the copy.
        snapshot.close();
        SqliteCatalog.open(copied).close();
        snapshot = openSqliteSnapshot(copied);
      }
    }
  } catch (err) {
    if (copy) fs.rmSync(copy.dir, { recursive: true, force: true });
    throw notACatalogue(err, file);
  }
  try {
    checkSchema(snapshot, file);
  } catch (err) {
    snapshot.close();
    if (copy) fs.rmSync(copy.dir, { recursive: true, force: true });
    throw err;
  }
  const stamp = copy?.stat;
  const keyList = (t: ImportTable) => t.key.map((k) => `"${k}"`).join(', ');
  return {
    file,
    mode: live ? 'live' : 'copy',
    fingerprint: fingerprintOf(snapshot),
    rows(table, after, limit) {
      const keys = keyList(table);
      const past = after ? ` WHERE (${keys}) > (${table.key.map(() => '?').join(', ')})` : '';
      return snapshot.all<SourceRow>(`SELECT * FROM (${table.source})${past} ORDER BY ${keys} LIMIT ?`, [...(after ?? []), limit]);
    },
    count(table) {
      return snapshot.all<{ n: number }>(`SELECT count(*) AS n FROM (${table.source})`)[0]?.n ?? 0;
    },
    sequence(table) {
      return snapshot.all<{ seq: number }>(`SELECT seq FROM sqlite_sequence WHERE name = ?`, [table])[0]?.seq ?? 0;
    },
    openedSince() {
      if (!stamp) return false;
      return fs.existsSync(`${file}-wal`) || !sameFile(stamp, fs.statSync(file, { throwIfNoEntry: false }));
    },
    close() {
      snapshot.close();
      if (copy) fs.rmSync(copy.dir, { recursive: true, force: true });
    },
  };
}

/** CONFIG_INVALID when there is no catalogue file: checked before anything else is done. */
export function checkCatalogueFile(file: string): void {
  if (!fs.existsSync(file)) {
    throw new ReferentError(ErrorCode.ConfigInvalid, `There is no catalogue to move: ${file} does not exist. Point REFERENT_DATA_DIR (or --data-dir) at the data folder that holds it.`);
  }
}

/**
 * Copies a closed catalogue into a new temporary folder and checks the file did not change during
 * the copy (a process that opens it writes to its WAL; only a checkpoint changes the file).
 */
function copyClosed(file: string): { dir: string; stat: fs.Stats } {
  removeStaleCopies();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${TEMP_PREFIX}${process.pid}-`));
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = fs.statSync(file);
      fs.copyFileSync(file, path.join(dir, 'catalog.sqlite'), fs.constants.COPYFILE_FICLONE);
      const after = fs.statSync(file);
      if (sameFile(before, after)) return { dir, stat: after };
    }
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new ReferentError(ErrorCode.Conflict, `${file} kept changing while it was being copied: stop the Referent processes that use it, then run again.`);
}

const sameFile = (a: fs.Stats, b: fs.Stats | undefined): boolean => b !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

/** The copies of runs that were killed (their process is gone). */
function removeStaleCopies(): void {
  let names: string[];
  try {
    names = fs.readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(new RegExp(`^${TEMP_PREFIX}(\\d+)-`).exec(name)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The file must hold this Referent's catalogue, every table of which some import entry reads or is derived. */
function checkSchema(snapshot: SqliteSnapshot, file: string): void {
  if (snapshot.schemaVersion === 0) throw new ReferentError(ErrorCode.ConfigInvalid, `${file} is not a Referent catalogue (it has no schema version).`);
  if (snapshot.schemaVersion > SCHEMA_VERSION) {
    throw new ReferentError(ErrorCode.CatalogNewerSchema, `The catalogue ${file} has schema version ${snapshot.schemaVersion}, newer than this Referent (${SCHEMA_VERSION}). Upgrade Referent.`);
  }
  if (snapshot.schemaVersion !== SCHEMA_VERSION) {
    // Only a catalogue in use is read in place: a copy was brought up to date.
    throw new ReferentError(
      ErrorCode.ConfigInvalid,
      `${file} is in use by a Referent of another version (schema v${snapshot.schemaVersion}; this one copies v${SCHEMA_VERSION}): stop it, then run again.`,
    );
  }
  const read = new Set(IMPORT_TABLES.flatMap((t) => t.reads));
  const tables = snapshot.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).map((r) => r.name);
  const unknown = tables.filter((t) => !read.has(t) && !isDerivedSqliteTable(t));
  if (unknown.length > 0) {
    throw new ReferentError(ErrorCode.ConfigInvalid, `${file} has tables this Referent does not know how to copy (${unknown.join(', ')}): upgrade Referent, then run again.`);
  }
}

function fingerprintOf(snapshot: SqliteSnapshot): string {
  const first = snapshot.all<{ id: number; name: string; created_at: number }>(`SELECT id, name, created_at FROM collections ORDER BY id LIMIT 1`)[0];
  return first ? createHash('sha256').update(JSON.stringify([first.id, first.name, first.created_at])).digest('hex').slice(0, 32) : 'empty';
}

/** SQLite's "not a database" (and a file with none of Referent's tables) as one line. */
function notACatalogue(err: unknown, file: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new ReferentError(ErrorCode.ConfigInvalid, `${file} is not a Referent catalogue (SQLite says: ${(err as Error).message}).`, { cause: err });
  }
  return err;
}
