/**
 * The demo encoder's weights. The embedding space (before a shared random rotation) has three parts:
 * colour dims (one per palette colour), layout dims (quadrant colour contrasts, so two pictures of
 * one colour can still differ) and word dims (seeded-random vectors for every non-colour word).
 * A colour word's vector is the colour row the vision tower produces for that colour's canonical
 * pixel, so "red" is closest to red pictures. Random numbers use integer ops and IEEE-exact
 * arithmetic only; the one transcendental (Math.exp in the softmax) is V8's own fdlibm port, which
 * gives the same bits on every platform, so the weights are identical on every run.
 */
import { PALETTE, type VocabEntry } from './vocabulary.js';
import { mulberry32 } from '../../src/random.js';

/** Embedding size (CLIP's projection_dim). */
export const DIM = 64;
export const COLOUR_DIMS = 24;
export const LAYOUT_DIMS = 4;
const WORD_START = COLOUR_DIMS + LAYOUT_DIMS;

/** CLIP's normalisation, which the preprocessor config also declares. */
export const IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const IMAGE_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** Softmax sharpness of pixel-to-palette assignment: -SHARPNESS × squared distance in normalised units. */
export const SHARPNESS = 4;

/** Deterministic 32-bit PRNG (mulberry32): integer ops only. */
export const createRng = mulberry32;

/** Approximately normal (Irwin–Hall with 12 uniforms): avoids log/cos, whose last bit may vary. */
function gaussian(rng: () => number): number {
  let s = 0;
  for (let i = 0; i < 12; i++) s += rng();
  return s - 6;
}

function scaleTo(v: number[], norm: number): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => (n > 0 ? (x * norm) / n : 0));
}

/** A canonical pixel in the model's normalised input space. */
export function normalisedPixel(rgb: readonly number[]): number[] {
  return [0, 1, 2].map((c) => (rgb[c]! / 255 - IMAGE_MEAN[c]!) / IMAGE_STD[c]!);
}

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  return a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0);
}

/**
 * Colour rows [K × DIM]: row k leans towards similar palette colours (a rational kernel on
 * pixel distance), so "red" ranks maroon and orange above blue instead of treating all as equal.
 */
export function colourRows(): number[][] {
  const pixels = PALETTE.map((c) => normalisedPixel(c.rgb));
  return pixels.map((p) => {
    const row = new Array<number>(DIM).fill(0);
    pixels.forEach((q, j) => {
      const k = 1 / (1 + 0.5 * squaredDistance(p, q));
      row[j] = k * k * k;
    });
    return scaleTo(row, 1);
  });
}

/**
 * Layout rows [12 × DIM] for the 2×2 average-pooled input (index c·4 + row·2 + col): only
 * contrasts between quadrants (weights summing to zero), so a uniform picture gets no layout part.
 */
export function layoutRows(rng: () => number): number[][] {
  const contrasts = [
    [1, 1, -1, -1],
    [1, -1, 1, -1],
    [1, -1, -1, 1],
  ];
  const rows = Array.from({ length: 12 }, () => new Array<number>(DIM).fill(0));
  for (let c = 0; c < 3; c++) {
    for (const w of contrasts) {
      const direction = Array.from({ length: LAYOUT_DIMS }, () => gaussian(rng) * 0.02);
      for (let cell = 0; cell < 4; cell++) {
        direction.forEach((x, d) => (rows[c * 4 + cell]![COLOUR_DIMS + d]! += (w[cell]! * x) / 4));
      }
    }
  }
  return rows;
}

/** What the vision tower outputs (before projection) for a picture of a single palette colour. */
export function canonicalColourVector(index: number, rows: readonly number[][]): number[] {
  const pixels = PALETTE.map((c) => normalisedPixel(c.rgb));
  const logits = pixels.map((q) => -SHARPNESS * squaredDistance(pixels[index]!, q));
  const top = Math.max(...logits);
  const weights = logits.map((l) => Math.exp(l - top));
  const total = weights.reduce((s, w) => s + w, 0);
  const out = new Array<number>(DIM).fill(0);
  weights.forEach((w, j) => rows[j]!.forEach((x, d) => (out[d]! += (w / total) * x)));
  return out;
}

const WORD_NORM: Record<VocabEntry['kind'], number> = { special: 0, unk: 0.3, colour: 1, word: 0.6, digit: 0.4, punctuation: 0.15 };

/** Token embedding table [V × DIM] (before the rotation): special tokens zero, colours = colour rows. */
export function tokenRows(vocab: readonly VocabEntry[], colours: readonly number[][], rng: () => number): number[][] {
  return vocab.map((entry) => {
    if (entry.kind === 'colour') return canonicalColourVector(entry.colour!, colours);
    const random = Array.from({ length: DIM - WORD_START }, () => gaussian(rng));
    const scaled = scaleTo(random, WORD_NORM[entry.kind]);
    return [...new Array<number>(WORD_START).fill(0), ...scaled];
  });
}

/** A random orthogonal DIM × DIM matrix (Gram–Schmidt), shared by both towers; cosines are unchanged by it. */
export function rotation(rng: () => number): number[][] {
  const rows: number[][] = [];
  while (rows.length < DIM) {
    let v = Array.from({ length: DIM }, () => gaussian(rng));
    for (const r of rows) {
      const d = v.reduce((s, x, i) => s + x * r[i]!, 0);
      v = v.map((x, i) => x - d * r[i]!);
    }
    rows.push(scaleTo(v, 1));
  }
  return rows;
}

/** All weights of the demo encoder, generated from one seed. */
export interface TinyClipWeights {
  /** Palette pixels in normalised space, [K × 3]. */
  palette: number[][];
  /** Token table [V × DIM], flattened. */
  tokens: number[];
  /** Colour rows [K × DIM], flattened. */
  colours: number[];
  /** Layout rows [12 × DIM], flattened. */
  layout: number[];
  /** The shared output rotation [DIM × DIM] (both towers' "projection"), flattened. */
  projection: number[];
}

export function buildWeights(vocab: readonly VocabEntry[], seed: number): TinyClipWeights {
  const rng = createRng(seed);
  const projection = rotation(rng).flat();
  const colours = colourRows();
  const layout = layoutRows(rng).flat();
  const tokens = tokenRows(vocab, colours, rng).flat();
  return { palette: PALETTE.map((c) => normalisedPixel(c.rgb)), tokens, colours: colours.flat(), layout, projection };
}
