/**
 * The catalogue engines the reliability suite's leak probes and kill -9 faults run on. A run starts
 * one, points every Referent it opens and every process it spawns at it (`env`), reads its storage
 * through `reader`, and stops it: SQLite in the data folder; PostgreSQL in a schema of its own, made
 * fresh for the run and dropped afterwards, on PGlite (always, in `npm test`), the server of
 * REFERENT_TEST_DATABASE_URL, or any URL given (`npm run reliability -- --engine postgres`).
 */
import { dropSchema, freshSchema, type PgServer, postgresEngines } from '../support/postgres.js';
import type { StorageReader } from './storage.js';
import { openPgReader } from './storage-postgres.js';
import { openSqliteReader } from './storage-sqlite.js';

export interface SuiteEngine {
  /** "sqlite", "pglite", "postgres": how results name it. */
  name: string;
  /** Settings for every Referent of the run, in-process or a child: none for SQLite; the database URL and the run's schema for PostgreSQL. */
  env: Record<string, string>;
  /** A reader of the catalogue of the run (SQLite: the one in `dataDir`). */
  reader(dataDir: string): Promise<StorageReader>;
  /** Drops what the run made in the database and stops a server it started. */
  stop(): Promise<void>;
}

export interface EngineKind {
  name: string;
  start(): Promise<SuiteEngine>;
}

export const sqliteEngine: EngineKind = {
  name: 'sqlite',
  async start() {
    return { name: 'sqlite', env: {}, reader: async (dataDir) => openSqliteReader(dataDir), stop: async () => {} };
  },
};

/** PostgreSQL on a server `start` gives (its `stop` is called at the end), in a fresh schema. */
export function postgresEngine(name: string, start: () => Promise<PgServer>): EngineKind {
  return {
    name,
    async start() {
      const server = await start();
      const schema = freshSchema('referent_rel');
      return {
        name,
        env: { REFERENT_DATABASE_URL: server.url, REFERENT_DATABASE_SCHEMA: schema },
        reader: async () => openPgReader(name, server.url, schema),
        async stop() {
          try {
            await dropSchema(server.url, schema);
          } finally {
            await server.stop();
          }
        },
      };
    },
  };
}

/** A PostgreSQL server someone else runs, at `url`. */
export const postgresAt = (url: string, name = 'postgres'): EngineKind => postgresEngine(name, async () => ({ url, stop: async () => {} }));

/** What `npm test` runs the suite on: SQLite, PGlite, and the real server when REFERENT_TEST_DATABASE_URL is set. */
export function testEngines(): EngineKind[] {
  return [sqliteEngine, ...postgresEngines().map((e) => postgresEngine(e.name, () => e.start()))];
}
