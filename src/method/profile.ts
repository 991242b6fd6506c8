/**
 * Entity profiles p(·|v) for the refinement: a softmax over the top-k entities plus a "none of them"
 * option, so an image that looks like no entity in particular keeps most of its mass for itself.
 * Pure.
 */

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
export function topSoftmax(logits: ArrayLike<number>, k: number, tau: number, noneLogit: number, idx: Int32Array, p: Float64Array): number {
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
