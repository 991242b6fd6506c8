import { describe, expect, it } from 'vitest';
import { fuse, softmax } from '../../src/method/fusion.js';
import { splitPhrases } from '../../src/method/phrases.js';
import { dot, normalize } from '../../src/vectors.js';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));

describe('global fusion', () => {
  it('returns null for no vectors and the vector itself for one', () => {
    expect(fuse([])).toBeNull();
    const one = fuse([v(1, 2, 2)])!;
    expect(dot(one.centre, v(1, 2, 2))).toBeCloseTo(1, 6);
    expect(one.weights).toEqual([1]);
  });

  it('discounts an inconsistent description: the centre stays near the consistent ones', () => {
    const white = [v(1, 0.1, 0), v(1, -0.1, 0), v(1, 0, 0.1)];
    const pink = v(0, 0, 1);
    const { centre, weights } = fuse([...white, pink], { tau: 0.1, rounds: 2 })!;
    const mean = normalize(Float32Array.from([0, 1, 2].map((d) => [...white, pink].reduce((s, x) => s + x[d]!, 0))));
    // Closer to the consistent group than the plain mean is, and the outlier weighs least.
    expect(dot(centre, v(1, 0, 0))).toBeGreaterThan(dot(mean, v(1, 0, 0)));
    expect(weights[3]).toBeLessThan(Math.min(...weights.slice(0, 3)));
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(Math.hypot(...centre)).toBeCloseTo(1, 5);
  });

  it('a smaller temperature discounts the outlier harder', () => {
    const xs = [v(1, 0.1), v(1, -0.1), v(0.2, 1)];
    expect(fuse(xs, { tau: 0.05, rounds: 2 })!.weights[2]).toBeLessThan(fuse(xs, { tau: 1, rounds: 2 })!.weights[2]!);
  });

  it('softmax is stable for large scores', () => {
    const p = softmax([1000, 1000, 999], 1);
    expect(p[0]).toBeCloseTo(p[1]!, 12);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe('phrase splitting', () => {
  it('splits English descriptions on commas, semicolons, sentences and joining words', () => {
    expect(splitPhrases('woman in a white cap, pink shoes and a grey backpack')).toEqual(['woman in a white cap', 'pink shoes', 'a grey backpack']);
    expect(splitPhrases('Hex bolt M8 with zinc coating; lot 4471-B. Length 1.5 mm')).toEqual(['Hex bolt M8', 'zinc coating', 'lot 4471-B', 'Length 1.5 mm']);
  });

  it('splits Japanese on 、 and 。', () => {
    expect(splitPhrases('白い帽子、ピンクの靴。灰色のリュック')).toEqual(['白い帽子', 'ピンクの靴', '灰色のリュック']);
  });

  it('keeps a one-detail text whole, drops empty and repeated details, and bounds the count', () => {
    expect(splitPhrases('brass elbow')).toEqual(['brass elbow']);
    expect(splitPhrases(' , ; and ,')).toEqual([]);
    expect(splitPhrases('red cap, Red cap, red  cap')).toEqual(['red cap']);
    expect(splitPhrases(Array.from({ length: 40 }, (_, i) => `part ${i}`).join(', '))).toHaveLength(16);
  });
});
