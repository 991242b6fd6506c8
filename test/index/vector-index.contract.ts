/**
 * The VectorIndex contract: every implementation (exact, HNSW, a remote engine one day) runs this
 * same suite, so callers can swap them without re-learning edge cases.
 */
import { describe, expect, it } from 'vitest';
import { clusteredVectors } from '../../bench/clustered.js';
import { ErrorCode, isReferentError } from '../../src/errors.js';
import type { VectorIndex } from '../../src/index/vector-index.js';

/** Unit vector along axis `i` (plus an optional tilt toward axis `j`), for hand-checked scores. */
function axis(dim: number, i: number, j?: number, tilt = 0): Float32Array {
  const v = new Float32Array(dim);
  v[i] = Math.sqrt(1 - tilt * tilt);
  if (j !== undefined) v[j] = tilt;
  return v;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Exact top-k straight from the definition, independent of any index under test. */
function bruteForce(vectors: Map<string, Float32Array>, q: Float32Array, k: number): Array<{ id: string; score: number }> {
  return [...vectors]
    .map(([id, v]) => ({ id, score: dot(q, v) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

function fill(index: VectorIndex, n: number, dim: number, seed: number): Map<string, Float32Array> {
  const { vectors } = clusteredVectors({ n, dim, clusters: 8, seed });
  const byId = new Map(vectors.map((v, i) => [`item-${i}`, v] as const));
  for (const [id, v] of byId) index.add(id, v);
  return byId;
}

export function vectorIndexContract(name: string, make: (dim: number) => VectorIndex): void {
  describe(`VectorIndex contract: ${name}`, () => {
    it('is empty at first: no ids, no hits, nothing to remove', () => {
      const index = make(4);
      expect(index.dim).toBe(4);
      expect(index.size()).toBe(0);
      expect(index.ids()).toEqual([]);
      expect(index.has('a')).toBe(false);
      expect(index.search(axis(4, 0), 5)).toEqual([]);
      expect(index.remove('a')).toBe(false);
    });

    it('adds vectors and reports them through has, size and ids', () => {
      const index = make(4);
      index.add('a', axis(4, 0));
      index.add('b', axis(4, 1));
      expect(index.size()).toBe(2);
      expect(index.has('a')).toBe(true);
      expect(index.has('c')).toBe(false);
      expect(index.ids().sort()).toEqual(['a', 'b']);
    });

    it('returns a copy of a stored vector, and nothing for an unknown or removed id', () => {
      const index = make(4);
      const v = new Float32Array([0.6, 0.8, 0, 0]);
      index.add('a', v);
      const got = index.vector('a')!;
      expect([...got].map((x) => Number(x.toFixed(5)))).toEqual([0.6, 0.8, 0, 0]);
      got[0] = 9;
      expect(index.vector('a')![0]).toBeCloseTo(0.6, 5);
      expect(index.vector('b')).toBeUndefined();
      index.remove('a');
      expect(index.vector('a')).toBeUndefined();
    });

    it('replaces the vector when an id is added again', () => {
      const index = make(4);
      index.add('a', axis(4, 0));
      index.add('b', axis(4, 1));
      index.add('a', axis(4, 2));
      expect(index.size()).toBe(2);
      const hits = index.search(axis(4, 2), 2);
      expect(hits[0]).toEqual({ id: 'a', score: expect.closeTo(1, 4) });
      expect(hits.filter((h) => h.id === 'a')).toHaveLength(1);
      expect(index.search(axis(4, 0), 2).every((h) => h.score < 0.5)).toBe(true);
    });

    it('removes ids, which never come back from search', () => {
      const index = make(4);
      index.add('a', axis(4, 0));
      index.add('b', axis(4, 0, 1, 0.1));
      index.add('c', axis(4, 3));
      expect(index.remove('a')).toBe(true);
      expect(index.remove('a')).toBe(false);
      expect(index.has('a')).toBe(false);
      expect(index.size()).toBe(2);
      expect(index.search(axis(4, 0), 10).map((h) => h.id)).toEqual(['b', 'c']);
      index.add('a', axis(4, 2));
      expect(index.search(axis(4, 2), 1)[0]?.id).toBe('a');
    });

    it('orders hits by descending score, and scores are the dot products', () => {
      const dim = 32;
      const index = make(dim);
      const byId = fill(index, 300, dim, 7);
      const { queries } = clusteredVectors({ n: 300, dim, clusters: 8, seed: 7, queries: 5 });
      for (const q of queries) {
        const hits = index.search(q, 10);
        expect(hits).toHaveLength(10);
        for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
        for (const h of hits) expect(h.score).toBeCloseTo(dot(q, byId.get(h.id)!), 4);
        const truth = bruteForce(byId, q, 10);
        hits.forEach((h, i) => expect(h.score).toBeCloseTo(truth[i]!.score, 4));
      }
    });

    it('hand-made vectors score as expected', () => {
      const index = make(3);
      index.add('x', axis(3, 0));
      index.add('tilted', axis(3, 0, 1, 0.6)); // cos with x axis = 0.8
      index.add('y', axis(3, 1));
      index.add('minus-x', Float32Array.from([-1, 0, 0]));
      const hits = index.search(axis(3, 0), 4);
      expect(hits.map((h) => h.id)).toEqual(['x', 'tilted', 'y', 'minus-x']);
      [1, 0.8, 0, -1].forEach((s, i) => expect(hits[i]!.score).toBeCloseTo(s, 4));
    });

    it('returns every live vector when k exceeds the size, and nothing for k = 0', () => {
      const index = make(4);
      index.add('a', axis(4, 0));
      index.add('b', axis(4, 1));
      index.add('c', axis(4, 2));
      index.remove('b');
      expect(index.search(axis(4, 0), 50).map((h) => h.id)).toEqual(['a', 'c']);
      expect(index.search(axis(4, 0), 0)).toEqual([]);
    });

    it('restricts hits to ids the filter accepts', () => {
      const dim = 16;
      const index = make(dim);
      const byId = fill(index, 200, dim, 11);
      const even = (id: string): boolean => Number(id.split('-')[1]) % 2 === 0;
      const q = byId.get('item-1')!; // an odd id: its own best match is filtered out
      const hits = index.search(q, 10, even);
      expect(hits).toHaveLength(10);
      expect(hits.every((h) => even(h.id))).toBe(true);
      const truth = bruteForce(new Map([...byId].filter(([id]) => even(id))), q, 10);
      hits.forEach((h, i) => expect(h.score).toBeCloseTo(truth[i]!.score, 4));
      expect(index.search(q, 10, () => false)).toEqual([]);
    });

    it('grows past its initial capacity (thousands of vectors)', () => {
      const dim = 16;
      const index = make(dim);
      const byId = fill(index, 3000, dim, 5);
      expect(index.size()).toBe(3000);
      for (let i = 0; i < 3000; i += 250) {
        const [best] = index.search(byId.get(`item-${i}`)!, 1);
        expect(best).toEqual({ id: `item-${i}`, score: expect.closeTo(1, 4) });
      }
    });

    it('lists exactly the live ids', () => {
      const index = make(4);
      for (let i = 0; i < 50; i++) index.add(`id-${i}`, axis(4, i % 4));
      for (let i = 0; i < 50; i += 3) index.remove(`id-${i}`);
      index.add('id-1', axis(4, 2)); // a replace adds no id
      const expected = Array.from({ length: 50 }, (_, i) => `id-${i}`).filter((_, i) => i % 3 !== 0);
      expect(index.ids().sort()).toEqual(expected.sort());
      expect(index.size()).toBe(expected.length);
    });

    it('rejects vectors of the wrong dimension with MODEL_MISMATCH', () => {
      const index = make(4);
      const mismatch = (fn: () => unknown): boolean => {
        try {
          fn();
          return false;
        } catch (err) {
          return isReferentError(err, ErrorCode.ModelMismatch);
        }
      };
      expect(mismatch(() => index.add('a', new Float32Array(3)))).toBe(true);
      expect(mismatch(() => index.search(new Float32Array(5), 1))).toBe(true);
      expect(index.size()).toBe(0);
    });
  });
}
