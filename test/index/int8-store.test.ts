import { describe, expect, it } from 'vitest';
import { Int8VectorStore } from '../../src/index/int8-store.js';
import { mulberry32 } from '../../src/random.js';
import { dot, normalize } from '../../src/vectors.js';

const randomUnit = (rand: () => number, dim: number) => normalize(Float32Array.from({ length: dim }, () => rand() - 0.5));

describe('Int8VectorStore', () => {
  it('gives dot products close enough that cosines move by less than 1e-3', () => {
    const rand = mulberry32(9);
    const store = new Int8VectorStore(512, 2);
    const vectors = Array.from({ length: 50 }, () => randomUnit(rand, 512));
    vectors.forEach((v, i) => store.set(i, v));
    const ids = vectors.map((_, i) => i).reverse();
    const queries = Array.from({ length: 3 }, () => randomUnit(rand, 512));
    const dots = store.batch(ids).dots(ids, queries);
    let worst = 0;
    ids.forEach((id, r) => queries.forEach((q, c) => (worst = Math.max(worst, Math.abs(dots[r * 3 + c]! - dot(q, vectors[id]!))))));
    expect(worst).toBeLessThan(1e-3);
    expect(store.size()).toBe(50);
  });

  it('replaces, deletes (keeping the others intact), skips unknown ids and keeps a zero vector', () => {
    const store = new Int8VectorStore(4);
    const axes = [0, 1, 2, 3].map((i) => Float32Array.from([0, 1, 2, 3], (j) => (i === j ? 1 : 0)));
    // The vector's coordinates, read back as its dot products with the axes.
    const get = (id: number) => {
      const batch = store.batch([id]);
      return batch.has(id) ? [...batch.dots([id], axes)] : undefined;
    };
    store.set(1, normalize(Float32Array.from([1, 0, 0, 0])));
    store.set(2, normalize(Float32Array.from([0, 1, 0, 0])));
    store.set(3, normalize(Float32Array.from([0, 0, 1, 0])));
    store.set(1, normalize(Float32Array.from([0, 0, 0, 1])));
    expect(get(1)).toEqual([0, 0, 0, 1]);
    store.delete(1);
    expect(get(1)).toBeUndefined();
    expect(get(3)).toEqual([0, 0, 1, 0]);
    expect(get(2)).toEqual([0, 1, 0, 0]);
    store.delete(42);
    expect(store.size()).toBe(2);
    store.set(4, new Float32Array(4));
    expect(get(4)).toEqual([0, 0, 0, 0]);
    const many = store.batch([2, 99, 3]);
    expect([2, 99, 3].map((id) => many.has(id))).toEqual([true, false, true]);
    expect([...many.dots([3, 2], axes)]).toEqual([0, 0, 1, 0, 0, 1, 0, 0]);
    expect(() => many.dots([99], axes)).toThrow(/99/);
  });
});
