/**
 * Encodes images in one batch, and when the batch fails, one by one, so a single bad image fails
 * alone instead of taking its batch with it. Inputs that already failed (an unreadable file) pass
 * through as failures.
 */
import type { Encoder } from '../encoder/encoder.js';

export type Encoded = { vector: Float32Array } | { error: unknown };

export async function encodeIsolated(encoder: Encoder, inputs: ReadonlyArray<Uint8Array | { error: unknown }>): Promise<Encoded[]> {
  const isBytes = (x: Uint8Array | { error: unknown }): x is Uint8Array => x instanceof Uint8Array;
  const images = inputs.filter(isBytes);
  try {
    const vectors = await encoder.encodeImages(images);
    let next = 0;
    return inputs.map((x) => (isBytes(x) ? { vector: vectors[next++]! } : x));
  } catch {
    const out: Encoded[] = [];
    for (const x of inputs) {
      if (!isBytes(x)) out.push(x);
      else out.push(await encoder.encodeImages([x]).then(([vector]) => ({ vector: vector! }), (error: unknown) => ({ error })));
    }
    return out;
  }
}
