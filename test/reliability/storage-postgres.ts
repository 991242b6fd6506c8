/**
 * The PostgreSQL catalogue read behind the product's back: a pool of its own on the run's schema.
 * Every base table of the schema is read whole, each row as JSON (to_jsonb: every column, whatever
 * its type — tsvector lexemes, jsonb OCR lines, pgvector vectors — as text), so a table or column
 * added later is read too.
 *
 * Raw bytes. PostgreSQL keeps a row's old versions (an UPDATE scrubbing it, a DELETE) in the table's
 * pages until VACUUM, and a plain VACUUM, which autovacuum runs, marks their space free without
 * overwriting it: measured on PostgreSQL 15 and PGlite (17), a forgotten description was still in the
 * bytes of `texts`, `phrases` and the GIN index on `texts.lexeme` after VACUUM, and in none after
 * VACUUM FULL, which rewrites each table and its indexes into new files. No query returns a dead
 * version, so the promise checked on every run is about live rows (sweepStorage); `rawTraces` checks
 * what an operator who must erase gets: after VACUUM FULL of the schema's tables and a CHECKPOINT,
 * no page of any of its tables, TOAST tables or indexes (read with pg_read_binary_file) holds the
 * needle. The server's write-ahead log, its archive and replicas are outside the schema and keep
 * what they were sent until they are recycled; no client can check them.
 */
import { openPgDb, sqlState } from '../../src/catalog/postgres/pg-pool.js';
import type { AuditRow, Needle, Row, StorageReader } from './storage.js';
import { offsetIn } from './storage-sweep.js';

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Every relation with pages that belongs to the schema: its tables and indexes, their TOAST tables and those tables' indexes. */
const RELATIONS = `
  WITH own AS (SELECT c.oid, c.reltoastrelid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1),
  rels AS (
    SELECT oid FROM own
    UNION SELECT reltoastrelid FROM own WHERE reltoastrelid <> 0
    UNION SELECT i.indexrelid FROM pg_index i JOIN own ON i.indrelid = own.reltoastrelid
  )
  SELECT c.relname AS name, pg_relation_filepath(c.oid) AS file FROM pg_class c JOIN rels ON rels.oid = c.oid
  WHERE c.relkind IN ('r', 'i', 't', 'm') ORDER BY 1`;

export function openPgReader(engine: string, url: string, schema: string): StorageReader {
  const db = openPgDb(url, { max: 1 });
  const s = ident(schema);
  const tables = async () =>
    (await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1`, [schema])).map((t) => t.name);
  return {
    engine,
    tables,
    async rows(table) {
      return (await db.query<{ r: Row }>(`SELECT to_jsonb(t) AS r FROM ${s}.${ident(table)} t`)).map((x) => x.r);
    },
    async auditSince(id) {
      return db.query<AuditRow>(`SELECT id, actor AS "user", platform, scope, collection_id, query FROM ${s}.audit WHERE id > $1 ORDER BY id`, [id]);
    },
    async lastAuditId() {
      const [row] = await db.query<{ n: number }>(`SELECT COALESCE(MAX(id), 0)::bigint AS n FROM ${s}.audit`);
      return row?.n ?? 0;
    },
    async vectorOwners() {
      return db.query<{ kind: string; id: number }>(`SELECT 'item' AS kind, item_id AS id FROM ${s}.item_vectors UNION ALL SELECT owner_kind, owner_id FROM ${s}.text_vectors`);
    },
    async lexicalHits(word) {
      const count = async (sql: string, param: string) => (await db.query<{ n: number }>(sql, [param]))[0]?.n ?? 0;
      const hits = [
        ['texts whose lexemes match it', await count(`SELECT COUNT(*)::bigint AS n FROM ${s}.texts WHERE lexeme @@ plainto_tsquery('simple', $1)`, word.toLowerCase())],
        ['OCR readings whose lexemes match it', await count(`SELECT COUNT(*)::bigint AS n FROM ${s}.item_ocr WHERE lexeme @@ plainto_tsquery('simple', $1)`, word.toLowerCase())],
        ['OCR readings whose characters hold it (trigram index)', await count(`SELECT COUNT(*)::bigint AS n FROM ${s}.item_ocr WHERE chars LIKE '%' || $1 || '%'`, word.toUpperCase())],
      ] as const;
      return hits.filter(([, n]) => n > 0).map(([what, n]) => `${n} ${what}`);
    },
    async rawTraces(needles: readonly Needle[]) {
      try {
        for (const table of await tables()) await db.query(`VACUUM FULL ${s}.${ident(table)}`);
        await db.query('CHECKPOINT');
        const lines: string[] = [];
        for (const { name, file } of await db.query<{ name: string; file: string | null }>(RELATIONS, [schema])) {
          if (!file) continue;
          const [page] = await db.query<{ bytes: Buffer }>(`SELECT pg_read_binary_file($1) AS bytes`, [file]);
          for (const n of needles) {
            const at = offsetIn(page!.bytes, n);
            if (at >= 0) lines.push(`${name} (${file}) still holds the ${n.what} in its pages after VACUUM FULL (offset ${at})`);
          }
        }
        return { lines };
      } catch (err) {
        // 42501: VACUUM FULL needs the tables' owner; CHECKPOINT and reading the server's files a superuser (or pg_checkpoint and pg_read_server_files).
        if (sqlState(err) === '42501') return { lines: [], unread: `this user may not checkpoint or read the server's files: ${err instanceof Error ? err.message : String(err)}` };
        throw err;
      }
    },
    close: () => db.close(),
  };
}
