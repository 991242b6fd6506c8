/** Small helpers the catalogue contracts share: items, vectors, text embeddings, waiting for another process. */
import { expect } from 'vitest';
import type { NewItem, TextEmbedding } from '../../src/catalog/catalog.js';
import { waitUntil } from '../support/wait.js';

/** The model the contracts store vectors for (4-dimensional, unit vectors). */
export const MODEL = { modelId: 'contract-model@1', dim: 4 };

/** A unit vector in the direction of the numbers given. */
export function unit(...xs: number[]): Float32Array {
  const norm = Math.hypot(...xs);
  return new Float32Array(xs.map((x) => x / norm));
}

export const X = unit(1, 0, 0, 0);
export const Y = unit(0, 1, 0, 0);
export const Z = unit(0, 0, 1, 0);
export const W = unit(0, 0, 0, 1);

/** A vector for the contracts' model. */
export const vector = (data: Float32Array = X) => ({ modelId: MODEL.modelId, data });

/** A text's embedding for a model: the text's vector, and one phrase per body given (each with its own vector). */
export function embedding(v: Float32Array, phrases: Array<[string, Float32Array]> = [], modelId = MODEL.modelId): TextEmbedding {
  return { modelId, vector: v, phrases: phrases.map(([body, pv]) => ({ body, vector: pv })) };
}

let counter = 0;
/** A new item of the collection with a hash and media key of its own (unless given). */
export function newItem(collectionId: number, extra: Partial<NewItem> = {}): NewItem {
  const n = counter++;
  return { collectionId, hash: `hash-${n}`, mediaKey: `media/${n}.jpg`, width: 640, height: 480, ...extra };
}

/** The numbers of a vector, for comparing (float32 values compare exactly). */
export const numbers = (v: Float32Array | null | undefined) => (v ? Array.from(v) : v);

/** Numbers in ascending order. */
export const ascending = (ids: Iterable<number>) => [...ids].sort((a, b) => a - b);

/**
 * Waits until `probe` holds, for what another process committed and this one learns of by
 * notification. Asserts the outcome, never how long it took (the bound only ends a broken run).
 */
export async function eventually(probe: () => Promise<boolean>, what: string): Promise<void> {
  expect(await waitUntil(probe, 10_000, 10), what).toBe(true);
}
