/**
 * A CLIP-style dual encoder from a Hugging Face ONNX export folder: tokenizer.json for text,
 * preprocessor_config.json for images, onnx/text_model*.onnx and onnx/vision_model*.onnx for
 * inference. Both towers are loaded and warmed up once, so the first query pays no start-up cost.
 */
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ErrorCode, ReferentError } from '../errors.js';
import { defaultImageLimits, type ImageLimits } from '../image/image-io.js';
import { assertVariant, modelFiles, onnxSuffix } from '../models/model-files.js';
import { normalize } from '../vectors.js';
import type { Encoder, InferenceInfo, PixelEncoder } from './encoder.js';
import { OnnxSession, type DeviceChoice, type TensorInput, type TensorOutput } from './onnx-runtime.js';
import { fixedInputSize, imageToTensor, loadPreprocessorConfig, type PixelTensor, type PreprocessConfig } from './preprocess.js';
import { ClipTokenizer } from './tokenizer.js';

export interface OnnxClipEncoderOptions {
  /** Weight variant: 'fp32' (default) → onnx/<tower>_model.onnx; any other → onnx/<tower>_model_<variant>.onnx ('quantized', 'fp16', 'int8', 'q4'…). */
  variant?: string;
  /** Texts or images per inference call (default 16). */
  batchSize?: number;
  /** Limits for untrusted images (default: defaultImageLimits). */
  imageLimits?: ImageLimits;
  /** Overrides the id recorded with stored vectors (default: config _name_or_path, else the folder name). */
  modelId?: string;
  /** Threads per inference on the CPU (default: up to 4). */
  threads?: number;
  /** 'cpu' (default), 'cuda' (CONFIG_INVALID when it cannot start) or 'auto' (see OnnxSession.open). */
  device?: DeviceChoice;
}

const DEFAULT_BATCH_SIZE = 8;
/** The ONNX file of one tower, relative to the model folder: onnx/text_model.onnx, onnx/vision_model_quantized.onnx… */
function towerFile(tower: 'text' | 'vision', variant: string): string {
  return `onnx/${tower}_model${onnxSuffix(variant)}.onnx`;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Missing folder → MODEL_NOT_FOUND; missing files → MODEL_INCOMPLETE naming each one and the variants present. */
async function checkFolder(dir: string, variant: string): Promise<void> {
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new ReferentError(ErrorCode.ModelNotFound, `No model folder at ${dir}.`, { details: { dir } });
  const files = modelFiles(variant).filter((f) => f.required).map((f) => f.path);
  const missing = (await Promise.all(files.map(async (f) => ((await exists(join(dir, f))) ? undefined : f)))).filter((f) => f !== undefined);
  if (missing.length === 0) return;
  const onnxFiles = await readdir(join(dir, 'onnx')).catch(() => [] as string[]);
  const variants = onnxFiles.flatMap((f) => /^text_model(?:_(.+))?\.onnx$/.exec(f)?.[1] ?? (f === 'text_model.onnx' ? 'fp32' : [])).sort();
  throw new ReferentError(
    ErrorCode.ModelIncomplete,
    `The model folder ${dir} is incomplete: ${missing.join(', ')} missing` +
      (variants.length > 0 ? ` (text variants present: ${variants.join(', ')}).` : '.') +
      ' Copy the whole folder again or re-run the model download.',
    { details: { dir, missing, variants } },
  );
}

async function readConfig(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, 'config.json');
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (err) {
    throw new ReferentError(ErrorCode.ModelInvalid, `${path} could not be read: ${(err as Error).message}`, { cause: err, details: { path } });
  }
}

/** The output to read: the conventional name, or the only output there is. */
function pickOutput(session: OnnxSession, conventional: string): string {
  if (session.outputNames.includes(conventional)) return conventional;
  if (session.outputNames.length === 1) return session.outputNames[0]!;
  throw new ReferentError(ErrorCode.ModelInvalid, `${session.path} has no "${conventional}" output (it has ${session.outputNames.join(', ')}).`);
}

function checkInputs(session: OnnxSession, supported: readonly string[], required: string): void {
  const unknown = session.inputNames.filter((n) => !supported.includes(n));
  if (!session.inputNames.includes(required) || unknown.length > 0) {
    throw new ReferentError(
      ErrorCode.ModelInvalid,
      `${session.path} takes inputs ${session.inputNames.join(', ')}; expected ${required}${supported.length > 1 ? ` (and optionally ${supported.filter((n) => n !== required).join(', ')})` : ''}.`,
    );
  }
}

/** A dimension the graph fixes (a number), else undefined (symbolic). */
function fixedDim(session: OnnxSession, input: string, axis: number): number | undefined {
  const d = session.input(input)?.shape[axis];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** Splits a [n, dim] output into unit-length rows. */
function unitRows(out: TensorOutput, n: number, dim: number, path: string): Float32Array[] {
  if (out.data.length !== n * dim) {
    throw new ReferentError(ErrorCode.ModelInvalid, `${path} produced ${out.data.length / Math.max(1, n)} values per input; the model declares ${dim}.`);
  }
  return Array.from({ length: n }, (_, r) => normalize(out.data.subarray(r * dim, (r + 1) * dim)));
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface Identity {
  modelId: string;
  displayName: string;
  isDemo: boolean;
}

function identity(config: Record<string, unknown>, dir: string, options: OnnxClipEncoderOptions, variant: string): Identity {
  const folder = basename(dir);
  const named = config._name_or_path;
  // transformers sometimes records a local path here; that says nothing stable about the weights.
  const usable = typeof named === 'string' && named.length > 0 && !/^[./\\~]|^[a-z]:[\\/]/i.test(named);
  const base = options.modelId ?? (usable ? named : folder);
  const isDemo = config.referent_demo === true;
  const tagged = variant === 'fp32' ? '' : variant;
  return {
    modelId: tagged ? `${base}:${tagged}` : base,
    isDemo,
    displayName: isDemo ? `demo encoder (${folder}${tagged ? `, ${tagged}` : ''})` : `${base}${tagged ? ` (${tagged})` : ''}`,
  };
}

/** Tokenises and runs one batch of texts; `width` is the output size per text. */
async function textForward(text: OnnxSession, tokenizer: ClipTokenizer, output: string, texts: readonly string[]) {
  const batch = tokenizer.encode(texts, { padTo: fixedDim(text, 'input_ids', 1) });
  const dims = [batch.batchSize, batch.length];
  const feeds: Record<string, TensorInput> = { input_ids: { type: 'int64', data: batch.inputIds, dims } };
  // Exports that pool at the end token have no attention_mask input; padding cannot reach their output.
  if (text.inputNames.includes('attention_mask')) feeds.attention_mask = { type: 'int64', data: batch.attentionMask, dims };
  const out = (await text.run(feeds, [output]))[output]!;
  return { out, n: batch.batchSize, width: out.data.length / Math.max(1, batch.batchSize) };
}

interface Parts {
  text: OnnxSession;
  vision: OnnxSession;
  tokenizer: ClipTokenizer;
  preprocess: PreprocessConfig;
  dim: number;
  batchSize: number;
  imageLimits: ImageLimits;
  ids: Identity;
}

/** CLIP-style encoder on onnxruntime-node. Vectors are L2-normalised; outputs keep input order. */
export class OnnxClipEncoder implements Encoder, PixelEncoder {
  readonly modelId: string;
  readonly dim: number;
  readonly displayName: string;
  readonly isDemo: boolean;
  readonly inference: InferenceInfo;
  readonly pixelInput: PixelEncoder['pixelInput'];
  private readonly textOutput: string;
  private readonly imageOutput: string;
  private closed = false;

  private constructor(private readonly parts: Parts) {
    ({ modelId: this.modelId, displayName: this.displayName, isDemo: this.isDemo } = parts.ids);
    this.dim = parts.dim;
    const { vision } = parts;
    this.inference = { device: vision.device, threads: vision.threads, ...(vision.fallback ? { fallback: vision.fallback } : {}) };
    this.pixelInput = { preprocess: parts.preprocess, limits: parts.imageLimits };
    this.textOutput = pickOutput(parts.text, 'text_embeds');
    this.imageOutput = pickOutput(parts.vision, 'image_embeds');
  }

  /**
   * Loads a model folder. Missing folder → MODEL_NOT_FOUND; missing files → MODEL_INCOMPLETE;
   * unreadable files, unexpected inputs/outputs or an output size that contradicts config.json →
   * MODEL_INVALID; a malformed variant name → USAGE_INVALID.
   */
  static async create(modelDir: string, options: OnnxClipEncoderOptions = {}): Promise<OnnxClipEncoder> {
    const dir = resolve(modelDir);
    const variant = options.variant ?? 'fp32';
    assertVariant(variant);
    await checkFolder(dir, variant);
    const config = await readConfig(dir);
    const sessionOptions = { ...(options.threads === undefined ? {} : { threads: options.threads }), device: options.device ?? 'cpu' };
    const sessions = await Promise.allSettled(
      (['text', 'vision'] as const).map((tower) => OnnxSession.open(join(dir, towerFile(tower, variant)), sessionOptions)),
    );
    const opened = sessions.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    try {
      const failed = sessions.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      return await OnnxClipEncoder.assemble(dir, config, opened[0]!, opened[1]!, variant, options);
    } catch (err) {
      await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
      throw err;
    }
  }

  private static async assemble(
    dir: string,
    config: Record<string, unknown>,
    text: OnnxSession,
    vision: OnnxSession,
    variant: string,
    options: OnnxClipEncoderOptions,
  ): Promise<OnnxClipEncoder> {
    checkInputs(text, ['input_ids', 'attention_mask'], 'input_ids');
    checkInputs(vision, ['pixel_values'], 'pixel_values');
    const tokenizer = await ClipTokenizer.load(dir, { maxLength: fixedDim(text, 'input_ids', 1) });
    const preprocess = await loadPreprocessorConfig(dir);
    const projectionDim = config.projection_dim;
    const declared = typeof projectionDim === 'number' && Number.isInteger(projectionDim) && projectionDim > 0 ? projectionDim : undefined;
    const textOutput = pickOutput(text, 'text_embeds');
    const dim = declared ?? (await textForward(text, tokenizer, textOutput, ['a photo'])).width;
    // A graph with a fixed batch of 1 cannot take more; everything else uses the requested size.
    const fixedBatch = fixedDim(text, 'input_ids', 0) === 1 || fixedDim(vision, 'pixel_values', 0) === 1;
    const batchSize = fixedBatch ? 1 : Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
    const imageLimits = options.imageLimits ?? defaultImageLimits;
    const ids = identity(config, dir, options, variant);
    const encoder = new OnnxClipEncoder({ text, vision, tokenizer, preprocess, dim, batchSize, imageLimits, ids });
    await encoder.warmUp();
    return encoder;
  }

  /** Runs both towers once: loads their kernels now rather than on the first query, and checks output sizes against `dim`. */
  private async warmUp(): Promise<void> {
    await this.runTexts(['a photo']);
    const size = fixedInputSize(this.parts.preprocess);
    if (size) {
      const zero: PixelTensor = { data: new Float32Array(3 * size.width * size.height), dims: [3, size.height, size.width] };
      await this.runImages([zero]);
    }
  }

  async encodeTexts(texts: readonly string[]): Promise<Float32Array[]> {
    this.checkOpen();
    const out: Float32Array[] = [];
    for (const chunk of chunks(texts, this.parts.batchSize)) out.push(...(await this.runTexts(chunk)));
    return out;
  }

  async encodeImages(images: readonly Uint8Array[]): Promise<Float32Array[]> {
    this.checkOpen();
    const out: Float32Array[] = [];
    for (const chunk of chunks(images, this.parts.batchSize)) {
      const tensors = await Promise.all(chunk.map((bytes) => imageToTensor(bytes, this.parts.preprocess, this.parts.imageLimits)));
      out.push(...(await this.runImages(tensors)));
    }
    return out;
  }

  /** Images already decoded and preprocessed (imageToTensor with `pixelInput`), in batches. */
  async encodePixels(tensors: readonly PixelTensor[]): Promise<Float32Array[]> {
    this.checkOpen();
    const out: Float32Array[] = [];
    for (const chunk of chunks(tensors, this.parts.batchSize)) out.push(...(await this.runImages(chunk)));
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.parts.text.close(), this.parts.vision.close()]);
  }

  private checkOpen(): void {
    if (this.closed) throw new ReferentError(ErrorCode.UsageInvalid, 'The encoder has been closed.');
  }

  private async runTexts(texts: readonly string[]): Promise<Float32Array[]> {
    const { out, n } = await textForward(this.parts.text, this.parts.tokenizer, this.textOutput, texts);
    return unitRows(out, n, this.dim, this.parts.text.path);
  }

  /** Runs images in groups of equal size (sizes differ only when the preprocessor does not crop). */
  private async runImages(tensors: readonly PixelTensor[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    let start = 0;
    while (start < tensors.length) {
      const [, h, w] = tensors[start]!.dims;
      let end = start + 1;
      while (end < tensors.length && tensors[end]!.dims[1] === h && tensors[end]!.dims[2] === w) end++;
      const group = tensors.slice(start, end);
      const data = new Float32Array(group.length * 3 * h * w);
      group.forEach((t, i) => data.set(t.data, i * t.data.length));
      const feeds: Record<string, TensorInput> = { pixel_values: { type: 'float32', data, dims: [group.length, 3, h, w] } };
      const result = (await this.parts.vision.run(feeds, [this.imageOutput]))[this.imageOutput]!;
      out.push(...unitRows(result, group.length, this.dim, this.parts.vision.path));
      start = end;
    }
    return out;
  }
}
