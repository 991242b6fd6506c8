import { describe, expect, it } from 'vitest';
import { evaluate, topK } from '../../src/eval/evaluate.js';
import { DEFAULT_FUSION_OPTIONS, DEFAULT_PIPELINE } from '../../src/method/defaults.js';
import { rankingMetrics, relevantPositions } from '../../src/method/metrics.js';

describe('ranking metrics (IRRA rank)', () => {
  it('computes Rank-k, AP and INP for one query with several relevant images, by hand', () => {
    // ranking: x R x R x x R  → relevant at positions 1, 3, 6 (0-based)
    const positions = relevantPositions(['a', 'R', 'b', 'R', 'c', 'd', 'R'], (g) => g === 'R');
    expect(positions).toEqual([1, 3, 6]);
    const m = rankingMetrics([positions], [1, 2, 5, 10]);
    expect(m.rank).toEqual({ 1: 0, 2: 100, 5: 100, 10: 100 });
    // AP = (1/2 + 2/4 + 3/7) / 3
    expect(m.mAP).toBeCloseTo((100 * (1 / 2 + 2 / 4 + 3 / 7)) / 3, 10);
    // INP = 3 relevant / rank 7 of the last one
    expect(m.mINP).toBeCloseTo((100 * 3) / 7, 10);
    expect(m.queries).toBe(1);
  });

  it('averages over queries and leaves out queries with no relevant image', () => {
    const m = rankingMetrics([[0], [4], []], [1, 5]);
    expect(m.queries).toBe(2);
    expect(m.skipped).toBe(1);
    expect(m.rank).toEqual({ 1: 50, 5: 100 });
    expect(m.mAP).toBeCloseTo(100 * ((1 + 1 / 5) / 2), 10);
    expect(m.mINP).toBeCloseTo(100 * ((1 + 1 / 5) / 2), 10);
  });

  it('gives zeros, not NaN, when no query has a relevant image', () => {
    const m = rankingMetrics([[], []]);
    expect(m).toEqual({ rank: { 1: 0, 5: 0, 10: 0 }, mAP: 0, mINP: 0, queries: 0, skipped: 2 });
  });

  it('scores a perfect ranking 100 everywhere', () => {
    const m = rankingMetrics([[0, 1, 2]]);
    expect(m.rank[1]).toBe(100);
    expect(m.mAP).toBeCloseTo(100, 10);
    expect(m.mINP).toBeCloseTo(100, 10);
  });
});

describe('ties in the evaluation ranking', () => {
  it('keeps gallery order among equal scores (a stable sort), as computed by hand', async () => {
    expect(topK(Float64Array.from([0.5, 0.9, 0.5, 0.9]), 4)).toEqual([1, 3, 0, 2]);
    const same = Float32Array.from([1, 0]);
    const other = Float32Array.from([0, 1]);
    // Gallery: g0 (identity B), g1 (A), g2 (A), g3 (B, orthogonal); g0–g2 tie for the query.
    const data = {
      dim: 2,
      images: [
        { id: 'g0', identity: 'B', role: 'gallery' as const, vector: same },
        { id: 'g1', identity: 'A', role: 'gallery' as const, vector: same },
        { id: 'g2', identity: 'A', role: 'gallery' as const, vector: same },
        { id: 'g3', identity: 'B', role: 'gallery' as const, vector: other },
      ],
      texts: [{ id: 'q', identity: 'A', role: 'query' as const, vector: same, details: [] }],
    };
    const r = await evaluate(data, { params: DEFAULT_PIPELINE, fusion: DEFAULT_FUSION_OPTIONS });
    // Ranking g0, g1, g2, g3: relevant at ranks 2 and 3. AP = (1/2 + 2/3)/2, INP = 2/3.
    expect(r.plain.rank[1]).toBe(0);
    expect(r.plain.rank[5]).toBe(100);
    expect(r.plain.mAP).toBeCloseTo(100 * ((1 / 2 + 2 / 3) / 2), 10);
    expect(r.plain.mINP).toBeCloseTo((100 * 2) / 3, 10);
    expect(r.refined).toEqual(r.plain);
  });
});
