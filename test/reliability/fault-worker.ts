/**
 * The process the fault harness kills (faults.ts). It opens a data folder, runs a seeded sequence
 * of writes (bulk ingest, `add` and `describe` in chat, verdicts, `forget`) and acknowledges each
 * one on stdout only after it returned, as a user would see it acknowledged.
 *
 * With FAULT_CRASH_STEP=n it SIGKILLs itself right before the n-th write step: every write,
 * rename, delete and fsync that goes through node:fs, and the start, end (before COMMIT) and
 * commit of every SQLite transaction. So the kill points cover the whole write path, between any
 * two of its steps, and the same seed and n give the same kill point. With REFERENT_DATABASE_URL
 * (and REFERENT_DATABASE_SCHEMA) it writes to PostgreSQL instead, and its catalogue steps are each
 * transaction's BEGIN, its end before COMMIT and its commit, and every write sent outside one
 * (before it, and once it committed).
 *
 * Env: FAULT_DATA_DIR, FAULT_SEED, FAULT_OPS, FAULT_RUN (a prefix that keeps labels unique),
 * FAULT_CRASH_STEP (0: no crash), or FAULT_CRASH_KIND and FAULT_CRASH_OFFSET (the offset-th step of
 * the ingests/adds/describes/reviews/forgets/shutdown, counted from the first: one that ends sooner
 * passes the rest of the count to the next of its kind, so the kill lands inside one or not at
 * all), or FAULT_CRASH_KIND and FAULT_CRASH_POINT (a pattern: the first step of an operation of that
 * kind whose point matches, as "before COMMIT"; the points are named in the killed line). Without a
 * crash it shuts down cleanly and reports its step count and the longest step run
 * of each kind of operation.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Entity } from '../../src/catalog/catalog.js';

const writeAck = fs.writeSync.bind(fs);
/** Acknowledgements go out synchronously (stdout is a pipe), so the parent has every one that was made. */
const ack = (record: Record<string, unknown>) => writeAck(1, `${JSON.stringify(record)}\n`);

const env = process.env;
let crashAt = Number(env.FAULT_CRASH_STEP ?? 0);
/** FAULT_CRASH_KIND + FAULT_CRASH_OFFSET: die at the offset-th step of the operations of that kind. */
const crashKind = env.FAULT_CRASH_KIND ?? '';
let crashOffset = Number(env.FAULT_CRASH_OFFSET ?? 1);
/** FAULT_CRASH_KIND + FAULT_CRASH_POINT: die at the first step of that kind whose point matches. */
const crashPoint = env.FAULT_CRASH_POINT ? new RegExp(env.FAULT_CRASH_POINT) : null;
let steps = 0;

/** The operation under way, named in the last line before the kill. */
let current = 'open';

/** `point` names the step in the last line: "fsp.rename", "before COMMIT" … */
function step(point: string): void {
  if (++steps !== crashAt && !(crashPoint && current === crashKind && crashPoint.test(point))) return;
  ack({ op: 'killed', during: current, step: steps, point });
  process.kill(process.pid, 'SIGKILL');
}

/** Longest run of write steps seen per kind of operation (reported on a clean finish). */
const lengths: Record<string, number> = {};
async function operation(kind: string, work: () => Promise<void>): Promise<void> {
  const counted = kind === crashKind && !crashPoint;
  if (counted) crashAt = steps + crashOffset;
  const start = steps;
  current = kind;
  try {
    await work();
  } catch (err) {
    // On a full disk an operation may be refused: say how, and go on with the next one.
    if (diskLeft === Infinity) throw err;
    ack({ op: 'refused', kind, code: (err as { code?: string }).code ?? 'none', message: err instanceof Error ? err.message : String(err) });
  }
  current = 'between operations';
  lengths[kind] = Math.max(lengths[kind] ?? 0, steps - start);
  if (counted) {
    // It ended before the step: the rest of the count goes to the next operation of its kind.
    crashOffset = crashAt - steps;
    crashAt = 0;
  }
}


/**
 * FAULT_DISK_BYTES=n: the disk "fills up" after n more bytes: from then on every file write fails
 * with ENOSPC, and the catalogue may not grow by a single page (SQLITE_FULL), as on a full disk.
 */
let diskLeft = env.FAULT_DISK_BYTES ? Number(env.FAULT_DISK_BYTES) : Infinity;
const sizeOf = (data: unknown) => (typeof data === 'string' ? Buffer.byteLength(data) : ArrayBuffer.isView(data) ? data.byteLength : 0);
function spend(args: unknown[], dataAt: number): void {
  if (diskLeft === Infinity) return;
  diskLeft -= sizeOf(args[dataAt]);
  if (diskLeft < 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

// --- fault points: wrap the writers before any application module is loaded ---------------------
type AnyFn = (...args: never[]) => unknown;
function wrap<T extends object>(target: T, names: string[], isWrite: (args: unknown[]) => boolean = () => true, dataAt = -1): void {
  for (const name of names) {
    const original = (target as Record<string, AnyFn>)[name]!;
    (target as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      if (isWrite(args)) step(name);
      if (dataAt >= 0) {
        try {
          spend(args, dataAt);
        } catch (err) {
          return Promise.reject(err);
        }
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
}
const opensForWrite = (args: unknown[]) => typeof args[1] === 'string' && /[wa+]/.test(args[1]);
wrap(fsp, ['writeFile'], () => true, 1);
wrap(fsp, ['rename', 'rm', 'unlink', 'mkdir', 'utimes', 'copyFile']);
wrap(fsp, ['open'], opensForWrite);
wrap(fs, ['writeFileSync', 'renameSync', 'rmSync', 'unlinkSync', 'mkdirSync']);
const probe = await fsp.open(import.meta.filename, 'r');
wrap(Object.getPrototypeOf(probe) as object, ['writeFile', 'write'], () => true, 0);
wrap(Object.getPrototypeOf(probe) as object, ['sync', 'datasync']);
await probe.close();
syncBuiltinESMExports();

type Tx = ((...args: unknown[]) => unknown) & Record<string, unknown>;
const transaction = Database.prototype.transaction as unknown as (this: unknown, fn: (...a: unknown[]) => unknown) => Tx;
(Database.prototype as unknown as { transaction: unknown }).transaction = function (this: unknown, fn: (...a: unknown[]) => unknown) {
  const db = this as { pragma(sql: string, o?: { simple: boolean }): unknown };
  const tx = transaction.call(this, function (this: unknown, ...args: unknown[]) {
    step('SQLite BEGIN');
    if (diskLeft < 0) db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const result = fn.apply(this, args);
    step('before SQLite COMMIT'); // inside the transaction
    return result;
  });
  const afterCommit = (run: (...a: unknown[]) => unknown) =>
    function (this: unknown, ...args: unknown[]) {
      const result = run.apply(this, args);
      step('SQLite committed');
      return result;
    };
  const variants = ['deferred', 'immediate', 'exclusive'].map((v) => [v, afterCommit(tx[v] as (...a: unknown[]) => unknown)]);
  return Object.assign(afterCommit(tx), Object.fromEntries(variants));
};

// PostgreSQL: every statement goes through pg's Client.query (pg-pool.ts sends each one as a string).
type Query = (this: object, ...args: unknown[]) => unknown;
const pgQuery = pg.Client.prototype.query as unknown as Query;
const WRITE = /^\s*(insert|update|delete|create|alter|drop|truncate)\b/i;
const inTransaction = new WeakSet<object>();
(pg.Client.prototype as unknown as { query: Query }).query = function (this: object, ...args: unknown[]) {
  const sql = typeof args[0] === 'string' ? args[0] : '';
  const word = /^\s*([a-z]+)/i.exec(sql)?.[1]?.toUpperCase();
  const autocommit = !inTransaction.has(this) && WRITE.test(sql);
  // BEGIN: the start; COMMIT: the end, a kill there is before the commit; a lone write: before it.
  if (word === 'BEGIN' || word === 'COMMIT' || autocommit) step(word === 'BEGIN' ? 'BEGIN' : word === 'COMMIT' ? 'before COMMIT' : `before ${word}`);
  if (word === 'BEGIN') inTransaction.add(this);
  if (word === 'COMMIT' || word === 'ROLLBACK') inTransaction.delete(this);
  const result = pgQuery.apply(this, args);
  // Committed, not yet acknowledged to the caller.
  if ((word === 'COMMIT' || autocommit) && result instanceof Promise) return result.then((r: unknown) => (step(word === 'COMMIT' ? 'committed' : `${word} committed`), r));
  return result;
};

// --- the workload ---------------------------------------------------------------------------------
const { openReferent } = await import('../../src/open.js');
const { parseConfig } = await import('../../src/config.js');
const { Assistant } = await import('../../src/chat/assistant.js');
const { accessPolicy } = await import('../../src/chat/access.js');
const { review } = await import('../../src/entities/entities.js');
const { ingest } = await import('../../src/ingest/ingest.js');
const { mulberry32 } = await import('../../src/random.js');
const { encodePixels } = await import('../../src/image/image-io.js');
const { tinyModelDir } = await import('../support/fixtures.js');

const seed = Number(env.FAULT_SEED ?? 1);
const run = env.FAULT_RUN ?? 'r0';
const random = mulberry32(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const database = env.REFERENT_DATABASE_URL ? { REFERENT_DATABASE_URL: env.REFERENT_DATABASE_URL, REFERENT_DATABASE_SCHEMA: env.REFERENT_DATABASE_SCHEMA ?? 'public' } : {};
const config = parseConfig({ env: { REFERENT_DATA_DIR: env.FAULT_DATA_DIR!, REFERENT_MODEL: tinyModelDir, REFERENT_OFFLINE: '1', REFERENT_BATCH_SIZE: '2', REFERENT_ADMINS: 'web:local', ...database } });
const referent = await openReferent(config);
await referent.catalog.ensureCollection('parts');
const assistant = new Assistant(referent, {
  policy: accessPolicy(config.chat),
  limits: { maxTextChars: config.maxTextChars, maxImageBytes: config.maxImageBytes, batchSize: config.batchSize },
  log: (line) => process.stderr.write(`${line}\n`),
});
const where = { user: { platform: 'web', id: 'local', name: 'fault' }, scope: { platform: 'web', workspace: 'local', channel: 'chat' } };
const colours = ['red', 'green', 'blue', 'yellow'] as const;
const rgb: Record<(typeof colours)[number], [number, number, number]> = { red: [220, 30, 30], green: [30, 200, 40], blue: [30, 40, 220], yellow: [230, 220, 30] };

/** A photo no other run makes: a colour with seeded noise. */
async function photo(colour: (typeof colours)[number]): Promise<Uint8Array> {
  const [r, g, b] = rgb[colour];
  const data = new Uint8Array(24 * 24 * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = Math.max(0, Math.min(255, r + Math.round((random() - 0.5) * 40)));
    data[i + 1] = Math.max(0, Math.min(255, g + Math.round((random() - 0.5) * 40)));
    data[i + 2] = Math.max(0, Math.min(255, b + Math.round((random() - 0.5) * 40)));
  }
  return encodePixels({ data, width: 24, height: 24, channels: 3 }, 'png');
}

const ops = Number(env.FAULT_OPS ?? 8);
const mine = async () => {
  const entities: Entity[] = [];
  for (const id of await referent.catalog.liveEntityIds()) {
    const entity = await referent.catalog.getEntity(id);
    if (entity && /^R\d+-E\d+$/.test(entity.label)) entities.push(entity);
  }
  return entities;
};
for (let n = 0; n < ops; n++) {
  const roll = random();
  const colour = pick(colours);
  if (roll < 0.3) {
    await operation('ingest', async () => {
      const sources = await Promise.all(Array.from({ length: 1 + Math.floor(random() * 3) }, async (_, i) => ({ path: '', origin: `${run}-${n}-${i}`, bytes: await photo(colour), caption: `a ${colour} part from ${run}` })));
      await ingest(referent, { sources, problems: [] }, {
        collection: 'parts',
        batchSize: 2,
        maxImageBytes: config.maxImageBytes,
        maxTextChars: config.maxTextChars,
        onEvent: (e) => e.event === 'added' && ack({ op: 'ingest', itemId: e.itemId, origin: e.origin }),
      });
    });
  } else if (roll < 0.5) {
    const label = `${run.toUpperCase()}-E${n}`;
    const image = await photo(colour);
    await operation('add', async () => {
      const [reply] = await assistant.handle({ ...where, text: `add ${label} in parts: a ${colour} widget`, images: [image] });
      if (reply!.kind !== 'info') throw new Error(`add ${label}: ${reply!.text}`);
      const entity = (await referent.catalog.findEntities(label))[0]!;
      ack({ op: 'add', label, entityId: entity.id, itemIds: (await referent.catalog.entityItems(entity.id)).map((i) => i.id) });
    });
  } else if (roll < 0.62) {
    const entities = await mine();
    if (entities.length === 0) continue;
    const entity = pick(entities);
    const text = `${run} note ${n}: ${colour} finish`;
    await operation('describe', async () => {
      const [reply] = await assistant.handle({ ...where, text: `describe ${entity.label}: ${text}`, images: [] });
      if (reply!.kind !== 'info') throw new Error(`describe ${entity.label}: ${reply!.text}`);
      ack({ op: 'describe', entityId: entity.id, text });
    });
  } else if (roll < 0.82) {
    const [hit] = (await assistant.handle({ ...where, text: colour, images: [] }))[0]!.cards;
    if (!hit?.itemId) continue;
    const item = (await referent.catalog.getItem(hit.itemId))!;
    const verdict = item.entityId !== null && random() < 0.7 ? 'confirm' : 'reject';
    await operation('review', async () => {
      const done = await review(referent, { query: `${colour} one, ${run}`, itemId: item.id, verdict, user: 'web:local' }, config);
      ack({ op: 'review', verdictId: done.verdict.id, itemId: item.id });
    });
  } else {
    const entities = await mine();
    if (entities.length === 0) continue;
    const entity = pick(entities);
    const items = await referent.catalog.entityItems(entity.id);
    // Said before it starts, so the checker knows this forget may have committed without an ack.
    ack({ op: 'forget-intent', label: entity.label, entityId: entity.id, itemIds: items.map((i) => i.id), mediaKeys: items.map((i) => i.mediaKey) });
    await operation('forget', async () => {
      // Forget asks first; pressing its Forget button is what forgets.
      const [asked] = await assistant.handle({ ...where, text: `forget ${entity.label}`, images: [] });
      const go = asked!.actions?.find((a) => a.kind === 'forget');
      if (!go) throw new Error(`forget ${entity.label}: ${asked!.text}`);
      const done = await assistant.act(go.value, where.user, where.scope);
      if (!done.update) throw new Error(`forget ${entity.label}: ${done.replies[0]?.text}`);
      ack({ op: 'forget', label: entity.label, entityId: entity.id, itemIds: items.map((i) => i.id), mediaKeys: items.map((i) => i.mediaKey) });
    });
  }
}
await operation('shutdown', () => referent.shutdown());
ack({ op: 'done', steps, lengths });
