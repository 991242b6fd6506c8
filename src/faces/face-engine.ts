/**
 * Face recognition for person collections: find the faces on a photo and describe each by a
 * 128-d vector that is close for the same person and far for different people. The engine is
 * @vladmandic/face-api's (SSD-MobileNetV1 detector, 68-point landmarks for alignment, ResNet-34
 * descriptor), run on TensorFlow.js inside a worker thread (face-worker.ts, tfjs-faces.ts). This
 * file holds only the contract, the policy on which faces count, and the loader: importing it
 * loads no model and no TensorFlow.
 */
import type { ImageLimits } from '../image/image-io.js';

/** Pixels of the image as decoded (EXIF orientation applied), never of a downscaled copy. */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DetectedFace {
  box: FaceBox;
  /** Detector confidence 0..1. */
  score: number;
  /** The 128-d face descriptor, L2-normalised (unit length) so cosine = dot and Euclidean² = 2 − 2·cos. */
  descriptor: Float32Array;
}

/** What one photo gave. */
export interface FacesFound {
  /** The image as decoded (EXIF orientation applied): the frame of every box. */
  width: number;
  height: number;
  /** Best score first; at most `maxFaces`. */
  faces: DetectedFace[];
  /** More faces were found than `maxFaces`: only the most confident were described. */
  truncated: boolean;
}

export interface FaceEngine {
  /** Model name and version, stored with every descriptor (descriptors of two models never compare). */
  readonly modelId: string;
  /**
   * Encoded image bytes (untrusted): decoded and bounded like every image (src/image/image-io.ts
   * limits), so a bad file fails with image-io's IMAGE_* code. No face → `faces: []`. An engine
   * failure, or an image that takes longer than `timeoutMs`, → MODEL_INVALID for that image alone:
   * the next call works (a stopped worker is restarted). Calls run one at a time, in call order.
   */
  detect(image: Uint8Array): Promise<FacesFound>;
  /** Releases the models (memory); later calls fail with USAGE_INVALID. */
  close(): Promise<void>;
}

export interface FaceEngineOptions {
  /** Detector confidence below which a face is not reported (0..1). */
  minScore?: number;
  /** Faces whose box is narrower or shorter than this (image pixels) are dropped: too small to recognise. */
  minFacePixels?: number;
  /** At most this many faces per photo, the most confident first (`truncated` says when more were there). */
  maxFaces?: number;
  imageLimits?: ImageLimits;
  /** Photos are analysed with their longest side at most this (boxes still come in full-size pixels). */
  maxSide?: number;
  /** One photo may take this long before its worker is stopped and the photo fails alone. */
  timeoutMs?: number;
}

export type ResolvedFaceOptions = Required<Omit<FaceEngineOptions, 'imageLimits'>> & Pick<FaceEngineOptions, 'imageLimits'>;

/**
 * Defaults. minScore 0.5 is face-api's own. The detector sees every photo at 512×512, so a face
 * under about 1/25 of the longer side is rarely found anyway; minFacePixels guards small images,
 * where a 20-pixel face would still be found but its descriptor is mostly noise. 1920 px keeps the
 * whole pipeline near a second per photo on a CPU core; the descriptor sees each face at 150×150.
 */
export const defaultFaceOptions: ResolvedFaceOptions = { minScore: 0.5, minFacePixels: 32, maxFaces: 100, maxSide: 1920, timeoutMs: 60_000 };

export const FACE_MODEL_ID = 'face-api@1.7.15:ssd-mobilenetv1+landmark68+resnet34-128d';

/**
 * The calibrated threshold: two descriptors with cosine ≥ this are the same person. Measured by
 * `npm run bench:faces` on the package's six demo photos and 54 copies derived from them
 * (docs/faces.md): at 0.96 no pair of different faces matched (0 of 21,447) and 96.6% of same-face
 * pairs did; at 0.95, 0.24% of different-face pairs matched. Chosen on the side of not merging two
 * people. The two distributions overlap (a tilted face and its mirror image can sit at 0.91, two
 * women on one photo at 0.957), and 22 faces are not a team: an estimate, not a guarantee.
 */
export const SAME_FACE_COSINE = 0.96;

/** Scales a vector to unit length (a zero vector stays zero). */
export function unitLength(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  return norm > 0 ? v.map((x) => x / norm) : new Float32Array(v.length);
}

/**
 * Which detections become faces: boxes moved to full-size pixels (`scale` = full size / analysed
 * size) and clipped to the image, those smaller than minFacePixels dropped, the rest best first and
 * capped at maxFaces. `saturated`: the detector returned as many as it was allowed, so there may
 * be more than it said: truncated too.
 */
export function chooseFaces<F extends { box: FaceBox; score: number }>(
  found: readonly F[],
  frame: { width: number; height: number; scale: number },
  options: Pick<ResolvedFaceOptions, 'minFacePixels' | 'maxFaces'>,
  saturated = false,
): { kept: Array<{ found: F; box: FaceBox }>; truncated: boolean } {
  const { width, height, scale } = frame;
  const large = found
    .map((f) => ({ found: f, box: clip(f.box, scale, width, height) }))
    .filter(({ box }) => box.width > 0 && box.height > 0 && Math.min(box.width, box.height) >= options.minFacePixels)
    .sort((a, b) => b.found.score - a.found.score);
  return { kept: large.slice(0, options.maxFaces), truncated: large.length > options.maxFaces || saturated };
}

function clip(box: FaceBox, scale: number, width: number, height: number): FaceBox {
  const x0 = Math.max(0, box.x * scale);
  const y0 = Math.max(0, box.y * scale);
  const x1 = Math.min(width, (box.x + box.width) * scale);
  const y1 = Math.min(height, (box.y + box.height) * scale);
  const round = (v: number) => Math.round(v * 10) / 10;
  return { x: round(x0), y: round(y0), width: round(Math.max(0, x1 - x0)), height: round(Math.max(0, y1 - y0)) };
}

/**
 * Starts the face worker and loads the models (from node_modules/@vladmandic/face-api/model,
 * nothing downloaded; 1–3 s, about 180 MB, and some 400 MB more once 1920-pixel photos go through:
 * WebAssembly memory only grows). Use FaceRuntime (face-runtime.ts) to load them only when a
 * collection has faces on and to let them go when idle.
 */
export async function loadFaceEngine(options: FaceEngineOptions = {}): Promise<FaceEngine> {
  const { FaceWorkerEngine } = await import('./face-worker-client.js');
  return FaceWorkerEngine.create(options);
}
