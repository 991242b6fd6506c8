/**
 * Encodes in one batch, and when the batch fails, one by one, so a single bad input fails alone
 * instead of taking its batch with it. Inputs that already failed (an unreadable file) pass through
 * as failures.
 */
import type { Encoder } from '../encoder/encoder.js';

export type Encoded = { vector: Float32Array } | { error: unknown };

/** `run` on every input at once, or, when that fails, on each input alone. */
export async function runIsolated<X>(inputs: readonly X[], run: (batch: readonly X[]) => Promise<Float32Array[]>): Promise<Encoded[]> {
  if (inputs.length === 0) return [];
  try {
    return (await run(inputs)).map((vector) => ({ vector }));
  } catch (err) {
    if (inputs.length === 1) return [{ error: err }];
    const out: Encoded[] = [];
    for (const x of inputs) out.push(await run([x]).then(([vector]) => ({ vector: vector! }), (error: unknown) => ({ error })));
    return out;
  }
}

/** Images from their bytes (the encoder decodes them). */
export async function encodeIsolated(encoder: Encoder, inputs: ReadonlyArray<Uint8Array | { error: unknown }>): Promise<Encoded[]> {
  const isBytes = (x: Uint8Array | { error: unknown }): x is Uint8Array => x instanceof Uint8Array;
  const encoded = await runIsolated(inputs.filter(isBytes), (batch) => encoder.encodeImages(batch));
  let next = 0;
  return inputs.map((x) => (isBytes(x) ? encoded[next++]! : x));
}
