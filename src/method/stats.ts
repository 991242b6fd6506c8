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

/**
 * How far each value stands out from the others: (x_i − mean of the rest) / deviation of the rest,
 * the deviation taken as at least half that of all values (so two near-equal others do not make any
 * difference look huge). Unlike a z-score, whose largest value is √(n − 1) however far the outlier,
 * a value far from all the others gets a score as large as its distance. Non-finite values stay NaN
 * and are left out of the others; fewer than three finite values fall back to z-scores.
 */
export function standOut(values: ArrayLike<number>): Float64Array {
  const all = meanStd(values);
  let n = 0;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    n++;
    sum += v;
    squares += v * v;
  }
  if (n < 3 || all.std <= 1e-12) return zScores(values);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      out[i] = NaN;
      continue;
    }
    const mean = (sum - v) / (n - 1);
    const variance = Math.max(0, (squares - v * v) / (n - 1) - mean * mean);
    out[i] = (v - mean) / Math.max(Math.sqrt(variance), all.std / 2);
  }
  return out;
}
