import type { ImageLimits } from '../image/image-io.js';
import type { PixelTensor, PreprocessConfig } from './preprocess.js';

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
  /** Where inference runs, for people to read; absent: the CPU. */
  readonly inference?: InferenceInfo;
  encodeTexts(texts: readonly string[]): Promise<Float32Array[]>;
  encodeImages(images: readonly Uint8Array[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

export interface InferenceInfo {
  device: 'cpu' | 'cuda';
  /** Intra-op threads on the CPU. */
  threads: number;
  /** Why REFERENT_DEVICE=auto settled on the CPU. */
  fallback?: string;
}

/**
 * An encoder whose image preprocessing can run elsewhere (ingest's worker threads): `pixelInput` is
 * plain data that crosses threads, and `imageToTensor(bytes, pixelInput.preprocess, pixelInput.limits)`
 * gives what `encodePixels` takes. encodePixels(tensors of images) equals encodeImages(images).
 */
export interface PixelEncoder {
  readonly pixelInput: { preprocess: PreprocessConfig; limits: ImageLimits };
  encodePixels(tensors: readonly PixelTensor[]): Promise<Float32Array[]>;
}

export function encodesPixels(encoder: Encoder): encoder is Encoder & PixelEncoder {
  const candidate = encoder as Partial<PixelEncoder>;
  return typeof candidate.encodePixels === 'function' && candidate.pixelInput !== undefined;
}

/** "CPU, 4 threads", "CUDA", "CPU, 4 threads (…why auto chose it)": the device line of banners. */
export function describeInference(encoder: Encoder): string {
  const info = encoder.inference;
  if (!info) return 'CPU';
  if (info.device === 'cuda') return 'CUDA (GPU)';
  return `CPU, ${info.threads} thread${info.threads === 1 ? '' : 's'}${info.fallback ? ` (REFERENT_DEVICE=auto: ${info.fallback})` : ''}`;
}
