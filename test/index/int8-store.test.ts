import { describe, expect, it } from 'vitest';
import { Int8VectorStore } from '../../src/index/int8-store.js';
import { mulberry32 } from '../../src/random.js';
import { dot, normalize } from '../../src/vectors.js';

const randomUnit = (rand: () => number, dim: number) => normalize(Float32Array.from({ length: dim }, () => rand() - 0.5));

describe('Int8VectorStore', () => {
  it('decodes vectors closely enough that cosines move by less than 1e-3', () => {
    const rand = mulberry32(9);
    const store = new Int8VectorStore(512, 2);
    const vectors = Array.from({ length: 50 }, () => randomUnit(rand, 512));
    vectors.forEach((v, i) => store.set(i, v));
    const decoded = store.getMany(vectors.map((_, i) => i));
    let worst = 0;
    for (let i = 0; i < 50; i++) {
      const q = randomUnit(rand, 512);
      worst = Math.max(worst, Math.abs(dot(q, decoded.get(i)!) - dot(q, vectors[i]!)));
    }
    expect(worst).toBeLessThan(1e-3);
    expect(store.size()).toBe(50);
  });

  it('replaces, deletes (keeping the others intact), skips unknown ids and keeps a zero vector', () => {
    const store = new Int8VectorStore(4);
    const get = (id: number) => {
      const v = store.getMany([id]).get(id);
      return v && [...v];
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
    const many = store.getMany([2, 99, 3]);
    expect([...many.keys()]).toEqual([2, 3]);
    expect([...many.get(3)!]).toEqual([0, 0, 1, 0]);
  });
});
