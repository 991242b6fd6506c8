/**
 * Retrieval metrics of the text-to-person literature, as IRRA's `rank` defines them: for each query
 * the whole gallery is ranked; an image is relevant when it has the query's identity.
 * - CMC@k (Rank-k): share of queries with a relevant image in the top k;
 * - AP: mean over relevant images of (relevant so far / rank) at each relevant rank; mAP its mean;
 * - INP: (number of relevant) / (rank of the last relevant); mINP its mean.
 * Ties: the ranking is whatever order the caller gives (IRRA sorts with argsort; we sort stably, so
 * equal scores keep gallery order). Queries with no relevant image in the gallery are left out of
 * every metric and counted in `skipped` (IRRA would divide by zero). Values are percentages.
 */

export interface RankingMetrics {
  /** Rank-1/5/10 … in percent, keyed by k. */
  rank: Record<number, number>;
  mAP: number;
  mINP: number;
  queries: number;
  skipped: number;
}

/** One query's outcome: the 0-based positions of its relevant images in the ranking, ascending. */
export function relevantPositions<T>(ranking: readonly T[], isRelevant: (g: T) => boolean): number[] {
  const out: number[] = [];
  ranking.forEach((g, i) => {
    if (isRelevant(g)) out.push(i);
  });
  return out;
}

/** Aggregates per-query relevant positions into CMC, mAP and mINP (percent). */
export function rankingMetrics(perQuery: readonly (readonly number[])[], ks: readonly number[] = [1, 5, 10]): RankingMetrics {
  const rank: Record<number, number> = Object.fromEntries(ks.map((k) => [k, 0]));
  let ap = 0;
  let inp = 0;
  let counted = 0;
  for (const positions of perQuery) {
    if (positions.length === 0) continue;
    counted++;
    const first = positions[0]!;
    for (const k of ks) if (first < k) rank[k]!++;
    let precisionSum = 0;
    positions.forEach((pos, i) => (precisionSum += (i + 1) / (pos + 1)));
    ap += precisionSum / positions.length;
    inp += positions.length / (positions[positions.length - 1]! + 1);
  }
  const pct = (x: number) => (counted === 0 ? 0 : (100 * x) / counted);
  return {
    rank: Object.fromEntries(ks.map((k) => [k, pct(rank[k]!)])),
    mAP: pct(ap),
    mINP: pct(inp),
    queries: counted,
    skipped: perQuery.length - counted,
  };
}
