/**
 * Looking for a string everywhere the catalogue could keep it: every column of every table SQLite
 * lists (FTS shadow tables included, where an index keeps terms as bytes), and the database file and
 * its write-ahead log as raw bytes (pages freed but not overwritten).
 */
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';

export interface Needle {
  what: string;
  needle: string;
  /** Rows that may hold it (the same bytes kept by a photo that is still live). */
  allow?: (table: string, row: Record<string, unknown>) => boolean;
}

/** The forms a string is stored in: as written, lower case (FTS terms), and, for a sha256, its 32 raw bytes. */
function forms(needle: string): Buffer[] {
  const out = new Set([needle, needle.toLowerCase(), needle.toUpperCase()]);
  const bytes = [...out].map((s) => Buffer.from(s, 'utf8'));
  if (/^[0-9a-f]{64}$/.test(needle)) bytes.push(Buffer.from(needle, 'hex'));
  return bytes;
}

const holds = (value: unknown, needle: Needle, bytes: readonly Buffer[]): boolean => {
  if (typeof value === 'string') return value.toLowerCase().includes(needle.needle.toLowerCase());
  if (Buffer.isBuffer(value)) return bytes.some((b) => value.includes(b));
  return false;
};

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Every table and column holding a needle, one line per table, column and needle, naming the rows. */
export function sweepCatalogue(db: Database.Database, needles: readonly Needle[]): Array<{ what: string; line: string }> {
  const out: Array<{ what: string; line: string }> = [];
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
  const prepared = needles.map((n) => ({ ...n, bytes: forms(n.needle) }));
  for (const table of tables) {
    const columns = (db.pragma(`table_info(${quote(table)})`) as Array<{ name: string }>).map((c) => c.name);
    if (columns.length === 0) continue;
    let rows: Array<Record<string, unknown>>;
    try {
      rows = db.prepare(`SELECT rowid AS "__row", ${columns.map(quote).join(', ')} FROM ${quote(table)}`).all() as Array<Record<string, unknown>>;
    } catch {
      // WITHOUT ROWID tables and some virtual tables have no rowid.
      rows = db.prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)}`).all() as Array<Record<string, unknown>>;
    }
    for (const n of prepared) {
      for (const column of columns) {
        const hits = rows.filter((row) => holds(row[column], n, n.bytes) && !n.allow?.(table, row));
        if (hits.length === 0) continue;
        const which = hits.slice(0, 5).map((r, i) => (r.__row !== undefined ? `rowid ${String(r.__row)}` : `row ${i + 1}`));
        out.push({ what: n.what, line: `${table}.${column} still holds the ${n.what} (${hits.length} row${hits.length === 1 ? '' : 's'}: ${which.join(', ')}${hits.length > 5 ? ', …' : ''})` });
      }
    }
  }
  return out;
}

/** Files whose raw bytes still hold a needle, one line per file and needle. */
export function sweepFiles(files: readonly string[], needles: readonly Needle[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const data = fs.readFileSync(file);
    for (const n of needles) {
      const at = forms(n.needle).map((b) => data.indexOf(b)).filter((i) => i >= 0);
      if (at.length) out.push(`${path.basename(file)} still holds the ${n.what} in its bytes (offset ${Math.min(...at)})`);
    }
  }
  return out;
}
