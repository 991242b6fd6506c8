/**
 * kill -9 at seeded random points of ingest, chat `add`/`describe`, review and forget, repeated on
 * one data folder, so each run starts on what the previous crash left. After every kill the folder
 * is opened as Referent opens it and checked:
 * - every acknowledged operation is there (items in catalogue, index and media; entities, texts,
 *   verdicts) unless a later acknowledged forget removed it;
 * - every acknowledged forget left nothing (catalogue, index, reference, media files); a forget
 *   that was cut short is all or nothing;
 * - catalogue, index, references and media agree exactly (after the orphan sweep a server runs);
 * - the index log is whole, and a forgotten entity is in no row of any table (faults-log.ts);
 * - a new process with an index folder of its own (another server) finds the same.
 * The same on every catalogue engine (engines.ts): on PostgreSQL the worker writes to the run's
 * schema, and its kill points are the start, end and commit of every transaction it sends.
 * Two kinds of kill: at the n-th write step inside the worker (fault-worker.ts: every fs write,
 * rename, delete, fsync and SQLite transaction boundary), and by this process right after the k-th
 * acknowledgement arrives, which lands wherever the worker then is (often in native code).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { sweepOrphanMedia } from '../../src/media/media-trash.js';
import { openReferent, type Referent } from '../../src/open.js';
import { mulberry32 } from '../../src/random.js';
import { repoRoot, tempDir, testConfig } from '../support/fixtures.js';
import { type EngineKind, type SuiteEngine, sqliteEngine } from './engines.js';
import { checkForgottenTraces, checkIndexLog } from './faults-log.js';
import type { StorageReader } from './storage.js';
import { emptyTally, type Tally } from './tally.js';

export interface FaultOptions {
  seed: number;
  /** Runs that are killed (plus one clean run first, which measures the write steps). */
  runs: number;
  /** Operations per run (default 8). */
  ops?: number;
  /** The catalogue engine (default SQLite in the data folder); started and stopped here. */
  engine?: EngineKind;
  /** The kinds of operation the odd runs die inside, in turn (default every kind). */
  kinds?: readonly string[];
  /**
   * Where inside them, in turn: patterns of the worker's step points ("BEGIN", "before .*COMMIT",
   * "committed", "rm" …), the first step that matches. Default: a seeded step of the operation.
   */
  points?: readonly string[];
  progress?: (line: string) => void;
}

export interface Ack {
  op: string;
  itemId?: number;
  origin?: string;
  label?: string;
  entityId?: number;
  itemIds?: number[];
  mediaKeys?: string[];
  text?: string;
  verdictId?: number;
  steps?: number;
  lengths?: Record<string, number>;
  during?: string;
  step?: number;
  point?: string;
}

/** Where a run dies: inside an operation of a kind (at its offset-th write step, or its first step at a point), or after k acknowledgements. */
type Kill = { kind: string; offset: number } | { kind: string; point: string } | { afterAcks: number };

const KINDS = ['ingest', 'add', 'describe', 'review', 'forget', 'shutdown'] as const;

export interface RunResult {
  acks: Ack[];
  killed: boolean;
  code: number | null;
  stderr: string;
}

/** Runs fault-worker.ts once on `dataDir`; `extraEnv` passes settings such as FAULT_DISK_BYTES. */
export function runWorker(dataDir: string, seed: number, run: string, ops: number, kill: Kill | null, extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const crash = kill && 'kind' in kill ? { FAULT_CRASH_KIND: kill.kind, ...('point' in kill ? { FAULT_CRASH_POINT: kill.point } : { FAULT_CRASH_OFFSET: String(kill.offset) }) } : {};
  const afterAcks = kill && 'afterAcks' in kill ? kill.afterAcks : undefined;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'reliability', 'fault-worker.ts')], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', FAULT_DATA_DIR: dataDir, FAULT_SEED: String(seed), FAULT_RUN: run, FAULT_OPS: String(ops), ...crash, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acks: Ack[] = [];
    let stderr = '';
    let killedByUs = false;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      acks.push(JSON.parse(line) as Ack);
      const real = acks.filter((a) => a.op !== 'forget-intent').length;
      if (afterAcks !== undefined && real >= afterAcks && !killedByUs) killedByUs = child.kill('SIGKILL');
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ acks, killed: signal === 'SIGKILL', code, stderr }));
  });
}

/** Everything acknowledged so far, across runs. */
export class Ledger {
  readonly acks: Ack[] = [];
  add(acks: Ack[]): void {
    this.acks.push(...acks);
  }
  of(op: string): Ack[] {
    return this.acks.filter((a) => a.op === op);
  }
}

function mediaFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'media');
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[]).filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

const keyOf = (file: string) => /([0-9a-f]{64})\.(jpg|png)$/.exec(file)?.[1];

/**
 * Every promise a crash (or a full disk) must not break, against the acknowledgements in `ledger`;
 * one line per broken one, and how many acknowledged things were lost. Ends with the orphan sweep,
 * and, given a reader of the catalogue's storage, a sweep of every table for what was forgotten.
 */
export async function checkAgreement(referent: Referent, dataDir: string, ledger: Ledger, reader?: StorageReader): Promise<{ failures: string[]; lost: number }> {
  const failures: string[] = [];
  let lost = 0;
  const { catalog, index, media, references, encoder } = referent;
  const forgets = ledger.of('forget');
  const goneItems = new Set(forgets.flatMap((f) => f.itemIds ?? []));
  const goneEntities = new Set(forgets.map((f) => f.entityId));
  // An unacknowledged forget may have committed: its items may be gone, but only all together.
  const maybeGone = new Set(ledger.of('forget-intent').filter((i) => !goneEntities.has(i.entityId)).flatMap((i) => i.itemIds ?? []));
  const loss = (what: string) => {
    lost++;
    failures.push(`lost: ${what}`);
  };

  for (const a of ledger.of('ingest')) {
    if (goneItems.has(a.itemId!) || maybeGone.has(a.itemId!)) continue;
    const item = await catalog.getItem(a.itemId!);
    if (!item) loss(`ingested item ${a.itemId} (${a.origin}) is not in the catalogue`);
    else if (!(await index.holds(item.id))) loss(`ingested item ${item.id} is not in the index`);
    else if (!(await media.has(item.mediaKey))) loss(`ingested item ${item.id} has no media files`);
  }
  for (const a of ledger.of('add')) {
    if (goneEntities.has(a.entityId)) continue;
    const entity = await catalog.getEntity(a.entityId!);
    if (!entity && ledger.of('forget-intent').some((i) => i.entityId === a.entityId)) continue;
    if (!entity || entity.label !== a.label) loss(`added entity ${a.label} is gone`);
    else if (!references.get(entity.id)) failures.push(`entity ${a.label} has no reference`);
    for (const id of a.itemIds ?? []) if (entity && (!await catalog.getItem(id) || !(await index.holds(id)))) loss(`photo ${id} of ${a.label}`);
  }
  for (const a of ledger.of('describe')) {
    if (goneEntities.has(a.entityId) || !await catalog.getEntity(a.entityId!)) continue;
    const texts = (await catalog.entityMaterial(a.entityId!, encoder.modelId))?.texts.map((t) => t.body) ?? [];
    if (!texts.includes(a.text!)) loss(`description "${a.text}" of entity ${a.entityId}`);
  }
  for (const a of ledger.of('review')) {
    // A verdict goes only with its image, and an image only with a forget.
    if (await catalog.getItem(a.itemId!) && !await catalog.getVerdict(a.verdictId!)) loss(`verdict ${a.verdictId} on item ${a.itemId}`);
  }
  // Listed once, before the sweep below could delete what a forget left.
  const filesNow = mediaFiles(dataDir);
  for (const intent of ledger.of('forget-intent')) {
    const acked = goneEntities.has(intent.entityId);
    const entityLive = await catalog.getEntity(intent.entityId!) !== null;
    const live = await catalog.getItems(intent.itemIds ?? []);
    const itemsLive = (intent.itemIds ?? []).map((id) => live.has(id));
    if (acked && (entityLive || itemsLive.some(Boolean))) failures.push(`forgotten ${intent.label} is still in the catalogue`);
    if (!entityLive && itemsLive.some(Boolean)) failures.push(`forget of ${intent.label} was half done: entity gone, photos live`);
    if (!entityLive) {
      if (references.get(intent.entityId!)) failures.push(`forgotten ${intent.label} still has a reference`);
      for (const id of intent.itemIds ?? []) if ((await index.holds(id))) failures.push(`forgotten photo ${id} of ${intent.label} is still in the index`);
      for (const key of intent.mediaKeys ?? []) {
        if (!await catalog.isMediaLive(key) && filesNow.some((f) => f.includes(key))) failures.push(`forgotten photo of ${intent.label} still has files (${key.slice(0, 12)}…)`);
      }
    }
  }

  const vectors = await catalog.countItemVectors(encoder.modelId);
  if ((await index.count()) !== vectors || vectors !== await catalog.countItems()) failures.push(`index ${(await index.count())}, vectors ${vectors}, items ${await catalog.countItems()} disagree`);
  const liveKeys = new Set<string>();
  for (const { itemId } of await catalog.itemVectors(encoder.modelId, 0, 1_000_000)) {
    const item = (await catalog.getItem(itemId))!;
    liveKeys.add(item.mediaKey);
    if (!(await index.holds(itemId))) failures.push(`live item ${itemId} is not in the index`);
  }
  // What an interrupted upload left is swept by the server (after a grace period); with no writer
  // running it can go at once, and then the media folder must be exactly the live images' files.
  await sweepOrphanMedia(catalog, media, { olderThanMs: 0 });
  const files = mediaFiles(dataDir);
  const stray = files.filter((f) => !liveKeys.has(keyOf(f) ?? ''));
  if (stray.length) failures.push(`media files no live image uses: ${stray.slice(0, 3).join(', ')}`);
  for (const key of liveKeys) {
    if (!files.some((f) => f.startsWith('originals') && f.includes(key)) || !files.some((f) => f.startsWith('thumbs') && f.includes(key))) loss(`media files of ${key.slice(0, 12)}…`);
  }
  failures.push(...(await checkIndexLog(catalog, encoder.modelId)));
  if (reader) failures.push(...(await checkForgottenTraces(reader, ledger.of('forget-intent'), async (id) => (await catalog.getEntity(id)) !== null)));
  return { failures, lost };
}

/**
 * After a kill: the folder (and database) opened as the next Referent would open it, with the killed
 * worker's index folder, then by a new process with an index folder of its own; both must agree.
 * `cut` is the forget the kill cut short, if any: whether it was done (whole) is in the answer.
 */
async function verifyAfterKill(engine: SuiteEngine, dir: string, ledger: Ledger, run: number, cut?: Ack): Promise<{ failures: string[]; lost: number; cutDone?: boolean }> {
  const dataDir = path.join(dir, 'data');
  const failures: string[] = [];
  let lost = 0;
  let cutDone: boolean | undefined;
  const opens: Array<[string, Record<string, string>]> = [
    ['', engine.env],
    ['a new process with its own index folder: ', { ...engine.env, REFERENT_INDEX_DIR: path.join(dir, `index-new-${run}`) }],
  ];
  for (const [who, env] of opens) {
    try {
      const referent = await openReferent(testConfig(dataDir, env));
      const reader = await engine.reader(dataDir);
      try {
        if (cut) cutDone = (await referent.catalog.getEntity(cut.entityId!)) === null;
        const outcome = await checkAgreement(referent, dataDir, ledger, reader);
        failures.push(...outcome.failures.map((f) => `${who}${f}`));
        lost = Math.max(lost, outcome.lost);
      } finally {
        await reader.close();
        await referent.shutdown();
      }
    } catch (err) {
      failures.push(`${who}the data folder does not open: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { failures, lost, ...(cutDone === undefined ? {} : { cutDone }) };
}

/** Runs the clean run and `runs` killed runs; returns what was injected, survived and lost. */
export async function runFaults(options: FaultOptions): Promise<Tally> {
  const engine = await (options.engine ?? sqliteEngine).start();
  const tally = emptyTally(`kill -9 during ingest, add, describe, review, forget${engine.name === 'sqlite' ? '' : ` (${engine.name})`}`);
  const ops = options.ops ?? 8;
  const random = mulberry32(options.seed);
  const dir = tempDir('referent-faults-');
  const dataDir = path.join(dir, 'data');
  const ledger = new Ledger();
  try {
    const clean = await runWorker(dataDir, options.seed, 'r0', ops, null, engine.env);
    ledger.add(clean.acks);
    const lengths = clean.acks.find((a) => a.op === 'done')?.lengths;
    if (clean.code !== 0 || !lengths) throw new Error(`the clean run failed (exit ${clean.code}): ${clean.stderr.slice(-500)}`);
    for (let run = 1; run <= options.runs; run++) {
      const seed = options.seed * 1000 + run;
      // Odd runs die inside each kind of operation in turn, even runs wherever an acknowledgement finds them.
      const kinds = options.kinds ?? KINDS;
      const kind = kinds[Math.floor(run / 2) % kinds.length]!;
      const point = options.points?.[Math.floor(run / 2) % options.points.length];
      const inside: Kill = point ? { kind, point } : { kind, offset: 1 + Math.floor(random() * Math.max(1, lengths[kind] ?? 20)) };
      const kill: Kill = run % 2 === 1 ? inside : { afterAcks: 1 + Math.floor(random() * ops) };
      const result = await runWorker(dataDir, seed, `r${run}`, ops, kill, engine.env);
      ledger.add(result.acks);
      const done = result.acks.find((a) => a.op === 'done');
      for (const [k, n] of Object.entries(done?.lengths ?? {})) lengths[k] = Math.max(lengths[k] ?? 0, n);
      const died = result.acks.find((a) => a.op === 'killed');
      const where = died ? `write step ${died.step} (${died.point}), during ${died.during}` : 'point' in kill ? `${kill.point} of ${kill.kind}` : 'kind' in kill ? `step ${kill.offset} of ${kill.kind}` : `ack ${kill.afterAcks}`;
      if (!result.killed) {
        if (result.code !== 0) tally.failures.push(`run ${run} (seed ${seed}) died by itself (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        options.progress?.(`run ${run}: finished before ${where}`);
        continue;
      }
      tally.faultsInjected++;
      const cut = result.acks.find((i) => i.op === 'forget-intent' && !result.acks.some((f) => f.op === 'forget' && f.entityId === i.entityId));
      const outcome = await verifyAfterKill(engine, dir, ledger, run, cut);
      tally.itemsLost += outcome.lost;
      if (outcome.failures.length === 0) tally.faultsSurvived++;
      tally.failures.push(...outcome.failures.map((f) => `run ${run} (seed ${seed}, killed at ${where}): ${f}`));
      const forget = outcome.cutDone === undefined ? '' : `, the forget it cut short ${outcome.cutDone ? 'was done whole' : 'was not done'}`;
      options.progress?.(`run ${run}: killed at ${where}${forget}, ${outcome.failures.length ? `${outcome.failures.length} problem(s)` : 'all held'}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await engine.stop();
  }
  return tally;
}
