/**
 * What the engines bench measures the same way on both engines: the exact answers, recall@10 and
 * latency of an image search function (all collections, and one collection of several), and the
 * product's refined search through `search()` on an open Referent. Plus a Progress that prints a
 * line now and then, which a log file keeps (a bar draws nothing when stderr is not a terminal).
 */
import { COLLECTION_SHARES, type EnginePlan, exactTopK, type PlanQuery } from './engine-data.js';
import type { Progress } from '../src/progress.js';
import type { Referent } from '../src/open.js';
import { search } from '../src/search/search.js';

export const K = 10;

export interface Latency {
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
}

export interface SearchFigures extends Latency {
  recallAt10: number;
}

export interface SearchReport {
  all: SearchFigures;
  /** Each query limited to one collection (each collection equally often). */
  one: SearchFigures;
  /** The queries limited to the smallest collection (4% of the items). */
  smallest: SearchFigures & { queries: number };
}

/** Exact answers per query as item indices: over every item, and within the query's collection. */
export interface Truth {
  all: number[][];
  one: number[][];
  /** Time of the unfiltered scans, for comparison (JavaScript, one core). */
  scan: Latency;
}

export function exactTruth(plan: EnginePlan, progress: Progress): Truth {
  const all: number[][] = [];
  const one: number[][] = [];
  const ms: number[] = [];
  progress.start('exact scan (brute force, JavaScript)', plan.queries.length, 'queries');
  for (const q of plan.queries) {
    const started = performance.now();
    all.push(exactTopK(plan, q.vector, K));
    ms.push(performance.now() - started);
    one.push(exactTopK(plan, q.vector, K, q.collection));
    progress.tick(1);
  }
  progress.stop();
  return { all, one, scan: latency(ms) };
}

export function latency(ms: readonly number[]): Latency {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50Ms: at(0.5), p95Ms: at(0.95), meanMs: ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length) };
}

/** Share of the exact top 10 found, over all the queries given (by their positions in plan.queries). */
function recall(truth: number[][], found: number[][], which: readonly number[]): number {
  let hits = 0;
  let total = 0;
  for (const i of which) {
    const got = new Set(found[i]);
    hits += truth[i]!.filter((x) => got.has(x)).length;
    total += truth[i]!.length;
  }
  return total === 0 ? 1 : hits / total;
}

/** An engine's image search: the item ids of the top K, best first; `collection` limits it to one. */
export type ImageSearch = (q: Float32Array, collection?: number) => Promise<number[]> | number[];

/**
 * Times `run` on the warm-up queries (untimed), then on every query unfiltered and limited to its
 * collection (alternating which goes first), and scores the answers against the exact ones.
 */
export async function measureSearch(plan: EnginePlan, truth: Truth, indexOf: ReadonlyMap<number, number>, run: ImageSearch): Promise<SearchReport> {
  for (const q of plan.warmup) {
    await run(q.vector);
    await run(q.vector, q.collection);
  }
  const found = { all: [] as number[][], one: [] as number[][] };
  const ms = { all: [] as number[], one: [] as number[] };
  const timed = async (kind: 'all' | 'one', q: PlanQuery): Promise<void> => {
    const started = performance.now();
    const ids = await run(q.vector, kind === 'one' ? q.collection : undefined);
    ms[kind].push(performance.now() - started);
    found[kind].push(ids.map((id) => indexOf.get(id) ?? -1));
  };
  for (const [i, q] of plan.queries.entries()) {
    for (const kind of i % 2 === 0 ? (['all', 'one'] as const) : (['one', 'all'] as const)) await timed(kind, q);
  }
  const every = plan.queries.map((_, i) => i);
  const small = every.filter((i) => plan.queries[i]!.collection === COLLECTION_SHARES.length - 1);
  return {
    all: { ...latency(ms.all), recallAt10: recall(truth.all, found.all, every) },
    one: { ...latency(ms.one), recallAt10: recall(truth.one, found.one, every) },
    smallest: { ...latency(small.map((i) => ms.one[i]!)), recallAt10: recall(truth.one, found.one, small), queries: small.length },
  };
}

export interface RefinedReport {
  all: Latency;
  one: Latency;
  /** Queries aimed at an entity whose first hit is one of its photos (unfiltered): a sanity figure. */
  aimedFirst: { hits: number; aimed: number };
}

/**
 * The product's refined search (references, verdicts, grouping, explanations) through `search()`,
 * limit 10, over all collections and within the query's collection.
 */
export async function measureRefined(referent: Referent, plan: EnginePlan, collectionIds: readonly number[], entityIds: readonly number[]): Promise<RefinedReport> {
  const limits = { maxTextChars: 2000 };
  const ask = (q: PlanQuery, filtered: boolean) =>
    search(referent, { text: q.text, limit: K, refine: true, ...(filtered ? { collectionIds: new Set([collectionIds[q.collection]!]) } : {}) }, limits);
  for (const q of plan.warmup) {
    await ask(q, false);
    await ask(q, true);
  }
  const ms = { all: [] as number[], one: [] as number[] };
  let hits = 0;
  let aimed = 0;
  for (const [i, q] of plan.queries.entries()) {
    for (const filtered of i % 2 === 0 ? [false, true] : [true, false]) {
      const started = performance.now();
      const found = await ask(q, filtered);
      ms[filtered ? 'one' : 'all'].push(performance.now() - started);
      if (!filtered && q.target >= 0) {
        aimed++;
        if (found.hits[0]?.item.entityId === entityIds[q.target]) hits++;
      }
    }
  }
  return { all: latency(ms.all), one: latency(ms.one), aimedFirst: { hits, aimed } };
}

/**
 * Prints `label: done/total unit (rate/s)` to stderr at most every `everyMs` and when the phase ends.
 */
export function lineProgress(everyMs = 15_000, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Progress {
  let label = '';
  let total: number | undefined;
  let unit = '';
  let done = 0;
  let started = 0;
  let last = 0;
  const line = (): string => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? ` (${Math.round(done / seconds)}/s)` : '';
    return `  … ${label}: ${done}${total === undefined ? '' : `/${total}`} ${unit}${rate}, ${seconds.toFixed(0)} s`;
  };
  return {
    start(l, t, u = '') {
      [label, total, unit, done] = [l, t, u, 0];
      started = last = performance.now();
    },
    tick(delta = 1) {
      done += delta;
      const now = performance.now();
      if (now - last >= everyMs) {
        last = now;
        write(line());
      }
    },
    update(value) {
      done = value;
    },
    stop() {
      if (performance.now() - started >= 1000) write(`${line()}: done`);
    },
  };
}
