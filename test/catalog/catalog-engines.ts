/**
 * The engines every catalogue contract runs against, behind one fixture shape: a fresh, empty
 * Catalog per test, a second Catalog on the same data (as another Referent process opens it), and
 * a close that closes both and drops the data.
 *
 * - SQLite: asyncCatalog over SqliteCatalog.open in a temporary folder.
 * - PostgreSQL, for each of postgresEngines() (PGlite always, the real server when
 *   REFERENT_TEST_DATABASE_URL is set): PgCatalog.open on a schema of its own per test, dropped after.
 *
 * The contracts take nothing else: no engine names a branch in them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { asyncCatalog } from '../../src/catalog/async-catalog.js';
import type { Catalog } from '../../src/catalog/catalog.js';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';

export interface CatalogFixture {
  /** A fresh, empty catalogue. */
  catalog: Catalog;
  /** Another catalogue on the same data, with connections of its own (another process). Closed by close(). */
  another(): Promise<Catalog>;
  /** Closes every catalogue opened here and drops the data. */
  close(): Promise<void>;
}

export type OpenCatalog = () => Promise<CatalogFixture>;

export interface CatalogEngine {
  name: string;
  /** Called inside a describe: registers the engine's own hooks (starting a server) and returns the factory. */
  setup(): OpenCatalog;
}

const sqlite: CatalogEngine = {
  name: 'sqlite',
  setup: () => async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-contract-'));
    const file = path.join(dir, 'catalog.sqlite');
    const opened = [SqliteCatalog.open(file)];
    return {
      catalog: asyncCatalog(opened[0]!),
      async another() {
        const other = SqliteCatalog.open(file);
        opened.push(other);
        return asyncCatalog(other);
      },
      async close() {
        for (const c of opened) c.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

function postgres(engine: ReturnType<typeof postgresEngines>[number]): CatalogEngine {
  return {
    name: engine.name,
    setup() {
      let server: PgEngine | undefined;
      beforeAll(async () => {
        server = await engine.start();
      });
      afterAll(async () => {
        await server?.stop();
      });
      return async () => {
        // Imported here, so the SQLite runs of a file do not depend on the Postgres engine loading.
        const { PgCatalog } = await import('../../src/catalog/postgres/pg-catalog.js');
        const url = server!.url;
        const schema = freshSchema();
        const opened: Catalog[] = [];
        const open = async () => {
          const c: Catalog = await PgCatalog.open(url, { schema });
          opened.push(c);
          return c;
        };
        const close = async () => {
          await Promise.allSettled(opened.map((c) => c.close()));
          await dropSchema(url, schema);
        };
        try {
          return { catalog: await open(), another: open, close };
        } catch (err) {
          await close();
          throw err;
        }
      };
    },
  };
}

export function catalogEngines(): CatalogEngine[] {
  return [sqlite, ...postgresEngines().map(postgres)];
}

/**
 * Runs a contract on every engine, in a describe per engine that opens a fresh fixture before each
 * test and closes it after; the contract's tests reach the running test's fixture through `fixture()`.
 */
export function onEveryEngine(role: string, contract: (fixture: () => CatalogFixture) => void): void {
  for (const engine of catalogEngines()) {
    describe(`${role} contract: ${engine.name}`, () => {
      const open = engine.setup();
      let fixture: CatalogFixture | undefined;
      beforeEach(async () => {
        fixture = await open();
      });
      afterEach(async () => {
        await fixture?.close();
        fixture = undefined;
      });
      contract(() => {
        if (!fixture) throw new Error('no catalogue: the fixture did not open');
        return fixture;
      });
    });
  }
}
