import { describe, expect, it } from 'vitest';
import { standOut, zScores } from '../../src/method/stats.js';

describe('standOut', () => {
  it('measures each value against the others, so a far outlier is not held to √(n − 1)', () => {
    const values = [1, 0.5, 0.52, 0.48, 0.5];
    const out = standOut(values);
    // The others: mean 0.5 and a tiny deviation; so the floor, half the deviation of all five, holds.
    const allSd = Math.sqrt(values.reduce((a, b) => a + (b - 0.6) ** 2, 0) / 5);
    const others = Math.sqrt((0.02 ** 2 * 2) / 4);
    expect(others).toBeLessThan(allSd / 2);
    expect(out[0]).toBeCloseTo((1 - 0.5) / (allSd / 2), 10);
    expect(out[0]).toBeGreaterThan(4.9);
    expect(Math.max(...zScores(values))).toBeLessThanOrEqual(Math.sqrt(4) + 1e-9);
    // An ordinary value: the rest (with the outlier) have mean 0.625, deviation ≈ 0.2165.
    const rest = [1, 0.52, 0.48, 0.5];
    const mean = rest.reduce((a, b) => a + b, 0) / 4;
    const sd = Math.sqrt(rest.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
    expect(out[1]).toBeCloseTo((0.5 - mean) / Math.max(sd, allSd / 2), 10);
  });

  it('keeps NaN for a missing value, leaves it out of the others, and falls back to z-scores under three values', () => {
    const out = standOut([1, NaN, 0.5, 0.5]);
    expect(out[1]).toBeNaN();
    expect(out[0]).toBeCloseTo((1 - 0.5) / (0.2357022603955158 / 2), 6);
    expect([...standOut([1, 0])]).toEqual([...zScores([1, 0])]);
    expect([...standOut([0.3, 0.3, 0.3])]).toEqual([0, 0, 0]);
  });
});
