/**
 * What only the PostgreSQL engine has, below the catalogue contracts (which run on every engine, see
 * catalog-engines.ts): migrations under an advisory lock, one-line errors for a server that cannot be
 * used, the pg_trgm index on OCR text, and why label keys are written by the engine rather than
 * computed in SQL. On PGlite always, and on the real server when REFERENT_TEST_DATABASE_URL is set.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appliedVersions, migratePg, PG_SCHEMA_VERSION } from '../../src/catalog/postgres/pg-migrations.js';
import { openPgDb, type PgDb } from '../../src/catalog/postgres/pg-pool.js';
import { ErrorCode, type ReferentError } from '../../src/errors.js';
import { labelKey } from '../../src/ocr/identifiers.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines, startPglite } from '../support/postgres.js';

/** Rejects with a ReferentError of this code whose message is one line and keeps the password out. */
async function expectOneLine(promise: Promise<unknown>, code: string): Promise<ReferentError> {
  const err = (await promise.then(
    () => expect.fail(`expected ${code}`),
    (e: unknown) => e,
  )) as ReferentError;
  expect(err).toMatchObject({ code });
  expect(err.message).not.toMatch(/\n/);
  expect(err.message).not.toMatch(/secret-pw|wrong-pw/);
  return err;
}

/** Labels people give entities: ASCII part numbers with the usual separators, and names. */
const LABELS = ['P-20417', 'p 20417', 'PCB_1001/A', 'M8.5-x', 'X9 -220B', 'Zoë Ng', 'José Álvarez', 'Øyvind Ås', 'Straße 7', 'L0T 12', 'M10×40', 'ﬁle-Ⅸ'];

for (const engine of postgresEngines()) {
  describe(`PostgreSQL engine: ${engine.name}`, () => {
    let server: PgEngine;
    beforeAll(async () => {
      server = await engine.start();
    });
    afterAll(async () => {
      await server?.stop();
    });

    describe('migrations', () => {
      const schema = freshSchema();
      const open: PgDb[] = [];
      const connect = (options: { max?: number } = {}) => {
        const db = openPgDb(server.url, options);
        open.push(db);
        return db;
      };
      afterEach(async () => {
        await Promise.all(open.splice(0).map((db) => db.close()));
        await dropSchema(server.url, schema);
      });

      it('creates the schema and records each version once; a second start changes nothing', async () => {
        const db = connect();
        expect(await migratePg(db, schema)).toBe(PG_SCHEMA_VERSION);
        expect(await migratePg(db, schema)).toBe(PG_SCHEMA_VERSION);
        expect(await appliedVersions(db, schema)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
        const [ext] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'vector'`);
        expect(ext?.n).toBe(1);
      });

      it('lets two processes migrate at once: both succeed, each version is applied once', async () => {
        const [a, b] = [connect(), connect()];
        const results = await Promise.all([migratePg(a, schema), migratePg(b, schema), migratePg(a, schema)]);
        expect(results).toEqual([PG_SCHEMA_VERSION, PG_SCHEMA_VERSION, PG_SCHEMA_VERSION]);
        expect(await appliedVersions(b, schema)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
        // The schema works from either connection.
        await a.query(`INSERT INTO "${schema}".collections (name, kind, enabled) VALUES ('parts', 'part', true)`);
        expect(await b.query(`SELECT name, kind FROM "${schema}".collections`)).toEqual([{ name: 'parts', kind: 'part' }]);
      });

      it('refuses a schema that a newer Referent migrated', async () => {
        const db = connect();
        await migratePg(db, schema);
        await db.query(`INSERT INTO "${schema}".schema_version (version) VALUES (${PG_SCHEMA_VERSION + 1})`);
        await expectOneLine(migratePg(db, schema), ErrorCode.CatalogNewerSchema);
      });

      it('refuses a schema name that would need escaping', async () => {
        await expect(migratePg(connect(), 'Bad-Name; DROP')).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
      });

      it('searches run-together OCR text through the pg_trgm index', async () => {
        const db = connect({ max: 1 });
        await migratePg(db, schema);
        const [ext] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_trgm'`);
        expect(ext!.n).toBe(1);
        // An empty table is scanned whatever the index: only the planner's choice with scans off is tested.
        await db.query('SET enable_seqscan = off');
        const rows = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT item_id FROM "${schema}".item_ocr WHERE chars LIKE '%P31552%'`);
        expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/item_ocr_chars_trgm/);
      });
    });

    it('has no SQL expression that agrees with labelKey beyond ASCII part numbers (so the engine writes the keys)', async () => {
      const db = openPgDb(server.url, { max: 1 });
      try {
        const [row] = await db.query<{ keys: string[] }>(
          `SELECT ARRAY(SELECT upper(regexp_replace(normalize(l, NFKC), '[^[:alnum:]]', '', 'g')) FROM unnest($1::text[]) WITH ORDINALITY AS t(l, n) ORDER BY n) AS keys`,
          [`{${LABELS.map((l) => `"${l}"`).join(',')}}`],
        );
        const disagree = LABELS.filter((l, i) => row!.keys[i] !== labelKey(l));
        expect(disagree.filter((l) => /^[\x20-\x7e]*$/.test(l) && l !== 'L0T 12')).toEqual([]);
        expect(disagree).toEqual(expect.arrayContaining(['Straße 7', 'L0T 12', 'M10×40']));
      } finally {
        await db.close();
      }
    });

    describe('errors', () => {
      it('says in one line that a server without pgvector needs it', async (ctx) => {
        if (!server.withoutVector) return ctx.skip(`no ${engine.name} server without pgvector to try`);
        const bare = await server.withoutVector();
        const db = openPgDb(bare.url);
        try {
          const err = await expectOneLine(migratePg(db, freshSchema()), ErrorCode.DatabaseUnsupported);
          expect(err.message).toMatch(/pgvector/);
          // Nothing was left half-made: the failed start rolled back.
          expect(await db.query(`SELECT 1 FROM pg_namespace WHERE nspname LIKE 'referent_test%'`)).toEqual([]);
        } finally {
          await db.close();
          await bare.stop();
        }
      });

      it('says in one line what to fix when the server refuses or is not there', async () => {
        for (const { what, url } of server.refused) {
          const db = openPgDb(url, { max: 1 });
          try {
            const err = await expectOneLine(migratePg(db, freshSchema()), ErrorCode.DatabaseUnavailable);
            expect(err.message, what).toMatch(/PostgreSQL at \S+@127\.0\.0\.1:\d+\//);
          } finally {
            await db.close();
          }
        }
      });
    });
  });
}

describe('PostgreSQL connection errors', () => {
  it('refuses a URL that is not a PostgreSQL URL with CONFIG_INVALID, without echoing it', () => {
    for (const url of ['', 'not a url', 'mysql://root:secret-pw@127.0.0.1/db', '127.0.0.1:5432']) {
      let caught: unknown;
      try {
        openPgDb(url);
      } catch (err) {
        caught = err;
      }
      expect(caught, url).toMatchObject({ code: ErrorCode.ConfigInvalid });
      expect((caught as Error).message).not.toMatch(/secret-pw/);
    }
  });

  it('reports a server that went away as DATABASE_UNAVAILABLE, in one line', async () => {
    const first = await startPglite({ vector: false });
    const db = openPgDb(first.url, { max: 1 });
    try {
      expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await first.stop();
      await expectOneLine(db.query('SELECT 1'), ErrorCode.DatabaseUnavailable);
      await expectOneLine(
        db.transaction((tx) => tx.query('SELECT 1')),
        ErrorCode.DatabaseUnavailable,
      );
    } finally {
      await db.close();
    }
  });
});
