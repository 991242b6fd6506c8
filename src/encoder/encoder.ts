/**
 * A CLIP-style dual encoder: texts and images into one embedding space.
 * Invariants: every returned vector has length `dim` and unit L2 norm (a zero input gives a zero
 * vector only when the model itself produces one); cosine similarity = dot product; higher = more alike.
 * Outputs are in input order; `encodeImages` takes encoded image bytes (untrusted: checked and decoded
 * under limits; a bad image raises an IMAGE_* ReferentError).
 */
export interface Encoder {
  /** Stable identifier of the weights, recorded with every stored vector (e.g. "Xenova/clip-vit-base-patch16"). */
  readonly modelId: string;
  /** Embedding dimension. */
  readonly dim: number;
  /** What a person should read when this model is named ("demo encoder (tiny-clip)" for the generated one). */
  readonly displayName: string;
  /** True for the generated tiny model: anything user-facing must label it the demo encoder. */
  readonly isDemo: boolean;
  encodeTexts(texts: readonly string[]): Promise<Float32Array[]>;
  encodeImages(images: readonly Uint8Array[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}
