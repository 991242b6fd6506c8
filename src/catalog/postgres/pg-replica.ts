/**
 * Reads on a streaming replica (REFERENT_DATABASE_READ_URL) that never answer with less than the
 * primary had committed when the read began, whichever Referent process committed it: a person who
 * taught something through one server and asks through another finds it.
 *
 * Each routed read (one catalogue method call) is admitted to the replica like this:
 *
 *  1. T = the primary's pg_current_wal_insert_lsn(), read by a query sent after the read began.
 *     A commit is acknowledged only after its commit record was inserted into the WAL, so every
 *     commit any process had acknowledged when the read began lies below T (with synchronous_commit
 *     off too: the insert position is ahead of the flushed one).
 *  2. On one connection of the replica's pool: the server is a standby of this primary (the same
 *     system identifier) and its pg_last_wal_replay_lsn() is at least T. Replay applies a commit
 *     record before it moves that position, and never moves it back, so every statement that starts
 *     after this check sees those commits.
 *  3. The read's statements run on that same connection (a balancer in front of several standbys
 *     cannot hand them to another one).
 *
 * A standby that is behind is asked again for at most WAIT_MS, then the read goes to the primary
 * (while it stays behind, reads go to the primary after one look, without waiting). A replica that
 * cannot be reached, or is no standby of this primary, sends every read to the primary with one
 * line in the log, and is looked at again in the background every `retryMs` until it serves again
 * (one more line). A read server that is the primary itself (same identifier, same start time, not
 * in recovery) serves as it is. If the primary cannot say where its WAL is, no read is admitted to
 * the replica: the read goes to the primary and fails there as every write would. A read that turns
 * out to need a write (a store's backfill or index made on first use), or that the standby cancels
 * (a conflict with recovery), is answered by the primary too.
 *
 * Cost per routed read: one tiny query on the primary (reads that begin while one is in flight share
 * the next one, so a process has at most one in flight) and one on the replica, before the read's own
 * statements, which are the heavy part and run on the replica.
 *
 * Not covered: after a failover, a standby that still follows the old primary is not told apart
 * from one that follows the new one; point both URLs at the new topology.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ErrorCode, ReferentError } from '../../errors.js';
import { type PgDb, type PgQueryable, sqlState } from './pg-pool.js';
import type { PgWrite } from './pg-write.js';

/** How long a read waits for a standby that is behind before it goes to the primary. */
const WAIT_MS = 50;
const POLL_MS = 10;
/** A standby behind for this long is worth a line in the log. */
const LAG_NOTE_MS = 10_000;
/** When the server started, the same text whatever the session's time zone: with the system identifier, which server it is. */
const STARTED = `extract(epoch FROM pg_postmaster_start_time())::text`;

export interface ReplicaReadsOptions {
  /** How often a replica that could not be used is looked at again (default 5 s). */
  retryMs?: number;
  /** One line per change of state (replica lost, back, behind for long). */
  log(line: string): void;
}

/** Where the primary's WAL was, and which server said so. */
interface PrimaryPosition {
  lsn: bigint;
  system: string;
  started: string;
}

interface StandbyState {
  standby: boolean;
  replay: string | null;
  system: string;
  started: string;
}

type Refusal = 'behind' | 'unusable';

/** A read the replica may not answer: it goes to the primary. */
class NotAdmitted extends Error {
  constructor(
    readonly why: Refusal,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** The primary could not give its position: the read goes to the primary, which will say why. */
class PrimaryUnknown extends Error {
  constructor(readonly reason: unknown) {
    super('the primary did not say where its WAL is');
  }
}

/** A read that found it must write first (a backfill): the primary answers it, writes included. */
class WriteOnReplica extends Error {}

/**
 * The `write` of the stores over the replica: a read that would write (the lexical store keys old
 * labels before it matches them) is answered by the primary instead, which writes and reads there.
 */
export const replicaWrite: PgWrite = () => Promise.reject(new WriteOnReplica('a read on the replica tried to write'));

/** An LSN as PostgreSQL writes it ("16/B374D848"), as a number that orders like the WAL. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new RangeError(`not a WAL position: ${text.slice(0, 40)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const isUnavailable = (err: unknown) => err instanceof ReferentError && err.code === ErrorCode.DatabaseUnavailable;
const whereOf = (err: unknown) => (err instanceof ReferentError ? err.details.where : undefined);
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');

export class ReplicaReads {
  /** Reads the replica answered, and routed reads the primary answered instead. */
  readonly counts = { replica: 0, primary: 0 };
  /** The replica as the read stores see it: statements run on the connection of the read in progress. */
  readonly view: PgDb;

  private readonly pinned = new AsyncLocalStorage<PgQueryable>();
  private readonly retryMs: number;
  /** Why the replica is not used now (null: it is); a background look clears it. */
  private unusable: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Since when every look found the standby behind (null: the last one did not). */
  private behindSince: number | null = null;
  private lagNoted = false;
  private closed = false;
  /** The position query a read that begins now may share (not sent yet), and the one in flight. */
  private queued: Promise<PrimaryPosition> | null = null;
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly primary: PgDb,
    private readonly replica: PgDb,
    private readonly options: ReplicaReadsOptions,
  ) {
    this.retryMs = options.retryMs ?? 5_000;
    const outside = () => new Error('a replica read outside ReplicaReads.read');
    this.view = {
      where: replica.where,
      query: (sql, params) => {
        const conn = this.pinned.getStore();
        if (!conn) return Promise.reject(outside());
        return conn.query(sql, params);
      },
      // A store that opens a transaction means to write (an index made on first use, say): the primary answers.
      transaction: () => Promise.reject(new WriteOnReplica('a read on the replica opened a transaction')),
      session: () => Promise.reject(outside()),
      listen: () => {
        throw new Error('the read replica is not listened to');
      },
      close: () => replica.close(),
    };
  }

  /** user@host:port/database of the replica, never the password. */
  get where(): string {
    return this.replica.where;
  }

  /**
   * Answers a read from the replica when it is admitted (see the file's comment), otherwise from the
   * primary. `onReplica` must reach the database only through `view`.
   */
  async read<T>(onReplica: () => Promise<T>, onPrimary: () => Promise<T>): Promise<T> {
    if (this.unusable !== null || this.closed) return this.fromPrimary(onPrimary);
    const target = this.primaryPosition();
    target.catch(() => {}); // awaited below, unless the replica's pool fails first
    let value: T;
    try {
      value = await this.replica.session(async (conn) => {
        await this.admit(conn, target);
        return this.pinned.run(conn, onReplica);
      });
    } catch (err) {
      if (err instanceof WriteOnReplica) return this.fromPrimary(onPrimary);
      if (err instanceof PrimaryUnknown) {
        // The primary unreachable: the read fails there as writes do. Anything else (the functions not
        // granted, say) would refuse every read the same way, so it is said once.
        if (!isUnavailable(err.reason)) this.setAside(`the primary did not say where its WAL is (${messageOf(err.reason)})`);
        return this.fromPrimary(onPrimary);
      }
      if (err instanceof NotAdmitted) {
        if (err.why === 'unusable') this.setAside(err.detail);
        return this.fromPrimary(onPrimary);
      }
      if (isUnavailable(err)) {
        // The primary lost during the read (its model lookup, say): the primary's own error stands.
        if (whereOf(err) === this.primary.where && this.primary.where !== this.replica.where) throw err;
        this.setAside(messageOf(err));
        return this.fromPrimary(onPrimary);
      }
      // A statement the standby refused (a conflict with recovery, a cancel) is asked of the primary;
      // anything else (a bad argument) would fail there the same way.
      if (sqlState(err) !== undefined) return this.fromPrimary(onPrimary);
      throw err;
    }
    this.counts.replica++;
    return value;
  }

  /** Stops the background looks; the pool is closed by its owner. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private fromPrimary<T>(onPrimary: () => Promise<T>): Promise<T> {
    this.counts.primary++;
    return onPrimary();
  }

  /** Resolves when this connection's server may answer a read that began before `target` was asked for. */
  private async admit(conn: PgQueryable, target: Promise<PrimaryPosition>): Promise<void> {
    let state = await this.standbyState(conn);
    let primary: PrimaryPosition;
    try {
      primary = await target;
    } catch (err) {
      throw new PrimaryUnknown(err);
    }
    if (state.system !== primary.system) {
      throw new NotAdmitted('unusable', `the read server at ${this.replica.where} is not a standby of the primary (another system identifier)`);
    }
    if (!state.standby) {
      if (state.started === primary.started) return; // the primary itself: nothing to wait for
      throw new NotAdmitted('unusable', `the read server at ${this.replica.where} is not in recovery: it is no standby of the primary`);
    }
    // While the standby stays behind, a read looks once and goes on; otherwise it waits a little.
    const deadline = Date.now() + (this.behindSince === null ? WAIT_MS : 0);
    for (;;) {
      if (state.replay !== null && parseLsn(state.replay) >= primary.lsn) {
        this.caughtUp();
        return;
      }
      if (Date.now() >= deadline) break;
      await sleep(POLL_MS);
      state = await this.standbyState(conn);
    }
    this.fellBehind();
    throw new NotAdmitted('behind', `the standby at ${this.replica.where} had not replayed the primary's WAL up to ${primary.lsn}`);
  }

  private async standbyState(conn: PgQueryable): Promise<StandbyState> {
    let row: StandbyState | undefined;
    try {
      [row] = await conn.query<StandbyState>(
        `SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replay,
                (SELECT system_identifier::text FROM pg_control_system()) AS system, ${STARTED} AS started`,
      );
    } catch (err) {
      if (isUnavailable(err)) throw err;
      throw new NotAdmitted('unusable', `the read server at ${this.replica.where} did not say where its replay is (${messageOf(err)})`);
    }
    if (!row) throw new NotAdmitted('unusable', `the read server at ${this.replica.where} did not say where its replay is`);
    return row;
  }

  /**
   * The primary's WAL insert position, from a query sent after this call: a call that comes while
   * one is in flight waits for the next one, which every call made meanwhile shares.
   */
  private primaryPosition(): Promise<PrimaryPosition> {
    if (this.queued) return this.queued;
    const queued = this.inFlight.then(async () => {
      this.queued = null; // sent now: a read that begins later needs the next one
      const [row] = await this.primary.query<{ lsn: string; system: string; started: string }>(
        `SELECT pg_current_wal_insert_lsn()::text AS lsn, (SELECT system_identifier::text FROM pg_control_system()) AS system, ${STARTED} AS started`,
      );
      if (!row) throw new Error('the primary answered no row');
      return { lsn: parseLsn(row.lsn), system: row.system, started: row.started };
    });
    this.queued = queued;
    this.inFlight = queued.catch(() => {});
    return queued;
  }

  private fellBehind(): void {
    const now = Date.now();
    this.behindSince ??= now;
    if (!this.lagNoted && now - this.behindSince >= LAG_NOTE_MS) {
      this.lagNoted = true;
      this.options.log(`The read replica at ${this.replica.where} has been behind the primary for ${Math.round((now - this.behindSince) / 1000)} s: reads go to the primary until it catches up.`);
    }
  }

  private caughtUp(): void {
    if (this.lagNoted) this.options.log(`The read replica at ${this.replica.where} caught up: reads go to it again.`);
    this.behindSince = null;
    this.lagNoted = false;
  }

  /** Sends every read to the primary until a background look finds the replica usable again. */
  private setAside(why: string): void {
    if (this.unusable !== null || this.closed) return;
    this.unusable = why;
    this.options.log(`Reads go to the primary: ${why}. The read replica is tried again every ${Math.round(this.retryMs / 100) / 10} s.`);
    this.scheduleLook();
  }

  private scheduleLook(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.look();
    }, this.retryMs);
    this.timer.unref();
  }

  /** The background look: the replica serves again once a read would be admitted to it. */
  private async look(): Promise<void> {
    try {
      await this.replica.session((conn) => this.admit(conn, this.primaryPosition()));
    } catch (err) {
      // Behind is good enough: each read checks the position itself.
      if (!(err instanceof NotAdmitted && err.why === 'behind')) return this.scheduleLook();
    }
    if (this.closed) return;
    this.unusable = null;
    this.options.log(`Reads go to the read replica at ${this.replica.where} again.`);
  }
}
