/**
 * Reference-based refinement (docs/search.md, steps 2–3). Pure and synchronous: the caller
 * gathers the candidate images (their vectors and linked entities) and the references of the entities
 * that matter for this query, and gets every candidate back with its components and final score.
 *
 * S(v) = 2·(z(v) + λ_e·evidence(v)) / (1 + λ_e). z(v) is cos(q, v) standardised over the candidates
 * (mean μ, deviation σ, at least 1e-3); evidence(v) is how well the query matches v's referent, on
 * scales z can be compared with. (The factor keeps S on the scale of a sum of two standardised
 * terms, on which verdict weights, label bonuses and the chat's score bands are set.)
 * - an entity's photo term is (cos(q, photo reference) − μ) / σ: a photo reference is compared with
 *   the query exactly as a candidate image is, so it never outscores an image identical to a photo
 *   query;
 * - its description term (queries with a text) is how far cos(q, description reference) stands out
 *   from the other entities' (stats.ts `standOut`): a description equal to the query stands out as
 *   far as it is from the rest, where a z-score over all entities could not pass √(n − 1);
 * - a photo query is compared with photo references alone: a description sits across the modality
 *   gap, where the description nearest to every photo (a hub) would lift its entity for any photo
 *   (the demo's "white nylon washer"), and the photo reference already shows what a description
 *   could say about a photo;
 * - v's referent is its entity when linked; when unlinked, each entity by p(e|v) and, with
 *   p(none|v), v itself: a referent with one photo, v, and no description;
 * - every referent of v has v among its photos, so its photo term is max(entity's, z(v)): the
 *   references lift an image, they never pull it below its own similarity. Hence an image identical
 *   to a photo query stays first: its evidence is its own z, the highest any photo term can reach,
 *   and its z is the highest too;
 * - the evidence is the weighted mean of the terms the referent has.
 * Profiles p(·|v) are softmaxes over the top-k entities plus a "none of them" option, on similarities
 * standardised over all (image, entity) pairs, so the temperature and the "none" level are in
 * standard deviations. Higher score = better throughout.
 */
import { dotMatrix } from './dot-matrix.js';
import { topSoftmax } from './profile.js';
import { meanStd, standOut } from './stats.js';

/** One entity's multi-modal reference. Vectors are unit length. */
export interface EntityReference {
  entityId: number;
  /** Fused description reference; null when the entity has no description. */
  text: Float32Array | null;
  /** Fused photo reference; null when the entity has no photo. */
  image: Float32Array | null;
}

export interface RefineQuery {
  /** The query vector (unit). */
  vector: Float32Array;
  /** A photo with no text: entities are then compared by their photos only (see above). */
  photoOnly?: boolean;
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
  /** Weights of a referent's terms: its description reference and its photos. */
  textWeight: number;
  imageWeight: number;
  /** λ_e: the weight of the referent's evidence against the image's own z (see the header). */
  entityWeight: number;
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
}

export interface RefinedCandidate {
  itemId: number;
  /** The linked entity, or the most likely one for an unlinked image (null when "none" wins). */
  entityId: number | null;
  linked: boolean;
  /** initial: cos(q, v); entity: the evidence of v's referent, in standard deviations. */
  components: Components;
  /**
   * `final` split in two: initial, what the image's own similarity gives (2·z, as if its referent
   * were itself); entity, what its referent adds or takes beyond that. 0 for an image no entity lifts.
   */
  contributions: Components;
  final: number;
}

/** Each entity's terms for one query, on the scales the header gives; NaN where it has none. */
export interface EntityTerms {
  photo: Float64Array;
  description: Float64Array;
}

/**
 * The entities' terms, with the reference dot products in one batch. `scale` is the candidates'
 * cosine mean and (positive) deviation, on which the photo term is measured.
 */
export function entityTerms(query: RefineQuery, entities: readonly EntityReference[], scale: { mean: number; std: number }): EntityTerms {
  const columns: Float32Array[] = [];
  const at = entities.map((ref) => ({ text: ref.text ? columns.push(ref.text) - 1 : -1, image: ref.image ? columns.push(ref.image) - 1 : -1 }));
  const sims = dotMatrix([query.vector], columns);
  const photo = Float64Array.from(at, ({ image }) => (image < 0 ? NaN : (sims[image]! - scale.mean) / scale.std));
  const description = query.photoOnly ? new Float64Array(entities.length).fill(NaN) : standOut(Float64Array.from(at, ({ text }) => (text < 0 ? NaN : sims[text]!)));
  return { photo, description };
}

/**
 * The evidence of a referent for an image whose own standardised cosine is `own`: the weighted mean
 * of the referent's terms, its photo term raised to `own`. `j` < 0 is the image as its own referent.
 */
export function referentEvidence(terms: EntityTerms, j: number, own: number, w: Pick<RefineParams, 'textWeight' | 'imageWeight'>): number {
  const entityPhoto = j < 0 ? NaN : terms.photo[j]!;
  const photo = Number.isFinite(entityPhoto) ? Math.max(entityPhoto, own) : own;
  const description = j < 0 ? NaN : terms.description[j]!;
  if (!Number.isFinite(description) || w.textWeight <= 0) return photo;
  return (w.imageWeight * photo + w.textWeight * description) / (w.imageWeight + w.textWeight);
}

/**
 * Cosines from the int8 store are good to 1e-3 (int8-store.ts): a spread below that is rounding, and
 * standardising it would turn rounding into evidence (a query the encoder finds equally far from
 * every image, as the demo encoder does for words that name no colour).
 */
const MIN_COSINE_SPREAD = 1e-3;

/** The candidates' cosine mean and deviation, the deviation at least MIN_COSINE_SPREAD. */
function cosineScale(initial: Float64Array): { mean: number; std: number } {
  const { mean, std } = meanStd(initial);
  return { mean, std: Math.max(std, MIN_COSINE_SPREAD) };
}

/** cos(q, v) for every candidate: the caller's exact value where given, else from the vectors (NaN without one). */
function initialCosines(query: RefineQuery, candidates: readonly RefineCandidate[], vectors: CandidateVectors): Float64Array {
  const initial = new Float64Array(candidates.length).fill(NaN);
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
  return initial;
}

/**
 * p(e|v) for the candidates `unlinked` names (by index): a softmax over the eligible photo
 * references, on similarities standardised over all (image, entity) pairs, in one batch; "none of
 * them" keeps the rest of the mass. Returns candidate index → [entity index, p], best first.
 */
function attribute(
  candidates: readonly RefineCandidate[],
  unlinked: readonly number[],
  vectors: CandidateVectors,
  entities: readonly EntityReference[],
  params: RefineParams,
  attributable: ReadonlySet<number> | undefined,
): Map<number, Array<[number, number]>> {
  const eligible: number[] = [];
  entities.forEach((ref, j) => ref.image && (!attributable || attributable.has(ref.entityId)) && eligible.push(j));
  const rows = unlinked.filter((i) => vectors.has(candidates[i]!.itemId));
  const sims = vectors.dots(
    rows.map((i) => candidates[i]!.itemId),
    eligible.map((j) => entities[j]!.image!),
  );
  const { mean, std } = meanStd(sims);
  const profiles = new Map<number, Array<[number, number]>>();
  if (std <= 1e-12) return profiles;
  const k = params.profileK;
  const m = eligible.length;
  const row = new Float64Array(m);
  const idx = new Int32Array(k);
  const p = new Float64Array(k);
  rows.forEach((i, u) => {
    for (let t = 0; t < m; t++) row[t] = (sims[u * m + t]! - mean) / std;
    const count = topSoftmax(row, k, params.profileTau, params.noneLevel, idx, p);
    profiles.set(i, Array.from({ length: count }, (_, t): [number, number] => [eligible[idx[t]!]!, p[t]!]));
  });
  return profiles;
}

/** An unlinked image's evidence, Σ p(e|v)·E(e) + p(none|v)·E(itself), and its most likely entity (when it beats "none"). */
function unlinkedEvidence(terms: EntityTerms, profile: ReadonlyArray<[number, number]>, own: number, params: RefineParams): { evidence: number; likely: number | null } {
  let evidence = 0;
  let none = 1;
  for (const [j, pj] of profile) {
    evidence += pj * referentEvidence(terms, j, own, params);
    none -= pj;
  }
  none = Math.max(0, none);
  evidence += none * referentEvidence(terms, -1, own, params);
  const best = profile[0];
  return { evidence, likely: best && best[1] > none ? best[0] : null };
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
  const indexOf = new Map(entities.map((e, i) => [e.entityId, i]));
  const initial = initialCosines(query, candidates, vectors);
  const scale = cosineScale(initial);
  const zi = Float64Array.from(initial, (x) => (x - scale.mean) / scale.std);
  const terms = entityTerms(query, entities, scale);
  const own = candidates.map((c) => (c.entityId === null ? undefined : indexOf.get(c.entityId)));
  const unlinked = own.flatMap((j, i) => (j === undefined ? [i] : []));
  const profiles = attribute(candidates, unlinked, vectors, entities, params, attributable);

  const lambda = params.entityWeight;
  const out = candidates.map((c, i): RefinedCandidate => {
    const z = Number.isFinite(zi[i]!) ? zi[i]! : 0;
    const j = own[i];
    // With no entity every image is its own referent: S = 2·z, the plain cosine order.
    const scored = j !== undefined
      ? { evidence: referentEvidence(terms, j, z, params), likely: j }
      : unlinkedEvidence(terms, profiles.get(i) ?? [], z, params);
    const contributions = { initial: 2 * z, entity: (2 * lambda * (scored.evidence - z)) / (1 + lambda) };
    return {
      itemId: c.itemId,
      entityId: c.entityId ?? (scored.likely === null ? null : entities[scored.likely]!.entityId),
      linked: c.entityId !== null,
      components: { initial: initial[i]!, entity: scored.evidence },
      contributions,
      final: contributions.initial + contributions.entity,
    };
  });
  // Ties keep the initial order (stable sort on a list already in cosine order when the caller gives one).
  return out.sort((a, b) => b.final - a.final || b.components.initial - a.components.initial);
}
