/**
 * PostgreSQL for tests, reached the way production reaches it: through `pg` over the wire protocol.
 *
 * - PGlite 0.4.6 (Postgres 17.5 in WebAssembly, the last release with pgvector) served by the
 *   matching @electric-sql/pglite-socket on 127.0.0.1, an ephemeral port: always, so `npm test`
 *   needs no server.
 * - The real server in REFERENT_TEST_DATABASE_URL (CI starts one with ../shared/postgres/up.sh),
 *   when set.
 *
 * Each test works in a schema of its own (freshSchema) that is dropped after it, so runs never see
 * each other's rows, on either engine.
 */
import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite/vector';
import { openPgDb } from '../../src/catalog/postgres/pg-pool.js';

export const TEST_DATABASE_URL_ENV = 'REFERENT_TEST_DATABASE_URL';

export interface PgServer {
  url: string;
  stop(): Promise<void>;
}

export interface PgEngine extends PgServer {
  name: string;
  /** URLs that must fail with DATABASE_UNAVAILABLE: a closed port always, and what this server refuses. */
  refused: Array<{ what: string; url: string }>;
  /** A server of the same kind without pgvector, where one can be had (undefined for a real server). */
  withoutVector?: () => Promise<PgServer>;
}

/** PGlite behind its socket server. `vector: false` leaves pgvector out, as on a server without it. */
export async function startPglite(options: { vector?: boolean } = {}): Promise<PgServer> {
  const db = await PGlite.create({ extensions: options.vector === false ? { pg_trgm } : { vector, pg_trgm } });
  // Several connections: a pg Pool, and two "processes" migrating at once. PGlite runs one statement
  // at a time and keeps a transaction's statements together (the socket server's query queue).
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 32 });
  await server.start();
  const port = Number(server.getServerConn().split(':').at(-1));
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/**
 * PGlite whose socket server can be taken away and brought back on the same port with the same data:
 * a database server that goes away under a running Referent, then returns.
 */
export async function startPgliteOutage(): Promise<PgServer & { down(): Promise<void>; up(): Promise<void> }> {
  const db = await PGlite.create({ extensions: { vector, pg_trgm } });
  let server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 32 });
  await server.start();
  const port = Number(server.getServerConn().split(':').at(-1));
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async down() {
      if (!running) return;
      await server.stop();
      running = false;
    },
    async up() {
      if (running) return;
      server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 32 });
      await server.start();
      running = true;
    },
    async stop() {
      if (running) await server.stop();
      await db.close();
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const closedPortUrl = async () => ({ what: 'a closed port', url: `postgres://postgres:secret-pw@127.0.0.1:${await closedPort()}/referent` });

/** The engines the Postgres suites run against: PGlite always, the real server when the variable is set. */
export function postgresEngines(): Array<{ name: string; start(): Promise<PgEngine> }> {
  const engines = [
    {
      name: 'pglite',
      async start(): Promise<PgEngine> {
        const server = await startPglite();
        // PGlite accepts any user, password and database name: only a refused connection can be tried.
        return { ...server, name: 'pglite', refused: [await closedPortUrl()], withoutVector: () => startPglite({ vector: false }) };
      },
    },
  ];
  const real = process.env[TEST_DATABASE_URL_ENV];
  if (real) {
    engines.push({
      name: 'postgres',
      async start(): Promise<PgEngine> {
        const withDb = (name: string) => Object.assign(new URL(real), { pathname: `/${name}` }).href;
        const asUser = (user: string) => Object.assign(new URL(real), { username: user, password: 'wrong-pw' }).href;
        return {
          name: 'postgres',
          url: real,
          stop: async () => {},
          refused: [await closedPortUrl(), { what: 'an unknown database', url: withDb(freshSchema('nodb')) }, { what: 'an unknown user', url: asUser(freshSchema('nouser')) }],
        };
      },
    });
  }
  return engines;
}

let counter = 0;
/** A schema name no other run uses: pid, time and a counter. */
export function freshSchema(prefix = 'referent_test'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
}

/** Drops a test's schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const db = openPgDb(url, { max: 1 });
  try {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await db.close();
  }
}
