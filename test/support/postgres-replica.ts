/**
 * A real PostgreSQL streaming replica of the test server (REFERENT_TEST_DATABASE_URL) for the read
 * replica tests: pg_basebackup -R from the primary's URL into a temporary folder, then pg_ctl start
 * on a free port of 127.0.0.1. It needs the server's own binaries (pg_basebackup, pg_ctl, of the
 * primary's major version) on this machine, and a primary that accepts replication connections from
 * 127.0.0.1 (wal_level replica, as by default). As root the binaries run as the `postgres` user, as
 * PostgreSQL refuses to run as root.
 *
 * Also: PGlite reachable through two socket servers ("doors"), the second one standing for a read
 * URL that leads to the primary itself, which can be closed and opened again.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite/vector';
import { openPgDb } from '../../src/catalog/postgres/pg-pool.js';
import { closedPort, TEST_DATABASE_URL_ENV } from './postgres.js';

const run = promisify(execFile);

export interface Replica {
  url: string;
  /** Stops replaying WAL (it still receives it), and resolves once replay has stopped. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Resolves once the replica has replayed everything the primary had written when this was called. */
  caughtUp(): Promise<void>;
  /** The server stops (fast shutdown); `start` brings it back on the same port with its data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Rows of a query on the replica itself (not through Referent). */
  query<R = Record<string, unknown>>(sql: string): Promise<R[]>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
}

/** Settings a hot standby must have at least as high as its primary, or it refuses to start. */
const AT_LEAST_PRIMARY = ['max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction'];

/** Why a real replica cannot be started here, or null when it can (the test is skipped with this reason). */
export function replicaUnavailable(): string | null {
  if (!process.env[TEST_DATABASE_URL_ENV]) return `${TEST_DATABASE_URL_ENV} is not set (a real PostgreSQL server to replicate)`;
  if (candidateBinDirs().length === 0) return "PostgreSQL's server binaries (pg_basebackup, pg_ctl) are not on this machine";
  return null;
}

/** Folders that hold pg_basebackup and pg_ctl, best first. */
function candidateBinDirs(major?: number): string[] {
  const dirs: string[] = [];
  try {
    dirs.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config on the PATH
  }
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs.readdirSync(debian).filter((v) => /^\d+$/.test(v));
    for (const v of major === undefined ? versions : versions.filter((v) => Number(v) === major)) dirs.push(path.join(debian, v, 'bin'));
  }
  dirs.push('/usr/local/pgsql/bin', ...(major === undefined ? [] : [`/usr/pgsql-${major}/bin`]));
  return dirs.filter((d) => fs.existsSync(path.join(d, 'pg_ctl')) && fs.existsSync(path.join(d, 'pg_basebackup')));
}

async function binDirFor(major: number): Promise<string> {
  for (const dir of candidateBinDirs(major)) {
    const { stdout } = await run(path.join(dir, 'pg_ctl'), ['--version']);
    if (Number(/(\d+)/.exec(stdout.replace(/^\D+/, ''))?.[1]) === major) return dir;
  }
  throw new Error(`no pg_ctl and pg_basebackup of PostgreSQL ${major} on this machine (the primary's version)`);
}

/** The uid and gid of `postgres` when running as root (PostgreSQL refuses root), else null. */
function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Whether the postgres user may pass through `dir` (as root only). */
function enterable(dir: string): boolean {
  try {
    execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a streaming replica of `primaryUrl` (see the file's comment). */
export async function startReplica(primaryUrl: string): Promise<Replica> {
  const primary = openPgDb(primaryUrl, { max: 1 });
  let settings: Array<{ name: string; setting: string }>;
  let major: number;
  try {
    settings = await primary.query(`SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])`, [AT_LEAST_PRIMARY]);
    const [v] = await primary.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
    major = Math.floor(Number(v?.v) / 10000);
  } finally {
    await primary.close();
  }
  const bin = await binDirFor(major);
  const owner = postgresUser();
  const as = (cmd: string, args: string[]) => (owner ? run('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]) : run(path.join(bin, cmd), args));
  // As root the folder is postgres's, under a temporary folder postgres may enter.
  const dir = fs.mkdtempSync(path.join(owner && !enterable(os.tmpdir()) ? '/tmp' : os.tmpdir(), 'referent-replica-'));
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  const data = path.join(dir, 'data');
  const port = await closedPort();
  const url = Object.assign(new URL(primaryUrl), { port: String(port) }).href;
  const options = ['-c listen_addresses=127.0.0.1', `-p ${port}`, `-k ${dir}`, '-c hot_standby=on', ...settings.map((s) => `-c ${s.name}=${s.setting}`)].join(' ');
  const start = async () => {
    await as('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  };
  const query = async <R>(sql: string): Promise<R[]> => {
    // Its own application_name: Referent's sessions are told apart from the test's in pg_stat_activity.
    const db = openPgDb(`${url}${url.includes('?') ? '&' : '?'}application_name=referent-test`, { max: 1 });
    try {
      return await db.query<R>(sql);
    } finally {
      await db.close();
    }
  };
  try {
    await as('pg_basebackup', ['-d', primaryUrl, '-D', data, '-R', '-X', 'stream', '-c', 'fast', '--no-sync']);
    await start();
  } catch (err) {
    const log = fs.existsSync(path.join(dir, 'server.log')) ? fs.readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000) : '';
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start a replica of ${new URL(primaryUrl).host}: ${(err as Error).message}\n${log}`);
  }
  let running = true;
  const replica: Replica = {
    url,
    query,
    async pause() {
      await query(`SELECT pg_wal_replay_pause()`);
      for (let i = 0; i < 500; i++) {
        const [row] = await query<{ state: string }>(`SELECT pg_get_wal_replay_pause_state() AS state`);
        if (row?.state === 'paused') return;
        await sleep(20);
      }
      throw new Error('the replica did not pause its replay');
    },
    async resume() {
      await query(`SELECT pg_wal_replay_resume()`);
    },
    async caughtUp() {
      const db = openPgDb(primaryUrl, { max: 1 });
      let target: string;
      try {
        [{ lsn: target }] = (await db.query<{ lsn: string }>(`SELECT pg_current_wal_insert_lsn()::text AS lsn`)) as [{ lsn: string }];
      } finally {
        await db.close();
      }
      for (let i = 0; i < 1500; i++) {
        const [row] = await query<{ done: boolean }>(`SELECT pg_last_wal_replay_lsn() >= '${target}'::pg_lsn AS done`);
        if (row?.done) return;
        await sleep(20);
      }
      throw new Error(`the replica did not replay up to ${target}`);
    },
    async stop() {
      if (!running) return;
      await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      running = false;
    },
    async start() {
      if (running) return;
      await start();
      running = true;
    },
    async destroy() {
      if (running) await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      running = false;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return replica;
}

/** PGlite behind two socket servers: `url` (the primary) and `readUrl`, whose server can be closed and opened again. */
export async function startPgliteTwoDoors(): Promise<{ url: string; readUrl: string; closeRead(): Promise<void>; openRead(): Promise<void>; stop(): Promise<void> }> {
  const db = await PGlite.create({ extensions: { vector, pg_trgm } });
  const door = async (port = 0) => {
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 32 });
    await server.start();
    return { server, port: Number(server.getServerConn().split(':').at(-1)) };
  };
  const main = await door();
  let read: Awaited<ReturnType<typeof door>> | null = await door();
  const readPort = read.port;
  return {
    url: `postgres://postgres@127.0.0.1:${main.port}/postgres`,
    readUrl: `postgres://postgres@127.0.0.1:${readPort}/postgres`,
    async closeRead() {
      await read?.server.stop();
      read = null;
    },
    async openRead() {
      read ??= await door(readPort);
    },
    async stop() {
      await read?.server.stop();
      await main.server.stop();
      await db.close();
    },
  };
}
