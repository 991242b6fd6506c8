/**
 * The only file that imports `pg`. Opens a connection pool from a postgres:// URL and gives the rest
 * of catalog/postgres a small query surface (PgDb), with every connection-level failure turned into
 * one ReferentError line that says what to fix. Callers never see a pg type.
 */
import pg from 'pg';
import { ErrorCode, ReferentError } from '../../errors.js';

export type SqlValue = string | number | boolean | null | Date | Buffer;

export interface PgQueryable {
  /**
   * Runs one statement and returns its rows. Without `params` the simple protocol is used, which
   * also runs several `;`-separated statements (migrations); with `params` one statement, bound.
   */
  query<R = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
}

export interface PgDb extends PgQueryable {
  /** Runs fn on one connection between BEGIN and COMMIT; ROLLBACK when it throws. */
  transaction<T>(fn: (tx: PgQueryable) => Promise<T>): Promise<T>;
  /** user@host:port/database, never the password: for messages. */
  readonly where: string;
  close(): Promise<void>;
}

export interface PgPoolOptions {
  /** Connections at most (default 10). */
  max?: number;
  /** How long to wait for a connection before DATABASE_UNAVAILABLE (default 10 s). */
  connectTimeoutMs?: number;
}

const URL_SHAPE = 'postgres://user:password@host:5432/database';

/** bigint (int8) columns come back as numbers: every id and count fits in 2^53, and one that does not is an error, not a silent rounding. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`PostgreSQL returned ${text}, beyond JavaScript's exact integers`);
  return n;
}
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)) as typeof pg.types.getTypeParser,
};

/** The parts of the URL that help a reader find the server, without the password. */
function describe(url: URL): string {
  const user = decodeURIComponent(url.username) || 'postgres';
  return `${user}@${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname || '/'}`;
}

export function openPgDb(connectionString: string, options: PgPoolOptions = {}): PgDb {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    // The URL may hold a password: it is not repeated here.
    throw new ReferentError(ErrorCode.ConfigInvalid, `The database URL is not a PostgreSQL URL: write it as ${URL_SHAPE}.`);
  }
  const where = describe(url);
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types,
  });
  // A server that goes away while a connection idles errors that connection; without a listener
  // that would crash the process. The next query reports it (see asDatabaseError).
  pool.on('error', () => {});

  const run = async <R>(on: pg.Pool | pg.PoolClient, sql: string, params?: readonly SqlValue[]): Promise<R[]> => {
    try {
      const result = await on.query(sql, params as unknown[] | undefined);
      // A multi-statement simple query answers with one result per statement: the last one counts.
      const last = Array.isArray(result) ? (result.at(-1) as pg.QueryResult | undefined) : result;
      return (last?.rows ?? []) as R[];
    } catch (err) {
      throw asDatabaseError(err, where);
    }
  };

  return {
    where,
    query: (sql, params) => run(pool, sql, params),
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw asDatabaseError(err, where);
      }
      let broken: unknown;
      // Between statements a checked-out connection has no query to fail: a server that goes away
      // then would raise an unhandled 'error'. The next statement reports it instead.
      const ignore = () => {};
      client.on('error', ignore);
      try {
        await run(client, 'BEGIN');
        const value = await fn({ query: (sql, params) => run(client, sql, params) });
        await run(client, 'COMMIT');
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: unknown) => (broken = rollbackErr));
        throw err;
      } finally {
        // A connection that could not roll back is in an unknown state: it is closed, not reused.
        client.off('error', ignore);
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    close: () => pool.end(),
  };
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const LOST = new Set(['ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03']);

/**
 * Connection-level failures become DATABASE_UNAVAILABLE with one line naming the fix; anything else
 * (a constraint, a syntax error) is returned as it is for the caller to judge.
 */
export function asDatabaseError(err: unknown, where: string): unknown {
  if (err instanceof ReferentError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const fail = (text: string) => new ReferentError(ErrorCode.DatabaseUnavailable, text, { cause: err, details: { where, code } });
  if (typeof code === 'string' && UNREACHABLE.has(code)) {
    return fail(`Cannot reach PostgreSQL at ${where} (${code}): start the server, or fix the host and port in the database URL.`);
  }
  if (code === '28P01' || code === '28000') {
    return fail(`PostgreSQL at ${where} refused the login: fix the user and password in the database URL.`);
  }
  if (code === '3D000') {
    return fail(`PostgreSQL at ${where} has no such database: create it, or fix the database name in the URL.`);
  }
  if (/connection timeout/i.test(message)) {
    return fail(`Cannot reach PostgreSQL at ${where} (no answer in time): start the server, or fix the host and port in the database URL.`);
  }
  if ((typeof code === 'string' && LOST.has(code)) || /connection terminated/i.test(message)) {
    return fail(`Lost the connection to PostgreSQL at ${where}: check that the server is running, then retry.`);
  }
  return err;
}

/** A Postgres error's SQLSTATE, for callers that map a constraint to a ReferentError. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
