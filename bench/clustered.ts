/**
 * Seeded generator of clustered unit vectors, for benchmarks and index tests.
 *
 * Why clustered: real image/text embeddings bunch around concepts, and HNSW recall depends on
 * that structure (on uniform random 512-d vectors recall is poor at any sane ef, which says
 * little about real galleries). Same seed, same vectors, on every machine.
 */

import { mulberry32 } from '../src/random.js';

export { mulberry32 };

/** Standard normal draws (Box–Muller) from a uniform source. */
export function gaussian(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - rand(); // (0, 1]: log(0) would be -Infinity
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Scales `v` in place to unit length (a zero vector stays zero). */
export function normalise(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  return v;
}

export interface ClusteredOptions {
  /** Number of gallery points. */
  n: number;
  dim: number;
  /** Number of query points, drawn around the same centres with fresh noise. Default 0. */
  queries?: number;
  /** Number of cluster centres. Default round(sqrt(n)). */
  clusters?: number;
  /** Norm of the noise relative to the (unit) centre. Default 0.6: same-cluster cosine ≈ 0.75. */
  spread?: number;
  seed?: number;
}

export interface ClusteredSet {
  /** Unit vectors, each a view into one shared buffer. */
  vectors: Float32Array[];
  queries: Float32Array[];
  centres: Float32Array[];
}

/**
 * `n` unit vectors around `clusters` random unit centres with gaussian noise, plus `queries`
 * distinct query vectors drawn the same way (same centres, fresh noise draws), all from `seed`.
 */
export function clusteredVectors(opts: ClusteredOptions): ClusteredSet {
  const { n, dim, queries = 0, spread = 0.6, seed = 42 } = opts;
  const clusters = Math.max(1, opts.clusters ?? Math.round(Math.sqrt(n)));
  const rand = mulberry32(seed);
  const gauss = gaussian(rand);
  const centres: Float32Array[] = [];
  for (let c = 0; c < clusters; c++) centres.push(randomUnit(dim, gauss));
  const draw = (count: number): Float32Array[] => {
    const buffer = new Float32Array(count * dim);
    const out: Float32Array[] = [];
    for (let i = 0; i < count; i++) {
      const centre = centres[Math.floor(rand() * clusters)]!;
      out.push(nearPoint(buffer.subarray(i * dim, (i + 1) * dim), centre, spread, gauss));
    }
    return out;
  };
  const vectors = draw(n);
  return { vectors, queries: draw(queries), centres };
}

function randomUnit(dim: number, gauss: () => number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = gauss();
  return normalise(v);
}

/** Writes normalise(centre + spread · unit-noise) into `out`. */
function nearPoint(out: Float32Array, centre: Float32Array, spread: number, gauss: () => number): Float32Array {
  const noise = randomUnit(centre.length, gauss);
  for (let i = 0; i < out.length; i++) out[i] = centre[i]! + spread * noise[i]!;
  return normalise(out);
}
