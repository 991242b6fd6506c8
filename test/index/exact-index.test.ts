import { describe, expect, it } from 'vitest';
import { ExactIndex } from '../../src/index/exact-index.js';
import { vectorIndexContract } from './vector-index.contract.js';

// A tiny initial capacity so the contract's growth test doubles the buffer many times.
vectorIndexContract('ExactIndex', (dim) => new ExactIndex(dim, 2));

describe('ExactIndex', () => {
  it('keeps the right vector under each id after swap-removes', () => {
    const index = new ExactIndex(2, 1);
    const unit = (deg: number) => Float32Array.from([Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)]);
    for (let d = 0; d < 90; d += 10) index.add(`d${d}`, unit(d));
    index.remove('d0'); // the last slot (d80) moves into slot 0
    index.remove('d40');
    for (const d of [10, 20, 30, 50, 60, 70, 80]) {
      expect(index.search(unit(d), 1)[0]).toEqual({ id: `d${d}`, score: expect.closeTo(1, 5) });
    }
    expect(index.size()).toBe(7);
  });

  it('copies vectors on add, so later changes by the caller do not leak in', () => {
    const index = new ExactIndex(2);
    const v = Float32Array.from([1, 0]);
    index.add('a', v);
    v[0] = -1;
    expect(index.search(Float32Array.from([1, 0]), 1)[0]?.score).toBeCloseTo(1, 6);
  });
});
