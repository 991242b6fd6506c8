/**
 * Global fusion (MMRef's reference construction): the robust centre of one entity's vectors in one
 * modality. Start from the normalised mean, then re-weight each vector by a softmax of its cosine to
 * the current centre, twice. Consistent photos or descriptions pull the centre; an inconsistent one
 * ("pink cap" among "white cap"s) gets a small weight. Pure; inputs and output are unit vectors.
 */
import { dot, normalize } from '../vectors.js';

export interface FusionOptions {
  /** Softmax temperature over cosines to the centre; smaller discounts outliers harder. */
  tau: number;
  /** Re-weighting rounds after the mean (docs/search.md: two). */
  rounds: number;
}

export const DEFAULT_FUSION: FusionOptions = { tau: 0.1, rounds: 2 };

/** Softmax of `scores / tau`, numerically stable. */
export function softmax(scores: readonly number[], tau: number): number[] {
  if (scores.length === 0) return [];
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp((s - max) / tau));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/** Unit-length weighted sum Σ w_i x_i. */
export function weightedCentre(vectors: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const out = new Float32Array(vectors[0]!.length);
  vectors.forEach((v, i) => {
    const w = weights[i]!;
    for (let d = 0; d < v.length; d++) out[d]! += w * v[d]!;
  });
  return normalize(out);
}

/** The fused reference and the weight each input ended with; null for no vectors. */
export function fuse(vectors: readonly Float32Array[], options: FusionOptions = DEFAULT_FUSION): { centre: Float32Array; weights: number[] } | null {
  if (vectors.length === 0) return null;
  let weights = vectors.map(() => 1 / vectors.length);
  let centre = weightedCentre(vectors, weights);
  for (let round = 0; round < options.rounds; round++) {
    weights = softmax(
      vectors.map((v) => dot(v, centre)),
      options.tau,
    );
    centre = weightedCentre(vectors, weights);
  }
  return { centre, weights };
}
