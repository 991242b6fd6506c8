/**
 * Embedding descriptions: each text and each of its detail phrases, in one encoder call per batch.
 * A text that is a single detail reuses its own vector for the phrase.
 */
import type { TextEmbedding } from '../catalog/catalog.js';
import type { Encoder } from '../encoder/encoder.js';
import { splitPhrases } from '../method/phrases.js';

export async function embedTexts(encoder: Encoder, bodies: readonly string[]): Promise<TextEmbedding[]> {
  if (bodies.length === 0) return [];
  const phrases = bodies.map((b) => {
    const p = splitPhrases(b);
    return p.length === 1 && p[0] === b.trim() ? [] : p;
  });
  const vectors = await encoder.encodeTexts([...bodies, ...phrases.flat()]);
  let next = bodies.length;
  return bodies.map((body, i) => {
    const own = phrases[i]!.map((p) => ({ body: p, vector: vectors[next++]! }));
    const vector = vectors[i]!;
    return { modelId: encoder.modelId, vector, phrases: own.length > 0 ? own : [{ body: body.trim(), vector }] };
  });
}
