/**
 * Reference-based refinement (DESIGN.md "The method", step 2–3). Pure and synchronous: the caller
 * gathers the candidate images (their vectors and linked entities) and the references of the entities
 * that matter for this query, and gets every candidate back with its components and final score.
 *
 * Components, combined as S = z(initial) + λ_e·z(entity) + λ_r·refspace:
 * - initial: cos(q, v), standardised over the candidates;
 * - entity: E(q, e) of v's entity when v is linked, else Σ_e p(e|v)·E(q, e) + p(none|v)·z(initial)
 *   (soft evidence), with E standardised over the entities. An image that looks like no known entity
 *   keeps its own similarity as evidence, so it competes fairly with look-alikes that happen to have
 *   references (without this, refinement cost Rank-1 on objects nobody had described);
 * - refspace: Σ_e p(e|q)·p(e|v), the probability that query and image refer to the same entity. It
 *   enters as a probability, not standardised, so it adds nothing when no entity is likely (a
 *   standardised near-constant would only amplify noise).
 * Profiles p(·|q) and p(·|v) are softmaxes over the top-k entities plus a "none of them" option, on
 * similarities standardised over all (row, entity) pairs, so the temperature and the "none" level
 * are in standard deviations and do not depend on the encoder's cosine scale. A linked image's
 * profile is its entity. Higher score = better throughout.
 */
import { dot } from '../vectors.js';
import { dotMatrix } from './dot-matrix.js';
import { meanStd, zScores } from './stats.js';

/** One entity's multi-modal reference. Vectors are unit length. */
export interface EntityReference {
  entityId: number;
  /** Fused description reference; null when the entity has no description. */
  text: Float32Array | null;
  /** Fused photo reference; null when the entity has no photo. */
  image: Float32Array | null;
  /** Vectors of the entity's detail phrases. */
  details: readonly Float32Array[];
}

export interface RefineQuery {
  /** The query vector (unit). */
  vector: Float32Array;
  /** Vectors of the query's details (text queries); empty for a photo alone. */
  details: readonly Float32Array[];
}

/**
 * The candidates' image vectors for one query, as dot products in batches: the product keeps them
 * quantised in memory and never widens them into arrays one by one. Vectors are unit length.
 */
export interface CandidateVectors {
  has(itemId: number): boolean;
  /** result[r · columns.length + c] = v(itemIds[r]) · columns[c]; every id must be present. */
  dots(itemIds: readonly number[], columns: readonly Float32Array[]): Float32Array;
}

/** CandidateVectors over plain float32 vectors (evaluation, tests). */
export function float32Vectors(vectors: ReadonlyMap<number, Float32Array>): CandidateVectors {
  return {
    has: (id) => vectors.has(id),
    dots: (ids, columns) => dotMatrix(ids.map((id) => vectors.get(id)!), columns),
  };
}

export interface RefineCandidate {
  itemId: number;
  /** The entity this image is linked to, if any. */
  entityId: number | null;
  /**
   * cos(q, v) when the caller has it exactly (the index search); computed from the image's vector
   * otherwise. The vector is needed unless `initial` is given and the image is linked to one of the
   * given references.
   */
  initial?: number;
}

export interface RefineParams {
  /** Entity score E(q, e) = weighted mean of the terms the entity has (text ref, image ref, details). */
  textWeight: number;
  imageWeight: number;
  detailWeight: number;
  /** λ_e and λ_r of S = z(initial) + λ_e·z(entity) + λ_r·refspace (refspace is a probability). */
  entityWeight: number;
  refspaceWeight: number;
  /** Entities kept in each profile. */
  profileK: number;
  /** Profile softmax temperature, in standard deviations. */
  profileTau: number;
  /** Logit of "none of these entities", in standard deviations above the mean similarity. */
  noneLevel: number;
}

export interface Components {
  initial: number;
  entity: number;
  refspace: number;
}

export interface RefinedCandidate {
  itemId: number;
  /** The linked entity, or the most likely one for an unlinked image (null when "none" wins). */
  entityId: number | null;
  linked: boolean;
  /** Raw component values. */
  components: Components;
  /** Each component's weighted, standardised share of `final`. */
  contributions: Components;
  final: number;
}

/** detail(q, e): mean over query details of the best-matching entity detail. NaN when either side has none. */
export function detailScore(queryDetails: readonly Float32Array[], entityDetails: readonly Float32Array[]): number {
  if (queryDetails.length === 0 || entityDetails.length === 0) return NaN;
  let total = 0;
  for (const p of queryDetails) {
    let best = -Infinity;
    for (const d of entityDetails) best = Math.max(best, dot(p, d));
    total += best;
  }
  return total / queryDetails.length;
}

type EntityWeights = Pick<RefineParams, 'textWeight' | 'imageWeight' | 'detailWeight'>;

/** The weighted mean of the [weight, value] terms that have a weight and a finite value; NaN when none do. */
function weightedMean(terms: ReadonlyArray<readonly [number, number]>): number {
  let sum = 0;
  let weight = 0;
  for (const [w, s] of terms) {
    if (w > 0 && Number.isFinite(s)) {
      sum += w * s;
      weight += w;
    }
  }
  return weight > 0 ? sum / weight : NaN;
}

/** E(q, e): the weighted mean of the terms the entity has; NaN when it has none. */
export function entityScore(query: RefineQuery, ref: EntityReference, p: EntityWeights): number {
  return entityScores(query, [ref], p)[0]!;
}

/**
 * E(q, e) for every entity, with the reference dot products in one batch
 * (about 30 entities × 2 references per query).
 */
function entityScores(query: RefineQuery, entities: readonly EntityReference[], p: EntityWeights): number[] {
  const columns: Float32Array[] = [];
  const at = entities.map((ref) => ({ text: ref.text ? columns.push(ref.text) - 1 : -1, image: ref.image ? columns.push(ref.image) - 1 : -1 }));
  const sims = dotMatrix([query.vector], columns);
  return entities.map((ref, j) => {
    const { text, image } = at[j]!;
    return weightedMean([
      [p.textWeight, text < 0 ? NaN : sims[text]!],
      [p.imageWeight, image < 0 ? NaN : sims[image]!],
      [p.detailWeight, p.detailWeight > 0 ? detailScore(query.details, ref.details) : NaN],
    ]);
  });
}

/**
 * Softmax over the top-k of `logits` plus a "none" option at `noneLogit`; returns entity index →
 * probability for the kept entities (the rest of the mass is "none").
 */
export function profile(logits: ArrayLike<number>, k: number, tau: number, noneLogit: number): Map<number, number> {
  const idx = new Int32Array(Math.max(0, k));
  const p = new Float64Array(Math.max(0, k));
  const count = topSoftmax(logits, k, tau, noneLogit, idx, p);
  return new Map(Array.from({ length: count }, (_, n) => [idx[n]!, p[n]!]));
}

/**
 * `profile` for the hot path, into caller-owned arrays (it runs once per unlinked candidate): the
 * top k finite logits by insertion into a short list, best first (ties: the lower index first),
 * and their softmax probabilities. Returns how many were kept.
 */
function topSoftmax(logits: ArrayLike<number>, k: number, tau: number, noneLogit: number, idx: Int32Array, p: Float64Array): number {
  let count = 0;
  for (let i = 0; i < logits.length && k > 0; i++) {
    const x = logits[i]!;
    if (!Number.isFinite(x) || (count === k && x <= logits[idx[k - 1]!]!)) continue;
    let pos = count < k ? count++ : k - 1;
    for (; pos > 0 && logits[idx[pos - 1]!]! < x; pos--) idx[pos] = idx[pos - 1]!;
    idx[pos] = i;
  }
  let max = noneLogit;
  for (let n = 0; n < count; n++) max = Math.max(max, logits[idx[n]!]!);
  let total = Math.exp((noneLogit - max) / tau);
  for (let n = 0; n < count; n++) total += p[n] = Math.exp((logits[idx[n]!]! - max) / tau);
  for (let n = 0; n < count; n++) p[n]! /= total;
  return count;
}

/** Scores every candidate; returns them best first. With no entities, the order is plain cosine. */
export function refine(
  query: RefineQuery,
  candidates: readonly RefineCandidate[],
  vectors: CandidateVectors,
  entities: readonly EntityReference[],
  params: RefineParams,
  /** Entities an unlinked image may be attributed to (default: all given). */
  attributable?: ReadonlySet<number>,
): RefinedCandidate[] {
  const n = candidates.length;
  const k = params.profileK;
  const indexOf = new Map(entities.map((e, i) => [e.entityId, i]));
  const e = entityScores(query, entities, params);

  // Entity scores standardised over the entities: evidence is relative (an image with no likely
  // entity gets 0, the average), and p(e|q) has its temperature in standard deviations.
  const ez = zScores(e);
  const qShare = new Float64Array(entities.length);
  const idx = new Int32Array(k);
  const p = new Float64Array(k);
  if (meanStd(e).std > 1e-12) {
    const count = topSoftmax(ez, k, params.profileTau, params.noneLevel, idx, p);
    for (let t = 0; t < count; t++) qShare[idx[t]!] = p[t]!;
  }

  const initial = new Float64Array(n).fill(NaN);
  const missing: number[] = [];
  for (const [i, c] of candidates.entries()) {
    if (c.initial !== undefined) initial[i] = c.initial;
    else if (vectors.has(c.itemId)) missing.push(i);
  }
  const cosines = vectors.dots(
    missing.map((i) => candidates[i]!.itemId),
    [query.vector],
  );
  missing.forEach((i, r) => (initial[i] = cosines[r]!));
  const zi = zScores(initial);

  // p(·|v): a linked image's profile is its entity. An unlinked one gets a profile over the eligible
  // photo references, on similarities standardised over all (image, entity) pairs, computed in one
  // batch; "none of them" takes the rest of the mass, and with it the image keeps its own
  // standardised cosine as evidence, so it competes fairly with look-alikes that have references.
  const eligible: number[] = [];
  entities.forEach((ref, j) => ref.image && (!attributable || attributable.has(ref.entityId)) && eligible.push(j));
  const unlinked: number[] = [];
  for (const [i, c] of candidates.entries()) if ((c.entityId === null || !indexOf.has(c.entityId)) && vectors.has(c.itemId)) unlinked.push(i);
  const sims = vectors.dots(
    unlinked.map((i) => candidates[i]!.itemId),
    eligible.map((j) => entities[j]!.image!),
  );
  const { mean, std } = meanStd(sims);
  const noneWeight = entities.length === 0 ? 0 : 1;
  const entity = new Float64Array(n);
  const refspace = new Float64Array(n);
  const attributed: Array<number | null> = new Array<number | null>(n).fill(null);
  candidates.forEach((c, i) => {
    const own = c.entityId === null ? undefined : indexOf.get(c.entityId);
    if (own === undefined) return void (entity[i] = noneWeight * zi[i]!);
    entity[i] = Number.isFinite(ez[own]!) ? ez[own]! : 0;
    refspace[i] = qShare[own]!;
    attributed[i] = entities[own]!.entityId;
  });
  if (std > 1e-12) {
    const m = eligible.length;
    const row = new Float64Array(m);
    unlinked.forEach((i, u) => {
      for (let t = 0; t < m; t++) row[t] = (sims[u * m + t]! - mean) / std;
      const count = topSoftmax(row, k, params.profileTau, params.noneLevel, idx, p);
      let evidence = 0;
      let shared = 0;
      let mass = 0;
      let best = -1;
      for (let t = 0; t < count; t++) {
        const j = eligible[idx[t]!]!;
        const pj = p[t]!;
        if (Number.isFinite(ez[j]!)) evidence += pj * ez[j]!;
        shared += pj * qShare[j]!;
        mass += pj;
        if (best < 0 || pj > p[best]!) best = t;
      }
      const noneMass = Math.max(0, 1 - mass);
      entity[i] = evidence + noneMass * zi[i]!;
      refspace[i] = shared;
      // "Most likely entity" only when it beats the "none" option.
      attributed[i] = best >= 0 && p[best]! > noneMass ? entities[eligible[idx[best]!]!]!.entityId : null;
    });
  }

  const ze = zScores(entity);
  const out = candidates.map((c, i): RefinedCandidate => {
    const contributions = { initial: zi[i]!, entity: params.entityWeight * ze[i]!, refspace: params.refspaceWeight * refspace[i]! };
    return {
      itemId: c.itemId,
      entityId: c.entityId ?? attributed[i]!,
      linked: c.entityId !== null,
      components: { initial: initial[i]!, entity: entity[i]!, refspace: refspace[i]! },
      contributions,
      final: contributions.initial + contributions.entity + contributions.refspace,
    };
  });
  // Ties keep the initial order (stable sort on a list already in cosine order when the caller gives one).
  return out.sort((a, b) => b.final - a.final || b.components.initial - a.components.initial);
}
