/** Standardisation helpers for the refinement. Pure. */

/** Mean and standard deviation of the finite values (population form); std 0 for fewer than two. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  if (n === 0) return { mean: 0, std: 0 };
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) sq += (v - mean) ** 2;
  }
  return { mean, std: Math.sqrt(sq / n) };
}

/**
 * z-scores of `values`. A constant component carries no ranking information, so it becomes all
 * zeros (rather than NaN); non-finite inputs (a term an entity lacks) stay NaN.
 */
export function zScores(values: ArrayLike<number>): Float64Array {
  const { mean, std } = meanStd(values);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = !Number.isFinite(v) ? NaN : std > 1e-12 ? (v - mean) / std : 0;
  }
  return out;
}
