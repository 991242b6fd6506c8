/**
 * `referent eval`: ranks the whole gallery for every query, plainly and with refinement, and reports
 * the metrics of IRRA's `rank` for both. Uses the product's own pipeline (src/method/pipeline.ts) over
 * exact in-memory search, so the figures measure the method, not HNSW recall.
 */
import { buildReference, type BuiltReference } from '../method/reference.js';
import type { FusionOptions } from '../method/fusion.js';
import { rankingMetrics, relevantPositions, type RankingMetrics } from '../method/metrics.js';
import { mergeEntityHits, refinedRanking, type PipelineParams, type RetrievalParts } from '../method/pipeline.js';
import { float32Vectors } from '../method/refine.js';
import { silentProgress, type Progress } from '../progress.js';
import { dot } from '../vectors.js';
import type { EvalDataset } from './dataset.js';

export interface EvalOptions {
  params: PipelineParams;
  fusion: FusionOptions;
  /** Skip the refined ranking (plain cosine only). */
  plainOnly?: boolean;
  progress?: Progress;
}

export interface EvalReport {
  plain: RankingMetrics;
  refined: RankingMetrics | null;
  /** Per query group (e.g. "ambiguous"), by whether the query's identity has a reference, and both. */
  groups: Record<string, { plain: RankingMetrics; refined: RankingMetrics | null }>;
  gallery: number;
  references: number;
}

/** Indices of the top k of `scores`, descending; equal scores keep index order (a stable ranking). */
export function topK(scores: Float64Array, k: number): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return order.slice(0, k);
}

function scoreAll(vectors: readonly Float32Array[], q: Float32Array): Float64Array {
  const out = new Float64Array(vectors.length);
  vectors.forEach((v, i) => (out[i] = dot(q, v)));
  return out;
}

interface Prepared {
  parts: RetrievalParts;
  imageIdentity: string[];
  identityWithReference: Set<string>;
  references: number;
  /** Cosine scores of the current query against every image, and the images ranked by them (per query). */
  scores: Float64Array;
  order: number[];
}

function prepare(data: EvalDataset, fusion: FusionOptions): Prepared {
  const identityIds = new Map<string, number>();
  const entityOf = (identity: string) => identityIds.get(identity) ?? (identityIds.set(identity, identityIds.size), identityIds.size - 1);
  const material = new Map<number, { images: Float32Array[]; texts: Float32Array[]; imageIds: number[] }>();
  const slot = (e: number) => material.get(e) ?? (material.set(e, { images: [], texts: [], imageIds: [] }), material.get(e)!);
  data.images.forEach((img, i) => {
    if (img.role !== 'reference') return;
    const m = slot(entityOf(img.identity));
    m.images.push(img.vector);
    m.imageIds.push(i);
  });
  for (const t of data.texts) {
    if (t.role !== 'reference') continue;
    const m = slot(entityOf(t.identity));
    m.texts.push(t.vector);
  }
  const refs = new Map<number, BuiltReference>();
  for (const [entityId, m] of material) refs.set(entityId, buildReference({ entityId, ...m }, fusion));
  const refList = [...refs.values()];
  const linked = data.images.map((img) => (img.role === 'reference' ? identityIds.get(img.identity)! : null));
  const imageVectors = data.images.map((i) => i.vector);
  const prepared: Prepared = {
    imageIdentity: data.images.map((i) => i.identity),
    identityWithReference: new Set([...identityIds.keys()]),
    references: refs.size,
    scores: new Float64Array(0),
    order: [],
    parts: {
      searchImages: async (_q, k) => prepared.order.slice(0, k).map((i) => ({ itemId: i, score: prepared.scores[i]! })),
      searchEntities: async (q, k) => {
        const byModality = (pick: (r: BuiltReference) => Float32Array | null) => {
          const withRef = refList.filter((r) => pick(r));
          const s = Float64Array.from(withRef.map((r) => dot(q, pick(r)!)));
          return topK(s, k).map((i) => withRef[i]!.entityId);
        };
        return mergeEntityHits(byModality((r) => r.text), byModality((r) => r.image), k);
      },
      imageVectors: async (ids) => float32Vectors(new Map(ids.map((id) => [id, imageVectors[id]!]))),
      linkedEntity: (id) => linked[id] ?? null,
      reference: (entityId) => refs.get(entityId),
      entityImages: (entityId, limit) => material.get(entityId)?.imageIds.slice(0, limit) ?? [],
    },
  };
  return prepared;
}

/** The result count the refined ranking is asked for (it sets the candidate depth K0 = max(100, 5 × limit)). */
const EVAL_LIMIT = 10;

export async function evaluate(data: EvalDataset, options: EvalOptions): Promise<EvalReport> {
  const progress = options.progress ?? silentProgress;
  const prepared = prepare(data, options.fusion);
  const queries = data.texts.filter((t) => t.role === 'query');
  const gallery = data.images.map((i) => i.vector);
  const plainPositions: number[][] = [];
  const refinedPositions: number[][] = [];
  const groupOf: string[][] = [];
  progress.start('Evaluating', queries.length, 'queries');
  for (const q of queries) {
    prepared.scores = scoreAll(gallery, q.vector);
    prepared.order = topK(prepared.scores, prepared.scores.length);
    const plain = prepared.order;
    const relevant = (i: number) => prepared.imageIdentity[i] === q.identity;
    plainPositions.push(relevantPositions(plain, relevant));
    if (!options.plainOnly) {
      const query = q.photo ? { vector: q.vector, photoOnly: true } : { vector: q.vector };
      const refined = (await refinedRanking(prepared.parts, query, EVAL_LIMIT, options.params)).map((c) => c.itemId);
      const head = new Set(refined);
      const ranking = [...refined, ...plain.filter((i) => !head.has(i))];
      refinedPositions.push(relevantPositions(ranking, relevant));
    }
    const reference = prepared.identityWithReference.has(q.identity) ? 'identity has a reference' : 'identity has no reference';
    groupOf.push(q.group ? [q.group, reference, `${q.group}, ${reference}`] : [reference]);
    progress.tick(1);
  }
  progress.stop();
  const subset = (positions: number[][], name: string) => positions.filter((_, i) => groupOf[i]!.includes(name));
  const names = [...new Set(groupOf.flat())].sort();
  const groups = Object.fromEntries(
    names.map((name) => [name, { plain: rankingMetrics(subset(plainPositions, name)), refined: options.plainOnly ? null : rankingMetrics(subset(refinedPositions, name)) }]),
  );
  return {
    plain: rankingMetrics(plainPositions),
    refined: options.plainOnly ? null : rankingMetrics(refinedPositions),
    groups,
    gallery: data.images.length,
    references: prepared.references,
  };
}
