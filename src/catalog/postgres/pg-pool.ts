/**
 * The only file that imports `pg`. Opens a connection pool from a postgres:// URL and gives the rest
 * of catalog/postgres a small query surface (PgDb), with every connection-level failure turned into
 * one ReferentError line that says what to fix, and a dedicated LISTEN connection that comes back by
 * itself after the server went away (PgDb.listen). Callers never see a pg type.
 */
import pg from 'pg';
import { ErrorCode, ReferentError } from '../../errors.js';

export type SqlScalar = string | number | boolean | null | Date | Buffer;
/** Arrays are written as PostgreSQL array literals, every element quoted: use them as `$n::bigint[]`, `$n::text[]`. */
export type SqlValue = SqlScalar | readonly SqlScalar[];

export interface PgQueryable {
  /**
   * Runs the SQL and returns the rows of its (last) statement. `$1`… stand for `params`, typed by
   * their context as bound parameters are (see inlineParams); several `;`-separated statements may
   * run in one call (migrations).
   */
  query<R = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
}

export interface PgDb extends PgQueryable {
  /** Runs fn on one connection between BEGIN and COMMIT; ROLLBACK when it throws. */
  transaction<T>(fn: (tx: PgQueryable) => Promise<T>): Promise<T>;
  /**
   * Runs fn with one connection of the pool to itself, each statement in its own transaction as
   * `query` runs them: every statement fn sends reaches the same server session (read replicas:
   * the replay position checked is the server's that answers the reads, pg-replica.ts).
   */
  session<T>(fn: (conn: PgQueryable) => Promise<T>): Promise<T>;
  /**
   * LISTENs on `channel` on a connection of its own (not one of the pool's), and LISTENs again on a
   * fresh one whenever it is lost (the server restarted, the network dropped it), retrying with a
   * growing pause until `close`. Notifications sent while no connection listened are lost: `events`
   * says when that may have happened (onDown) and when listening resumed (onUp). Starts down.
   */
  listen(channel: string, events: PgListenEvents): PgListener;
  /** user@host:port/database, never the password: for messages. */
  readonly where: string;
  /** Closes the pool and every listener. */
  close(): Promise<void>;
}

export interface PgListenEvents {
  /** A notification on the channel arrived (delivered after the sending transaction committed). */
  onNotify(payload: string): void;
  /** LISTEN took effect on a new connection: from now on notifications arrive. */
  onUp?(): void;
  /** The listening connection was lost: notifications may be missed until the next onUp. */
  onDown?(): void;
}

export interface PgListener {
  /** True between onUp and the next onDown. */
  readonly up: boolean;
  /**
   * One round trip on the listening connection. A server sends a listener the notifications of
   * transactions that committed before this reached it ahead of this answer, so those have been
   * handed to onNotify when it resolves. DATABASE_UNAVAILABLE while not up.
   */
  ping(): Promise<void>;
  /** Stops listening and closes the connection; no event is called afterwards. */
  close(): Promise<void>;
}

export interface PgPoolOptions {
  /** Connections at most (default 10). */
  max?: number;
  /** How long to wait for a connection before DATABASE_UNAVAILABLE (default 10 s). */
  connectTimeoutMs?: number;
  /** What the URL is, for the message when it is not PostgreSQL's (default "The database URL"). */
  urlName?: string;
}

const URL_SHAPE = 'postgres://user:password@host:5432/database';

/** Pauses between attempts to listen again: from the first to the last, doubling. */
const RELISTEN_FIRST_MS = 100;
const RELISTEN_MAX_MS = 5_000;

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
    throw new ReferentError(ErrorCode.ConfigInvalid, `${options.urlName ?? 'The database URL'} is not a PostgreSQL URL: write it as ${URL_SHAPE}.`);
  }
  const where = describe(url);
  const pool = new pg.Pool({
    connectionString,
    // Names Referent's sessions in pg_stat_activity, unless the URL names them itself.
    ...(url.searchParams.has('application_name') ? {} : { application_name: 'referent' }),
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types,
  });
  // A server that goes away while a connection idles errors that connection; without a listener
  // that would crash the process. The next query reports it (see asDatabaseError).
  pool.on('error', () => {});

  const listeners = new Set<PgListener>();
  const run = async <R>(on: pg.Pool | pg.PoolClient, sql: string, params?: readonly SqlValue[]): Promise<R[]> => {
    try {
      const result = await on.query(params && params.length > 0 ? inlineParams(sql, params) : sql);
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
    async session(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw asDatabaseError(err, where);
      }
      let lost: unknown;
      const onError = (err: unknown) => (lost = err);
      client.on('error', onError);
      try {
        return await fn({
          query: async <R,>(sql: string, params?: readonly SqlValue[]) => {
            try {
              return await run<R>(client, sql, params);
            } catch (err) {
              if (err instanceof ReferentError && err.code === ErrorCode.DatabaseUnavailable) lost = err;
              throw err;
            }
          },
        });
      } finally {
        // A connection that was lost is closed, not handed to the next caller.
        client.off('error', onError);
        client.release(lost === undefined ? undefined : lost instanceof Error ? lost : new Error(String(lost)));
      }
    },
    listen(channel, events) {
      const listener = openListener(connectionString, options.connectTimeoutMs ?? 10_000, channel, events, () => listeners.delete(listener));
      listeners.add(listener);
      return listener;
    },
    async close() {
      await Promise.all([...listeners].map((l) => l.close()));
      await pool.end();
    },
  };
}

/*
 * Every statement goes to the server as one simple-protocol Query message, its parameters written
 * into the text as quoted literals. Why: the embedded server the tests run (PGlite behind
 * pglite-socket 0.1.6) queues wire messages, not statements, for its one backend; the extended
 * protocol's Parse, Bind, Execute and Sync of concurrent connections then interleave there, and a
 * Query from another connection in between drops the unnamed statement ("unnamed prepared
 * statement does not exist"), after which the client waits forever. A single message cannot be cut
 * in two. On a real server nothing changes that matters: a simple query is one round trip, parsed
 * and planned like an unnamed extended one, and a quoted literal is typed by its context exactly as
 * an untyped bound parameter is (pg sends every parameter as untyped text): `$1::bigint[]`,
 * `LIMIT $2`, `= $3` resolve the same.
 */

/** `$1`… in `sql` (outside quoted strings, quoted identifiers, dollar-quoted bodies and comments) replaced by the parameters as literals. */
export function inlineParams(sql: string, params: readonly SqlValue[]): string {
  const word = /[A-Za-z0-9_$]/;
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1] ?? '';
    const inWord = i > 0 && word.test(sql[i - 1]!);
    let end = i + 1;
    if (c === "'" || c === '"') {
      // A quoted string or identifier, doubled quotes included; in E'…', backslash escapes too.
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !word.test(sql[i - 2] ?? '');
      while (end < sql.length && sql[end] !== c) end += escapes && sql[end] === '\\' ? 2 : 1;
      while (sql[end + 1] === c) {
        end += 2;
        while (end < sql.length && sql[end] !== c) end += escapes && sql[end] === '\\' ? 2 : 1;
      }
      end++;
    } else if (c === '-' && next === '-') {
      end = sql.indexOf('\n', i);
      if (end < 0) end = sql.length;
    } else if (c === '/' && next === '*') {
      end = sql.indexOf('*/', i + 2);
      end = end < 0 ? sql.length : end + 2;
    } else if (c === '$' && !inWord && /[0-9]/.test(next)) {
      while (end < sql.length && /[0-9]/.test(sql[end]!)) end++;
      const n = Number(sql.slice(i + 1, end));
      if (!(n >= 1 && n <= params.length)) throw new RangeError(`$${n} has no parameter (${params.length} given)`);
      out += sqlLiteral(params[n - 1]!);
      i = end;
      continue;
    } else if (c === '$' && !inWord) {
      // $$…$$ or $tag$…$tag$: up to the same tag.
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
      if (tag) {
        const close = sql.indexOf(tag, i + tag.length);
        end = close < 0 ? sql.length : close + tag.length;
      }
    }
    out += sql.slice(i, end);
    i = end;
  }
  return out;
}

/**
 * A value as an untyped SQL literal, as pg would send it as a parameter: numbers and booleans as
 * their text, arrays in PostgreSQL's array syntax, a Buffer as bytea hex, a Date in ISO form, null
 * as NULL. Strings are written E'…' when they hold a backslash (so the server's
 * standard_conforming_strings does not matter); a NUL cannot be in PostgreSQL text and is refused.
 */
export function sqlLiteral(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (Array.isArray(value)) return quote(arrayText(value));
  return quote(scalarText(value as SqlScalar & {}));
}

function scalarText(value: Exclude<SqlScalar, null>): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a number PostgreSQL stores here: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  return `\\x${value.toString('hex')}`;
}

function arrayText(values: readonly SqlScalar[]): string {
  const items = values.map((v) => (v === null ? 'NULL' : `"${scalarText(v).replace(/[\\"]/g, '\\$&')}"`));
  return `{${items.join(',')}}`;
}

function quote(text: string): string {
  if (text.includes('\0')) throw new RangeError('PostgreSQL text cannot hold a NUL character');
  const doubled = text.replace(/'/g, "''");
  return text.includes('\\') ? `E'${doubled.replace(/\\/g, '\\\\')}'` : `'${doubled}'`;
}

/** A channel name is an identifier: lower-case letters, digits and _ only, so it is quoted as it is. */
function checkChannel(channel: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new RangeError(`not a channel name Referent uses: ${channel.slice(0, 70)}`);
  return `"${channel}"`;
}

/**
 * One LISTEN connection that keeps coming back. Every failure (connecting, LISTEN, the connection
 * dropping later) ends the current client and schedules the next attempt; the pause doubles up to
 * RELISTEN_MAX_MS and starts again from RELISTEN_FIRST_MS once a LISTEN succeeded. Timers are unref'd:
 * a listener alone does not keep a process alive.
 */
function openListener(connectionString: string, connectTimeoutMs: number, channel: string, events: PgListenEvents, forget: () => void): PgListener {
  const quoted = checkChannel(channel);
  const where = describe(new URL(connectionString));
  let closed = false;
  let up = false;
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  let pause = RELISTEN_FIRST_MS;

  const down = () => {
    if (up) {
      up = false;
      events.onDown?.();
    }
  };
  const retry = (failed: pg.Client) => {
    if (client !== failed) return; // an older client's late error: its replacement is already on its way
    client = null;
    failed.removeAllListeners('notification');
    // A client that errored is useless; end() also releases its socket (and never throws here).
    failed.end().catch(() => {});
    down();
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      void attempt();
    }, pause);
    timer.unref();
    pause = Math.min(RELISTEN_MAX_MS, pause * 2);
  };
  const attempt = async () => {
    if (closed) return;
    const next = new pg.Client({ connectionString, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true, types });
    client = next;
    // Listeners first: an error between connect and LISTEN must not go unhandled.
    next.on('error', () => retry(next));
    next.on('end', () => retry(next));
    next.on('notification', (n) => {
      if (client === next && n.channel === channel) events.onNotify(n.payload ?? '');
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${quoted}`);
    } catch {
      retry(next);
      return;
    }
    if (closed || client !== next) return;
    pause = RELISTEN_FIRST_MS;
    up = true;
    events.onUp?.();
  };
  void attempt();

  return {
    get up() {
      return up;
    },
    async ping() {
      const current = client;
      if (!up || !current) throw asDatabaseError(Object.assign(new Error('connection terminated: not listening'), { code: 'ECONNRESET' }), where);
      try {
        await current.query('SELECT 1');
      } catch (err) {
        throw asDatabaseError(err, where);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      up = false;
      if (timer) clearTimeout(timer);
      timer = null;
      const last = client;
      client = null;
      forget();
      await last?.end().catch(() => {});
    },
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
