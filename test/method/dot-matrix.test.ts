import { describe, expect, it } from 'vitest';
import { dotMatrix, dotMatrixInt8, simdDot } from '../../src/method/dot-matrix.js';
import { mulberry32 } from '../../src/random.js';
import { dot } from '../../src/vectors.js';

describe('dotMatrix', () => {
  const rand = mulberry32(4);
  const vec = (dim: number) => Float32Array.from({ length: dim }, () => rand() - 0.5);

  it('uses the wasm SIMD kernel on this Node', () => {
    expect(simdDot).toBe(true);
  });

  it.each([512, 64, 6])('matches the plain dot product, row-major (dim %i)', (dim) => {
    const rows = Array.from({ length: 7 }, () => vec(dim));
    const cols = Array.from({ length: 3 }, () => vec(dim));
    const m = dotMatrix(rows, cols);
    expect(m).toHaveLength(21);
    rows.forEach((r, i) => cols.forEach((c, j) => expect(m[i * 3 + j]).toBeCloseTo(dot(r, c), 4)));
  });

  it('grows its memory for large batches and handles empty ones', () => {
    const rows = Array.from({ length: 300 }, () => vec(512));
    const cols = Array.from({ length: 40 }, () => vec(512));
    const m = dotMatrix(rows, cols);
    expect(m[299 * 40 + 39]).toBeCloseTo(dot(rows[299]!, cols[39]!), 4);
    expect(dotMatrix([], cols)).toHaveLength(0);
    expect(dotMatrix(rows, [])).toHaveLength(0);
  });

  it.each([512, 24, 12])('int8 rows with scales match the widened rows (dim %i)', (dim) => {
    const n = 9;
    const rows = Int8Array.from({ length: n * dim }, () => Math.round(rand() * 254 - 127));
    const scales = Float32Array.from({ length: n }, () => rand() / 100);
    const cols = Array.from({ length: 5 }, () => vec(dim));
    const m = dotMatrixInt8(rows, scales, dim, cols);
    expect(m).toHaveLength(n * 5);
    for (let i = 0; i < n; i++) {
      const widened = Float32Array.from(rows.subarray(i * dim, (i + 1) * dim), (x) => x * scales[i]!);
      cols.forEach((c, j) => expect(m[i * 5 + j]).toBeCloseTo(dot(widened, c), 4));
    }
    expect(dotMatrixInt8(new Int8Array(0), scales, dim, cols)).toHaveLength(0);
  });
});
