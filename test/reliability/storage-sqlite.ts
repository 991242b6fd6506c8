/**
 * The SQLite catalogue read behind the product's back: a second, read-only connection to the data
 * folder's catalogue file. Every table SQLite lists is read, FTS shadow tables included (where an
 * index keeps terms as bytes); the raw bytes are the database file and its write-ahead log (pages
 * freed but not overwritten), which forgetting must leave clean too (secure-delete).
 */
import Database from 'better-sqlite3';
import { dataPaths } from '../../src/open.js';
import type { AuditRow, Needle, Row, StorageReader } from './storage.js';
import { sweepFiles } from './storage-sweep.js';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export function openSqliteReader(dataDir: string): StorageReader {
  const file = dataPaths(dataDir).catalog;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const count = (sql: string, ...params: unknown[]) => (db.prepare(sql).get(...params) as { n: number }).n;
  return {
    engine: 'sqlite',
    async tables() {
      return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
    },
    async rows(table) {
      try {
        return db.prepare(`SELECT rowid AS "__row", * FROM ${quote(table)}`).all() as Row[];
      } catch {
        // WITHOUT ROWID tables and some virtual tables have no rowid.
        return db.prepare(`SELECT * FROM ${quote(table)}`).all() as Row[];
      }
    },
    async auditSince(id) {
      return db.prepare(`SELECT id, user, platform, scope, collection_id, query FROM audit WHERE id > ? ORDER BY id`).all(id) as AuditRow[];
    },
    async lastAuditId() {
      return count(`SELECT COALESCE(MAX(id), 0) AS n FROM audit`);
    },
    async vectorOwners() {
      return db.prepare(`SELECT owner_kind AS kind, owner_id AS id FROM vectors`).all() as Array<{ kind: string; id: number }>;
    },
    async lexicalHits(word) {
      const hits = [
        ['lexicon (FTS) rows matching it', count(`SELECT COUNT(*) AS n FROM lexicon WHERE lexicon MATCH ?`, `"${word.toLowerCase()}"`)],
        ['ocr_chars (FTS) rows matching it', count(`SELECT COUNT(*) AS n FROM ocr_chars WHERE ocr_chars MATCH ?`, `"${word.toUpperCase()}"`)],
        ['lexicon_terms entries for it', count(`SELECT COUNT(*) AS n FROM lexicon_terms WHERE term = ?`, word.toLowerCase())],
      ] as const;
      return hits.filter(([, n]) => n > 0).map(([what, n]) => `${n} ${what}`);
    },
    async rawTraces(needles: readonly Needle[]) {
      return { lines: sweepFiles([file, `${file}-wal`], needles) };
    },
    async close() {
      db.close();
    },
  };
}
