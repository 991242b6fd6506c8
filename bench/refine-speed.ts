/**
 * What the MMRef refinement adds to search time, end to end through the product's `searchItems`, on a
 * data folder of `items` clustered 512-d images and `entities` entities (each linked to ~3 images and
 * described once or twice with 2–3 detail phrases). The issue's target: at 100k items and 10k
 * entities the refinement adds at most 20% to search time.
 *
 *   npx tsx bench/refine-speed.ts [--items 100000] [--entities 10000] [--queries 200] [--json]
 *   npm run bench -- --section refine [--items …]   (the same, from the bench CLI)
 *
 * The data folder is written through the Catalog API (one transaction per item, as ingest does) and
 * opened with `openReferent`, which builds the image index and the entities' references. Queries
 * are timed plain (`refine: false`) and refined (`refine: true`), both with a query encoder that runs
 * a CLIP ViT-B/16-sized text tower (random weights, `clip-sized-text-tower.ts`) for its cost, and
 * with a zero-cost encoder, so the pure search and refinement costs show too. Vectors are made, not
 * encoded: every text maps to a prepared vector (queries aimed at an entity lie near it).
 * Benchmarks are not tests: nothing here fails on a timing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SqliteCatalog } from '../src/catalog/sqlite-catalog.js';
import { parseConfig } from '../src/config.js';
import type { Encoder } from '../src/encoder/encoder.js';
import { OnnxSession, type TensorInput } from '../src/encoder/onnx-runtime.js';
import { splitPhrases } from '../src/method/phrases.js';
import { dataPaths, openReferent, type Referent } from '../src/open.js';
import { type Progress, silentProgress } from '../src/progress.js';
import { searchItems, type SearchDeps } from '../src/search/search.js';
import { clipSizedTextTower } from './clip-sized-text-tower.js';
import { gaussian, mulberry32, normalise } from './clustered.js';

export interface RefineSpeedOptions {
  items: number;
  entities: number;
  /** Timed queries of each kind (single-phrase, multi-phrase). */
  queries: number;
  /** Untimed queries of each kind run first in every mode. Default 20. */
  warmup?: number;
  limit?: number;
  dim?: number;
  seed?: number;
  /** HNSW build beam for this bench (REFERENT_HNSW_EF_CONSTRUCTION). Default 100 (the product's default is 200). */
  efConstruction?: number;
  /** Folder under which the temporary data folder is made. Default os.tmpdir(). */
  tmpBase?: string;
  /** Threads of the text tower's session. Default: OnnxSession's default (up to 4). */
  threads?: number;
}

export interface Figures {
  p50: number;
  p90: number;
  mean: number;
}

export interface ModeFigures {
  /** ms per query. */
  encodePlain: Figures;
  encodeRefined: Figures;
  plain: Figures;
  refined: Figures;
  /** Per-query differences refined − plain, ms. */
  overhead: Figures;
  /** mean(refined − plain) / mean(plain) and p50(refined − plain) / p50(plain), in %. */
  overheadPctMean: number;
  overheadPctP50: number;
  /** Search time without encoding (total − time inside encodeTexts). */
  plainSearchOnly: Figures;
  refinedSearchOnly: Figures;
}

export interface KindFigures {
  kind: 'single-phrase' | 'multi-phrase';
  queries: number;
  /** Texts per encoder call on the refined path (the query and its details). */
  textsPerRefinedCall: number;
  tokensMean: number;
  example: string;
  withTower: ModeFigures;
  zeroCost: ModeFigures;
  /** Aimed queries whose entity has an image among the hits (plain vs refined): a sanity figure. */
  targetFound: { aimed: number; plain: number; refined: number };
}

export interface RefineSpeedResult {
  options: Required<Omit<RefineSpeedOptions, 'tmpBase' | 'threads'>> & { threads: number };
  machine: { cpus: number; node: string };
  data: { items: number; linkedItems: number; entities: number; descriptions: number; phrases: number };
  build: { itemsSeconds: number; itemsPerSecond: number; textsSeconds: number };
  open: { seconds: number; indexBuildSeconds: number; referencesSeconds: number; otherSeconds: number; indexSource: string; indexReason?: string; references: number };
  tower: { modelMiB: number; generateSeconds: number; openSeconds: number };
  /** Where the refined path's time goes (zero-cost encoder, a separate pass): mean ms and calls per query. */
  refinedBreakdown: Record<string, { ms: number; calls: number }>;
  kinds: KindFigures[];
  /** Texts no prepared vector was found for (should be 0). */
  unknownTexts: number;
}

const MODEL_ID = 'bench/clip-vit-b16-sized-random-weights';
const VOCAB = 49408;
const START_OF_TEXT = 49406;
const END_OF_TEXT = 49407;
const MAX_TOKENS = 77;

const SIZES = ['small', 'large', 'tiny', 'long', 'short', 'wide', 'narrow', 'heavy'];
const COLOURS = ['white', 'black', 'grey', 'pink', 'red', 'blue', 'green', 'yellow', 'orange', 'brown', 'beige', 'navy', 'purple', 'silver', 'gold', 'teal'];
const MATERIALS = ['steel', 'plastic', 'rubber', 'leather', 'cotton', 'wooden', 'aluminium', 'brass'];
const OBJECTS = ['bracket', 'cap', 'shoes', 'backpack', 'jacket', 'scarf', 'hinge', 'valve', 'gasket', 'helmet', 'gloves', 'hose', 'clamp', 'bolt', 'umbrella', 'belt'];
const SIDES = ['left', 'right', 'upper', 'lower', 'front', 'rear'];
const PLACES = ['door panel', 'engine bay', 'loading dock', 'north entrance', 'pump room', 'site office', 'car park', 'storage shelf'];

/** Words and punctuation marks, as a rough stand-in for CLIP's BPE count, plus start and end tokens. */
function tokenCount(text: string): number {
  return Math.min(MAX_TOKENS, (text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)?.length ?? 0) + 2);
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Token ids for a text: start, one id per word (hashed), end. Only the length matters for the cost. */
function tokenIds(text: string): number[] {
  const words = text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
  const ids = [START_OF_TEXT, ...words.map((w) => hashString(w) % (VOCAB - 2)), END_OF_TEXT];
  return ids.length <= MAX_TOKENS ? ids : [...ids.slice(0, MAX_TOKENS - 1), END_OF_TEXT];
}

/** A right-padded batch (pad = end token, as CLIP's tokenizer pads), to the longest row, as the product's tokenizer does. */
function tokenBatch(texts: readonly string[]): { input_ids: Extract<TensorInput, { type: 'int64' }>; attention_mask: Extract<TensorInput, { type: 'int64' }> } {
  const rows = texts.map(tokenIds);
  const seq = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * seq).fill(BigInt(END_OF_TEXT));
  const mask = new BigInt64Array(rows.length * seq);
  rows.forEach((row, r) =>
    row.forEach((id, t) => {
      ids[r * seq + t] = BigInt(id);
      mask[r * seq + t] = 1n;
    }),
  );
  const dims = [rows.length, seq];
  return { input_ids: { type: 'int64', data: ids, dims }, attention_mask: { type: 'int64', data: mask, dims } };
}

/**
 * Returns the prepared vector of each text (a hash-seeded unit vector for an unknown one) and costs
 * nothing: the data build's and the zero-cost runs' encoder. Counts the time spent inside encodeTexts.
 */
export class LookupEncoder implements Encoder {
  readonly modelId = MODEL_ID;
  readonly displayName = 'bench lookup encoder (prepared vectors)';
  readonly isDemo = false;
  spentNs = 0n;
  unknown = 0;

  constructor(
    readonly dim: number,
    private readonly vectors: ReadonlyMap<string, Float32Array>,
  ) {}

  lookup(texts: readonly string[]): Float32Array[] {
    return texts.map((t) => {
      const v = this.vectors.get(t);
      if (v) return Float32Array.from(v);
      this.unknown++;
      const gauss = gaussian(mulberry32(hashString(t)));
      return normalise(Float32Array.from({ length: this.dim }, () => gauss()));
    });
  }

  async encodeTexts(texts: readonly string[]): Promise<Float32Array[]> {
    const started = process.hrtime.bigint();
    const out = this.lookup(texts);
    this.spentNs += process.hrtime.bigint() - started;
    return out;
  }

  async encodeImages(): Promise<Float32Array[]> {
    throw new Error('the bench encoders take texts only');
  }

  async close(): Promise<void> {}
}

/** Runs the CLIP-sized text tower on the texts' token ids (batch = number of texts) for its cost, then returns the prepared vectors. */
export class TowerEncoder implements Encoder {
  readonly modelId = MODEL_ID;
  readonly displayName = 'bench text tower (CLIP ViT-B/16-sized, random weights)';
  readonly isDemo = false;
  spentNs = 0n;

  constructor(
    private readonly lookup: LookupEncoder,
    private readonly session: OnnxSession,
  ) {}

  get dim(): number {
    return this.lookup.dim;
  }

  async encodeTexts(texts: readonly string[]): Promise<Float32Array[]> {
    const started = process.hrtime.bigint();
    const out = (await this.session.run({ ...tokenBatch(texts) }, ['text_embeds'])).text_embeds;
    if (!out || out.dims[0] !== texts.length) throw new Error('the text tower returned no embeddings for the batch');
    const vectors = this.lookup.lookup(texts);
    this.spentNs += process.hrtime.bigint() - started;
    return vectors;
  }

  async encodeImages(): Promise<Float32Array[]> {
    throw new Error('the bench encoders take texts only');
  }

  async close(): Promise<void> {}
}

export interface BenchQuery {
  text: string;
  /** The entity it is aimed at (its index in the plan), or null for a generic query. */
  target: number | null;
}

export interface Plan {
  centres: Float32Array[];
  /** Each entity's appearance (a point in its cluster). */
  looks: Float32Array[];
  /** Each entity's three attribute phrases. */
  attributes: string[][];
  /** Entity index of each item in insertion order, or -1 for an unlinked image. */
  itemEntity: Int32Array;
  vectors: Map<string, Float32Array>;
  single: BenchQuery[];
  multi: BenchQuery[];
}

export function makePlan(o: { items: number; entities: number; queries: number; warmup: number; dim: number; seed: number }): Plan {
  const rand = mulberry32(o.seed);
  const gauss = gaussian(rand);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const unit = (): Float32Array => normalise(Float32Array.from({ length: o.dim }, () => gauss()));
  const near = (centre: Float32Array, spread: number): Float32Array => {
    const noise = unit();
    return normalise(Float32Array.from(centre, (c, i) => c + spread * noise[i]!));
  };
  const centres = Array.from({ length: Math.max(1, Math.round(Math.sqrt(o.items))) }, unit);
  const looks = Array.from({ length: o.entities }, () => near(pick(centres), 0.6));

  const vectors = new Map<string, Float32Array>();
  const concepts = COLOURS.flatMap((c) => OBJECTS.map((obj) => `${c} ${obj}`));
  for (const c of concepts) vectors.set(c, unit());
  const attributes = looks.map(() => {
    const chosen = new Set<string>();
    while (chosen.size < 3) chosen.add(pick(concepts));
    return [...chosen];
  });

  // 2–4 images per entity (3 on average), the rest unlinked; shuffled so the index sees them mixed.
  const itemEntity = new Int32Array(o.items).fill(-1);
  let next = 0;
  for (let e = 0; e < o.entities && next < o.items; e++) {
    const n = 2 + Math.floor(rand() * 3);
    for (let k = 0; k < n && next < o.items; k++) itemEntity[next++] = e;
  }
  for (let i = o.items - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [itemEntity[i], itemEntity[j]] = [itemEntity[j]!, itemEntity[i]!];
  }

  // Queries: half aimed at an entity, half generic (near a cluster centre). Texts are unique.
  const fresh = (make: () => string): string => {
    for (;;) {
      const text = make();
      if (!vectors.has(text)) return text;
    }
  };
  const lead = () => `${pick(SIZES)} ${pick(COLOURS)} ${pick(MATERIALS)} ${pick(OBJECTS)}`;
  const count = o.queries + o.warmup;
  const aim = (i: number): { target: number | null; base: Float32Array } => {
    const target = i % 2 === 0 && o.entities > 0 ? Math.floor(rand() * o.entities) : null;
    return { target, base: target === null ? pick(centres) : looks[target]! };
  };
  const single = Array.from({ length: count }, (_, i): BenchQuery => {
    const { target, base } = aim(i);
    const text = fresh(() => `a ${lead()} from the ${pick(SIDES)} ${pick(PLACES)}`);
    vectors.set(text, near(base, 0.5));
    return { text, target };
  });
  const multi = Array.from({ length: count }, (_, i): BenchQuery => {
    const { target, base } = aim(i);
    const [a, b, c] = target === null ? [pick(concepts), pick(concepts), pick(concepts)] : shuffled(attributes[target]!, rand);
    const first = fresh(lead);
    const text = fresh(() => `${first} with ${a}, ${b} and ${c}`);
    vectors.set(text, near(base, 0.5));
    vectors.set(first, near(base, 0.6));
    for (const phrase of splitPhrases(text)) if (!vectors.has(phrase)) vectors.set(phrase, unit());
    return { text, target };
  });
  return { centres, looks, attributes, itemEntity, vectors, single, multi };
}

function shuffled<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Writes the catalogue through the Catalog API. Returns timings and counts. */
export function buildCatalogue(
  file: string,
  plan: Plan,
  o: { items: number; dim: number; seed: number },
  progress: Progress,
): { build: RefineSpeedResult['build']; data: RefineSpeedResult['data'] } {
  const rand = mulberry32(o.seed + 1);
  const gauss = gaussian(rand);
  const noise = new Float32Array(o.dim);
  const near = (centre: Float32Array, spread: number): Float32Array => {
    for (let i = 0; i < o.dim; i++) noise[i] = gauss();
    normalise(noise);
    return normalise(Float32Array.from(centre, (c, i) => c + spread * noise[i]!));
  };
  const catalog = SqliteCatalog.open(file);
  try {
    catalog.setModel({ modelId: MODEL_ID, dim: o.dim });
    const collection = catalog.ensureCollection('bench', 'part');
    const entityIds = new Int32Array(plan.looks.length).fill(-1);
    let linkedItems = 0;
    progress.start('adding items (Catalog.addItem)', o.items, 'items');
    let started = process.hrtime.bigint();
    for (let i = 0; i < o.items; i++) {
      const e = plan.itemEntity[i]!;
      const vector = e >= 0 ? near(plan.looks[e]!, 0.35) : near(plan.centres[Math.floor(rand() * plan.centres.length)]!, 0.6);
      const item = catalog.addItem(
        { collectionId: collection.id, hash: `h${i}`, mediaKey: `m${i}`, width: 640, height: 480, entityLabel: e >= 0 ? `entity ${e}` : null },
        { modelId: MODEL_ID, data: vector },
        null,
      );
      if (e >= 0) {
        entityIds[e] = item.entityId!;
        linkedItems++;
      }
      if (i % 500 === 499) progress.tick(500);
    }
    progress.update?.(o.items);
    progress.stop();
    const itemsSeconds = seconds(started);

    let descriptions = 0;
    let phrases = 0;
    progress.start('adding descriptions (Catalog.addText)', plan.looks.length, 'entities');
    started = process.hrtime.bigint();
    plan.looks.forEach((look, e) => {
      const entityId = entityIds[e]!;
      if (entityId < 0) return;
      const texts = 1 + Math.floor(rand() * 2);
      for (let t = 0; t < texts; t++) {
        const details = shuffled(plan.attributes[e]!, rand).slice(0, 2 + Math.floor(rand() * 2));
        const body = details.join(', ');
        const phraseVectors = details.map((d) => ({ body: d, vector: near(plan.vectors.get(d)!, 0.3) }));
        catalog.addText({ entityId, body, source: 'describe' }, { modelId: MODEL_ID, vector: near(look, 0.6), phrases: phraseVectors });
        descriptions++;
        phrases += details.length;
      }
      progress.tick(1);
    });
    progress.stop();
    const textsSeconds = seconds(started);
    const entities = entityIds.filter((id) => id >= 0).length;
    return {
      build: { itemsSeconds, itemsPerSecond: o.items / itemsSeconds, textsSeconds },
      data: { items: o.items, linkedItems, entities, descriptions, phrases },
    };
  } finally {
    catalog.close();
  }
}

export function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** A Progress that remembers when each labelled phase started and stopped, and forwards to another. */
function timedProgress(inner: Progress): Progress & { phases: Map<string, { start: bigint; stop?: bigint }> } {
  const phases = new Map<string, { start: bigint; stop?: bigint }>();
  let current: string | undefined;
  return {
    phases,
    start(label, total, unit) {
      current = label;
      phases.set(label, { start: process.hrtime.bigint() });
      inner.start(label, total, unit);
    },
    tick: (delta) => inner.tick(delta),
    update: (value) => inner.update?.(value),
    stop() {
      const phase = current === undefined ? undefined : phases.get(current);
      if (phase) phase.stop = process.hrtime.bigint();
      inner.stop();
    },
  };
}

export function figures(ms: readonly number[]): Figures {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p90: at(0.9), mean: ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length) };
}

interface Timed {
  totalMs: number;
  encodeMs: number;
  found: boolean;
}

async function timedSearch(
  deps: SearchDeps,
  encoder: { spentNs: bigint },
  query: BenchQuery,
  refine: boolean,
  limit: number,
  entityIdOf: (target: number) => Promise<number | undefined>,
): Promise<Timed> {
  const spent = encoder.spentNs;
  const started = process.hrtime.bigint();
  const hits = await searchItems(deps, { text: query.text, limit, refine }, { maxTextChars: 2000 });
  const totalNs = process.hrtime.bigint() - started;
  const target = query.target === null ? undefined : await entityIdOf(query.target);
  const more = target === undefined ? new Map() : await deps.catalog.getItems(hits.flatMap((h) => h.more));
  const found = target !== undefined && hits.some((h) => h.item.entityId === target || h.more.some((id) => more.get(id)?.entityId === target));
  return { totalMs: Number(totalNs) / 1e6, encodeMs: Number(encoder.spentNs - spent) / 1e6, found };
}

async function measureMode(
  deps: SearchDeps,
  encoder: { spentNs: bigint },
  queries: readonly BenchQuery[],
  warmup: number,
  limit: number,
  entityIdOf: (target: number) => Promise<number | undefined>,
): Promise<{ figures: ModeFigures; found: { aimed: number; plain: number; refined: number } }> {
  for (const q of queries.slice(0, warmup)) {
    await timedSearch(deps, encoder, q, false, limit, entityIdOf);
    await timedSearch(deps, encoder, q, true, limit, entityIdOf);
  }
  const plain: Timed[] = [];
  const refined: Timed[] = [];
  const timedQueries = queries.slice(warmup);
  for (const [i, q] of timedQueries.entries()) {
    // Alternate which mode goes first, so neither always runs on the caches the other warmed.
    if (i % 2 === 0) {
      plain.push(await timedSearch(deps, encoder, q, false, limit, entityIdOf));
      refined.push(await timedSearch(deps, encoder, q, true, limit, entityIdOf));
    } else {
      refined.push(await timedSearch(deps, encoder, q, true, limit, entityIdOf));
      plain.push(await timedSearch(deps, encoder, q, false, limit, entityIdOf));
    }
  }
  const plainF = figures(plain.map((t) => t.totalMs));
  const refinedF = figures(refined.map((t) => t.totalMs));
  const overhead = figures(refined.map((t, i) => t.totalMs - plain[i]!.totalMs));
  const aimed = timedQueries.filter((q) => q.target !== null).length;
  return {
    figures: {
      encodePlain: figures(plain.map((t) => t.encodeMs)),
      encodeRefined: figures(refined.map((t) => t.encodeMs)),
      plain: plainF,
      refined: refinedF,
      overhead,
      overheadPctMean: (100 * overhead.mean) / plainF.mean,
      overheadPctP50: (100 * overhead.p50) / plainF.p50,
      plainSearchOnly: figures(plain.map((t) => t.totalMs - t.encodeMs)),
      refinedSearchOnly: figures(refined.map((t) => t.totalMs - t.encodeMs)),
    },
    found: { aimed, plain: plain.filter((t) => t.found).length, refined: refined.filter((t) => t.found).length },
  };
}

/**
 * Where the refined path's time goes: wraps the parts it calls on this open Referent (instance
 * methods only, restored afterwards) and runs the queries once more with the zero-cost encoder.
 */
async function refinedBreakdown(referent: Referent, deps: SearchDeps, queries: readonly BenchQuery[], limit: number): Promise<Record<string, { ms: number; calls: number }>> {
  const spent = new Map<string, bigint>();
  const calls = new Map<string, number>();
  const restore: Array<() => void> = [];
  const wrap = <T extends object, K extends keyof T & string>(target: T, key: K, label: string): void => {
    const own = Object.getOwnPropertyDescriptor(target, key);
    const original = target[key] as unknown as (...args: unknown[]) => unknown;
    const wrapped = (...args: unknown[]): unknown => {
      const started = process.hrtime.bigint();
      try {
        return original.apply(target, args);
      } finally {
        spent.set(label, (spent.get(label) ?? 0n) + (process.hrtime.bigint() - started));
        calls.set(label, (calls.get(label) ?? 0) + 1);
      }
    };
    Object.defineProperty(target, key, { value: wrapped, configurable: true, writable: true });
    // Prototype methods come back by deleting the shadow; SqliteCatalog's arrow-function fields by their old descriptor.
    restore.push(() => (own ? Object.defineProperty(target, key, own) : delete (target as Record<string, unknown>)[key]));
  };
  wrap(referent.index, 'search', 'image index search (candidates)');
  wrap(referent.index, 'vectorsOf', 'candidate vectors (in-memory int8)');
  wrap(referent.index, 'catchUp', 'image index catch-up');
  wrap(referent.references, 'search', 'reference index search');
  wrap(referent.references, 'catchUp', 'references catch-up');
  wrap(referent.references, 'entityOf', 'linked-entity lookups');
  wrap(referent.references, 'imagesOf', 'entity images lookups');
  wrap(referent.references, 'get', 'reference lookups');
  wrap(referent.catalog, 'verdictsOn', 'catalogue: verdicts (feedback)');
  wrap(referent.catalog, 'getItems', 'catalogue: hit items');
  let totalNs = 0n;
  try {
    for (const q of queries) {
      const started = process.hrtime.bigint();
      await searchItems(deps, { text: q.text, limit, refine: true }, { maxTextChars: 2000 });
      totalNs += process.hrtime.bigint() - started;
    }
  } finally {
    for (const undo of restore) undo();
  }
  const perQuery = (ns: bigint) => Number(ns) / 1e6 / Math.max(1, queries.length);
  const out: Record<string, { ms: number; calls: number }> = {};
  let parts = 0n;
  for (const [label, ns] of spent) {
    out[label] = { ms: perQuery(ns), calls: (calls.get(label) ?? 0) / Math.max(1, queries.length) };
    // Lookups nested inside other wrapped calls do not exist here: every wrapped part is called by search.ts or pipeline.ts directly.
    parts += ns;
  }
  out['rest: refine() scoring, feedback, grouping, explanations'] = { ms: perQuery(totalNs - parts), calls: 1 };
  out['total (refined, zero-cost encoder)'] = { ms: perQuery(totalNs), calls: 1 };
  return out;
}

/** Builds the data folder, opens it, times plain and refined search; removes the folder. */
export async function runRefineSpeedBench(opts: RefineSpeedOptions, progress: Progress = silentProgress): Promise<RefineSpeedResult> {
  const o = { warmup: 20, limit: 10, dim: 512, seed: 42, efConstruction: 100, ...opts };
  if (o.entities * 4 > o.items) throw new Error(`--entities ${o.entities} needs at least ${o.entities * 4} items (2–4 images each)`);
  const threads = o.threads ?? Math.max(1, Math.min(4, availableParallelism()));
  const dir = await mkdtemp(join(o.tmpBase ?? tmpdir(), 'referent-refine-speed-'));
  let referent: Referent | undefined;
  let session: OnnxSession | undefined;
  try {
    const plan = makePlan(o);
    const { build, data } = buildCatalogue(dataPaths(dir).catalog, plan, o, progress);

    const config = parseConfig({
      env: { REFERENT_DATA_DIR: dir, REFERENT_OFFLINE: '1', REFERENT_HNSW_EF_CONSTRUCTION: String(o.efConstruction), REFERENT_MODELS_DIR: join(dir, 'models') },
    });
    const lookup = new LookupEncoder(o.dim, plan.vectors);
    const phases = timedProgress(progress);
    let started = process.hrtime.bigint();
    referent = await openReferent(config, { encoder: lookup, progress: phases });
    const openSeconds = seconds(started);
    const span = (label: string): number => {
      const p = phases.phases.get(label);
      return p?.stop === undefined ? 0 : Number(p.stop - p.start) / 1e9;
    };
    const indexBuildSeconds = span('Rebuilding the image index');
    const referencesSeconds = span('Building entity references');

    started = process.hrtime.bigint();
    const bytes = clipSizedTextTower();
    const generateSeconds = seconds(started);
    const modelPath = join(dir, 'clip-vit-b16-text-sized.onnx');
    await writeFile(modelPath, bytes);
    started = process.hrtime.bigint();
    session = await OnnxSession.open(modelPath, { threads });
    const towerOpenSeconds = seconds(started);
    const tower = new TowerEncoder(lookup, session);

    const zeroDeps: SearchDeps = { catalog: referent.catalog, encoder: lookup, index: referent.index, references: referent.references, method: referent.method };
    const towerDeps: SearchDeps = { ...zeroDeps, encoder: tower };
    const entityIds = new Map<number, number>();
    const entityIdOf = async (target: number): Promise<number | undefined> => {
      if (!entityIds.has(target)) {
        const found = (await referent!.catalog.findEntities(`entity ${target}`))[0];
        if (found) entityIds.set(target, found.id);
      }
      return entityIds.get(target);
    };

    const kinds: KindFigures[] = [];
    for (const [kind, queries] of [
      ['single-phrase', plan.single],
      ['multi-phrase', plan.multi],
    ] as const) {
      progress.start(`timing ${kind} queries`, 2, 'modes');
      const withTower = await measureMode(towerDeps, tower, queries, o.warmup, o.limit, entityIdOf);
      progress.tick(1);
      const zeroCost = await measureMode(zeroDeps, lookup, queries, o.warmup, o.limit, entityIdOf);
      progress.tick(1);
      progress.stop();
      const timed = queries.slice(o.warmup);
      const refinedTexts = timed.map((q) => {
        const phrases = splitPhrases(q.text);
        return [q.text, ...(phrases.length > 1 ? phrases : [])];
      });
      kinds.push({
        kind,
        queries: timed.length,
        textsPerRefinedCall: refinedTexts.reduce((a, t) => a + t.length, 0) / Math.max(1, timed.length),
        tokensMean: timed.reduce((a, q) => a + tokenCount(q.text), 0) / Math.max(1, timed.length),
        example: timed[0]?.text ?? '',
        withTower: withTower.figures,
        zeroCost: zeroCost.figures,
        targetFound: withTower.found,
      });
    }
    const breakdown = await refinedBreakdown(referent, zeroDeps, [...plan.single, ...plan.multi], o.limit);

    return {
      options: { items: o.items, entities: o.entities, queries: o.queries, warmup: o.warmup, limit: o.limit, dim: o.dim, seed: o.seed, efConstruction: o.efConstruction, threads },
      machine: { cpus: cpus().length, node: process.version },
      data,
      build,
      open: {
        seconds: openSeconds,
        indexBuildSeconds,
        referencesSeconds,
        otherSeconds: openSeconds - indexBuildSeconds - referencesSeconds,
        indexSource: referent.indexReport.source,
        ...(referent.indexReport.reason ? { indexReason: referent.indexReport.reason } : {}),
        references: referent.references.size(),
      },
      tower: { modelMiB: bytes.length / 2 ** 20, generateSeconds, openSeconds: towerOpenSeconds },
      refinedBreakdown: breakdown,
      kinds,
      unknownTexts: lookup.unknown,
    };
  } finally {
    await session?.close();
    await referent?.shutdown();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Human-readable report of one run. */
export function formatRefineSpeed(r: RefineSpeedResult): string {
  const o = r.options;
  const ms = (x: number) => x.toFixed(2).padStart(9);
  const row = (label: string, f: Figures) => `  ${label.padEnd(34)}${ms(f.p50)}${ms(f.p90)}${ms(f.mean)}`;
  const mode = (title: string, m: ModeFigures, withEncode: boolean): string[] => [
    `${title}`,
    ...(withEncode ? [row('encode, plain call', m.encodePlain), row('encode, refined call', m.encodeRefined)] : []),
    row('plain search, total', m.plain),
    row('refined search, total', m.refined),
    row('overhead (refined − plain, paired)', m.overhead),
    `  ${'overhead, % of plain'.padEnd(34)}${`${m.overheadPctP50.toFixed(1)}%`.padStart(9)}${''.padStart(9)}${`${m.overheadPctMean.toFixed(1)}%`.padStart(9)}   (p50: p50 Δ / p50 plain; mean: mean Δ / mean plain)`,
    ...(withEncode ? [row('plain, without encoding', m.plainSearchOnly), row('refined, without encoding', m.refinedSearchOnly)] : []),
  ];
  const b = r.build;
  const op = r.open;
  return [
    `Refinement overhead bench: ${r.data.items} items (${r.data.linkedItems} linked), ${r.data.entities} entities, ${r.data.descriptions} descriptions, ${r.data.phrases} detail phrases; ${o.dim}-d, seed ${o.seed}`,
    `machine: ${r.machine.cpus} cores, Node ${r.machine.node}; HNSW efConstruction ${o.efConstruction} (REFERENT_HNSW_EF_CONSTRUCTION set for this bench; product default 200), other settings at their defaults`,
    `data build: items ${b.itemsSeconds.toFixed(1)} s (${Math.round(b.itemsPerSecond)}/s, Catalog.addItem, one transaction each), descriptions ${b.textsSeconds.toFixed(1)} s (Catalog.addText)`,
    `open (openReferent): ${op.seconds.toFixed(1)} s = image index HNSW build ${op.indexBuildSeconds.toFixed(1)} s + references ${op.referencesSeconds.toFixed(1)} s (${op.references} entities) + rest ${op.otherSeconds.toFixed(1)} s (snapshot saves, catalogue reads); index ${op.indexSource}${op.indexReason ? ` (${op.indexReason})` : ''}`,
    `text tower: CLIP ViT-B/16-sized, random weights, ${r.tower.modelMiB.toFixed(0)} MiB, generated ${r.tower.generateSeconds.toFixed(1)} s, session opened ${r.tower.openSeconds.toFixed(1)} s, ${o.threads} threads`,
    `queries: limit ${o.limit}, ${o.warmup} warm-up + ${o.queries} timed per kind and mode; plain and refined alternate per query; half the queries are aimed at an entity`,
    '',
    `ms per query${' '.repeat(24)}${'p50'.padStart(9)}${'p90'.padStart(9)}${'mean'.padStart(9)}`,
    ...r.kinds.flatMap((k) => [
      '',
      `${k.kind} queries (${k.queries}; ~${k.tokensMean.toFixed(1)} tokens, ${k.textsPerRefinedCall.toFixed(1)} texts per refined encoder call; e.g. "${k.example}")`,
      ...mode(' with the text tower:', k.withTower, true),
      ...mode(' zero-cost encoder (pure search and refinement):', k.zeroCost, false),
      `  aimed queries with their entity in the hits: plain ${k.targetFound.plain}/${k.targetFound.aimed}, refined ${k.targetFound.refined}/${k.targetFound.aimed}`,
    ]),
    '',
    'where refined search time goes (zero-cost encoder, all queries once more; mean per query):',
    ...Object.entries(r.refinedBreakdown).map(([label, v]) => `  ${label.padEnd(58)}${ms(v.ms)} ms${label.startsWith('rest') || label.startsWith('total') ? '' : `  (${v.calls.toFixed(1)} calls)`}`),
    ...(r.unknownTexts > 0 ? [`warning: ${r.unknownTexts} texts had no prepared vector`] : []),
  ].join('\n');
}

export function parseRefineSpeedArgs(argv: string[]): RefineSpeedOptions & { json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      items: { type: 'string', default: '100000' },
      entities: { type: 'string' },
      queries: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '20' },
      'ef-construction': { type: 'string', default: '100' },
      seed: { type: 'string', default: '42' },
      threads: { type: 'string' },
      tmp: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, text: string, min = 1): number => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${text}"`);
    return v;
  };
  const items = int('items', values.items);
  return {
    items,
    entities: values.entities === undefined ? Math.round(items / 10) : int('entities', values.entities, 0),
    queries: int('queries', values.queries),
    warmup: int('warmup', values.warmup, 0),
    efConstruction: int('ef-construction', values['ef-construction']),
    seed: int('seed', values.seed),
    ...(values.threads === undefined ? {} : { threads: int('threads', values.threads) }),
    ...(values.tmp === undefined ? {} : { tmpBase: values.tmp }),
    json: values.json,
  };
}

async function main(): Promise<void> {
  const { json, ...opts } = parseRefineSpeedArgs(process.argv.slice(2));
  const { barProgress } = await import('./index-bench.js');
  const result = await runRefineSpeedBench(opts, barProgress());
  console.log(json ? JSON.stringify(result, null, 2) : formatRefineSpeed(result));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
