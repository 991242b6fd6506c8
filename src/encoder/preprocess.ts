/**
 * Image → pixel_values for a CLIP-style vision tower, as the model's preprocessor_config.json
 * describes: resize (shortest edge or exact size), centre crop, rescale, mean/std normalisation,
 * channels first. Ingest and query both see identical input: `imageToTensor`, or at ingest the same
 * pixels from the decode that makes the thumbnail (image-io.ts thumbnailAndModelInput).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, ReferentError } from '../errors.js';
import { decodeForModel, defaultImageLimits, type ImageLimits, type ModelInputSpec, type RawRgb, type ResizeKernel } from '../image/image-io.js';

type Rgb = readonly [number, number, number];

/** What preprocessor_config.json asks for, with Hugging Face's CLIPImageProcessor defaults filled in. */
export interface PreprocessConfig {
  spec: ModelInputSpec;
  /** Multiplier applied to 0–255 values first; undefined = no rescale. */
  rescale: number | undefined;
  /** Per-channel normalisation; undefined = none. */
  normalize: { mean: Rgb; std: Rgb } | undefined;
}

/** Channels-first float pixels of one image: dims [3, height, width]. */
export interface PixelTensor {
  data: Float32Array;
  dims: readonly [3, number, number];
}

const CLIP_MEAN: Rgb = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: Rgb = [0.26862954, 0.26130258, 0.27577711];

/** PIL resample codes (what transformers writes) → the closest sharp kernel. */
const RESAMPLE: Readonly<Record<number, ResizeKernel>> = { 0: 'nearest', 1: 'lanczos3', 2: 'linear', 3: 'cubic', 4: 'linear', 5: 'linear' };

type Json = Record<string, unknown>;

function invalid(message: string, source: string): ReferentError {
  return new ReferentError(ErrorCode.ModelInvalid, `${source}: ${message}`, { details: { path: source } });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** `224` or `{height, width}` → a box; anything else → undefined. */
function box(value: unknown): { width: number; height: number } | undefined {
  if (isSize(value)) return { width: value, height: value };
  if (isObject(value) && isSize(value.height) && isSize(value.width)) return { width: value.width, height: value.height };
  return undefined;
}

function resizePart(json: Json, source: string): Pick<ModelInputSpec, 'shortestEdge' | 'resizeTo'> {
  if (json.do_resize === false) return {};
  const size = json.size ?? 224;
  // A bare number is the old CLIPFeatureExtractor form and means the shortest edge.
  if (isSize(size)) return { shortestEdge: size };
  if (isObject(size) && isSize(size.shortest_edge)) return { shortestEdge: size.shortest_edge };
  const exact = box(size);
  if (exact) return { resizeTo: exact };
  throw invalid(`unsupported "size" ${JSON.stringify(size)} (expected a number, {shortest_edge} or {height, width})`, source);
}

function cropPart(json: Json, source: string): Pick<ModelInputSpec, 'crop'> {
  if (json.do_center_crop === false) return {};
  if (json.crop_size === undefined) {
    if (json.do_center_crop === true) throw invalid('do_center_crop is set but crop_size is missing', source);
    return {};
  }
  const crop = box(json.crop_size);
  if (!crop) throw invalid(`unsupported "crop_size" ${JSON.stringify(json.crop_size)}`, source);
  return { crop };
}

function triple(value: unknown, fallback: Rgb, name: string, source: string): Rgb {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return [value, value, value];
  if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return [value[0] as number, value[1] as number, value[2] as number];
  }
  throw invalid(`"${name}" must be a number or three numbers`, source);
}

function normalizePart(json: Json, source: string): PreprocessConfig['normalize'] {
  if (json.do_normalize === false) return undefined;
  const mean = triple(json.image_mean, CLIP_MEAN, 'image_mean', source);
  const std = triple(json.image_std, CLIP_STD, 'image_std', source);
  if (std.some((s) => s === 0)) throw invalid('"image_std" contains a zero', source);
  return { mean, std };
}

/** Parses preprocessor_config.json contents. Unsupported or malformed values → MODEL_INVALID. */
export function parsePreprocessorConfig(json: unknown, source = 'preprocessor_config.json'): PreprocessConfig {
  if (!isObject(json)) throw invalid('not a JSON object', source);
  const resample = json.resample ?? 3;
  const kernel = typeof resample === 'number' ? RESAMPLE[resample] : undefined;
  if (kernel === undefined) throw invalid(`unsupported "resample" ${JSON.stringify(resample)}`, source);
  let rescale: number | undefined;
  if (json.do_rescale !== false) {
    rescale = json.rescale_factor === undefined ? 1 / 255 : Number(json.rescale_factor);
    if (!Number.isFinite(rescale) || rescale <= 0) throw invalid('"rescale_factor" must be a positive number', source);
  }
  const spec: ModelInputSpec = { ...resizePart(json, source), ...cropPart(json, source), kernel };
  return { spec, rescale, normalize: normalizePart(json, source) };
}

/** Reads and parses `<modelDir>/preprocessor_config.json`. */
export async function loadPreprocessorConfig(modelDir: string): Promise<PreprocessConfig> {
  const path = join(modelDir, 'preprocessor_config.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (err) {
    throw new ReferentError(ErrorCode.ModelInvalid, `${path} could not be read as JSON: ${(err as Error).message}`, { cause: err, details: { path } });
  }
  return parsePreprocessorConfig(json, path);
}

/** Interleaved RGB bytes → channels-first floats, rescaled and normalised. Pure. */
export function pixelsToTensor(raw: RawRgb, config: PreprocessConfig): PixelTensor {
  const { width, height, data } = raw;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  const scale = config.rescale ?? 1;
  const mean = config.normalize?.mean ?? [0, 0, 0];
  const std = config.normalize?.std ?? [1, 1, 1];
  for (let c = 0; c < 3; c++) {
    const m = mean[c]!;
    const s = std[c]!;
    for (let p = 0; p < plane; p++) out[c * plane + p] = (data[p * 3 + c]! * scale - m) / s;
  }
  return { data: out, dims: [3, height, width] };
}

/** Decodes an untrusted image under `limits` and prepares it for the model. Bad images → IMAGE_* errors. */
export async function imageToTensor(bytes: Uint8Array, config: PreprocessConfig, limits: ImageLimits = defaultImageLimits): Promise<PixelTensor> {
  return pixelsToTensor(await decodeForModel(bytes, config.spec, limits), config);
}

/** The [3, height, width] the model receives, when resizing and cropping fix it; undefined when it depends on the image. */
export function fixedInputSize(config: PreprocessConfig): { width: number; height: number } | undefined {
  if (config.spec.crop) return config.spec.crop;
  return config.spec.resizeTo;
}
