import { describe, expect, it } from 'vitest';
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
