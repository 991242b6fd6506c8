/**
 * The access-and-audit slice on every engine: the same contract against SQLite, PGlite (always) and a
 * real PostgreSQL (when REFERENT_TEST_DATABASE_URL is set), then what only the Postgres side has:
 * migrations under an advisory lock, and one-line errors for a server that cannot be used.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PgAccessStore } from '../../src/catalog/postgres/pg-access-store.js';
import { appliedVersions, migratePg, PG_SCHEMA_VERSION } from '../../src/catalog/postgres/pg-migrations.js';
import { openPgDb, type PgDb } from '../../src/catalog/postgres/pg-pool.js';
import { sqliteAccessStore } from '../../src/catalog/roles/sqlite-access-store.js';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { ErrorCode, type ReferentError } from '../../src/errors.js';
import { accessStoreContract } from './access-store.contract.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines, startPglite } from '../support/postgres.js';

accessStoreContract('sqlite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-access-'));
  const catalog = SqliteCatalog.open(path.join(dir, 'catalog.sqlite'));
  return {
    store: sqliteAccessStore(catalog),
    async close() {
      catalog.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

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

for (const engine of postgresEngines()) {
  describe(`PostgreSQL engine: ${engine.name}`, () => {
    let server: PgEngine;
    beforeAll(async () => {
      server = await engine.start();
    });
    afterAll(async () => {
      await server?.stop();
    });

    accessStoreContract(engine.name, async () => {
      const schema = freshSchema();
      const db = openPgDb(server.url);
      await migratePg(db, schema);
      return {
        store: new PgAccessStore(db, schema),
        async close() {
          await db.close();
          await dropSchema(server.url, schema);
        },
      };
    });

    describe('migrations', () => {
      const schema = freshSchema();
      const open: PgDb[] = [];
      const connect = () => {
        const db = openPgDb(server.url);
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
        const made = await new PgAccessStore(a, schema).ensureCollection('parts', 'part');
        expect(await new PgAccessStore(b, schema).findCollection('parts')).toEqual(made);
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
