/**
 * Synthetic faces for tests of what is stored and grouped (not of the engine): person p's faces lie
 * at cosine 0.99 around axis p, and different people are orthogonal. `n` varies each face a little
 * (its own side axis) and raises its score, so the n-th face of a person is the surest one so far.
 */
import type { NewFace } from '../../src/catalog/catalog.js';

export function syntheticDescriptor(person: number, n: number): Float32Array {
  const v = new Float32Array(128);
  v[person] = 0.995;
  v[64 + (n % 64)] = Math.sqrt(1 - 0.995 * 0.995);
  return v;
}

export function syntheticFace(person: number, n: number): NewFace {
  return { box: { x: 10 + n, y: 20, width: 64, height: 64 }, score: Math.min(0.99, 0.6 + n * 0.01), descriptor: syntheticDescriptor(person, n) };
}
