/**
 * The measurements behind `npm run bench:ingest` (ingest-bench.ts), each on the same photos:
 * the ingest stages one at a time (read, hash, decode+resize to pixel_values, media write with
 * pixel_values from the thumbnail's decode, catalogue+index), and the vision tower alone on preprocessed tensors through the project's
 * OnnxSession, per batch size and thread count. Nothing here judges a timing; only a broken graph
 * (non-finite or wrongly shaped output) or a failed stage throws.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Config } from '../src/config.js';
import type { Encoder } from '../src/encoder/encoder.js';
import type { DeviceChoice, OnnxSession } from '../src/encoder/onnx-runtime.js';
import { imageToTensor, type PreprocessConfig } from '../src/encoder/preprocess.js';
import { storableOriginal, thumbnailAndModelInput, thumbnailJpeg, type ModelInputSpec } from '../src/image/image-io.js';
import { createFsMediaStore } from '../src/media/media-store.js';
import { imageLimits, openReferent } from '../src/open.js';
import { normalize } from '../src/vectors.js';
import type { Photo } from './ingest-photos.js';

export type { DeviceChoice };

const PIXELS = 3 * 224 * 224;
const OUTPUT = 'image_embeds';

/** Milliseconds per image of each stage, measured one image at a time. */
export interface StageTimes {
  read: number;
  hash: number;
  decode: number;
  mediaWrite: number;
  catalogue: number;
}

export interface Prepared {
  tensors: Float32Array[];
  hashes: string[];
  stages: Pick<StageTimes, 'read' | 'hash' | 'decode'>;
}

/** Reads, hashes and preprocesses every photo once, timing each step over all of them. */
export async function prepare(photos: readonly Photo[], preprocess: PreprocessConfig, config: Config): Promise<Prepared> {
  const limits = imageLimits(config);
  const total = { read: 0, hash: 0, decode: 0 };
  const tensors: Float32Array[] = [];
  const hashes: string[] = [];
  for (const photo of photos) {
    let t = performance.now();
    const bytes = await readFile(photo.path);
    total.read += performance.now() - t;
    t = performance.now();
    hashes.push(createHash('sha256').update(bytes).digest('hex'));
    total.hash += performance.now() - t;
    t = performance.now();
    const tensor = await imageToTensor(bytes, preprocess, limits);
    total.decode += performance.now() - t;
    if (tensor.data.length !== PIXELS) throw new Error(`${photo.path}: pixel_values of ${tensor.data.length} values, expected ${PIXELS}`);
    tensors.push(tensor.data);
  }
  const n = photos.length;
  return { tensors, hashes, stages: { read: total.read / n, hash: total.hash / n, decode: total.decode / n } };
}

/** Media write, ms per image: the whole `put`, and its two steps timed on their own. */
export interface MediaTimes {
  /** Validate, original, thumbnail (and pixel_values, when asked), durable writes: what ingest's preparing worker waits for. */
  put: number;
  /** The stored original: metadata stripped when kept as posted, else decode, resize, encode (JPEG q90; PNG stays PNG). */
  original: number;
  /** Decode that original, resize to ≤512 px, encode (JPEG q82); with a model input, pixel_values from the same decode. */
  thumbnail: number;
  /** How many photos gave pixel_values on the way (the rest are decoded again for the model). */
  together: number;
  /** How many photos were kept as posted. */
  asPosted: number;
  /** Mean bytes on disk per photo: original and thumbnail. */
  storedBytes: number;
}

/**
 * `maxSide`: the store's REFERENT_ORIGINAL_MAX_SIDE (undefined: JPEG and PNG kept as posted).
 * `modelInput`: ask for pixel_values on the way, as ingest's preparing worker does.
 */
export async function timeMediaWrites(photos: readonly Photo[], dir: string, config: Config, maxSide?: number, modelInput?: ModelInputSpec): Promise<MediaTimes> {
  const limits = imageLimits(config);
  const media = createFsMediaStore(dir, { limits, ...(maxSide === undefined ? {} : { maxSide }) });
  const total = { put: 0, original: 0, thumbnail: 0, together: 0, asPosted: 0, storedBytes: 0 };
  for (const photo of photos) {
    const bytes = await readFile(photo.path);
    let t = performance.now();
    const stored = await media.put(bytes, modelInput === undefined ? {} : { modelInput });
    total.put += performance.now() - t;
    if (stored.modelInput !== undefined) total.together++;
    const paths = media.paths(stored.key);
    total.storedBytes += (await stat(paths.original)).size + (await stat(paths.thumbnail)).size;
    t = performance.now();
    const original = await storableOriginal(bytes, maxSide, limits);
    total.original += performance.now() - t;
    if (original.asPosted) total.asPosted++;
    t = performance.now();
    if (modelInput !== undefined && original.asPosted) await thumbnailAndModelInput(original.data, 512, modelInput, limits);
    else await thumbnailJpeg(original.data, 512, limits);
    total.thumbnail += performance.now() - t;
  }
  const n = photos.length;
  const { asPosted, together } = total;
  return { put: total.put / n, original: total.original / n, thumbnail: total.thumbnail / n, together, asPosted, storedBytes: total.storedBytes / n };
}

/** An encoder that never runs: the catalogue stage writes vectors computed beforehand. */
function storedVectorsEncoder(modelId: string, dim: number): Encoder {
  const refuse = () => Promise.reject(new Error('the catalogue stage encodes nothing'));
  return { modelId, dim, displayName: modelId, isDemo: false, encodeTexts: refuse, encodeImages: refuse, close: async () => {} };
}

/**
 * Catalogue + index, ms per image: a data folder opened as ingest opens it, one transaction per
 * item (item, vector, index log) and the HNSW catch-up after every `batch` items, as ingest does.
 */
export async function timeCatalogue(photos: readonly Photo[], hashes: readonly string[], vectors: readonly Float32Array[], config: Config, modelId: string, batch: number): Promise<number> {
  const referent = await openReferent(config, { encoder: storedVectorsEncoder(modelId, vectors[0]!.length) });
  try {
    const t = performance.now();
    const collection = await referent.catalog.ensureCollection('bench');
    for (let i = 0; i < photos.length; i++) {
      const { width, height } = photos[i]!;
      await referent.catalog.addItem(
        { collectionId: collection.id, hash: hashes[i]!, mediaKey: hashes[i]!, width, height, caption: null, entityLabel: null, source: { platform: 'cli', ref: photos[i]!.path } },
        { modelId, data: vectors[i]! },
        null,
      );
      if ((i + 1) % batch === 0 || i === photos.length - 1) await referent.index.catchUp();
    }
    return (performance.now() - t) / photos.length;
  } finally {
    await referent.shutdown();
  }
}

/** `batch` images' pixel_values in one buffer, taking the photos in turn from `offset`. */
function batchOf(tensors: readonly Float32Array[], batch: number, offset: number): Float32Array {
  const data = new Float32Array(batch * PIXELS);
  for (let i = 0; i < batch; i++) data.set(tensors[(offset + i) % tensors.length]!, i * PIXELS);
  return data;
}

async function run(session: OnnxSession, data: Float32Array, batch: number): Promise<Float32Array> {
  const out = (await session.run({ pixel_values: { type: 'float32', data, dims: [batch, 3, 224, 224] } }, [OUTPUT]))[OUTPUT]!;
  if (out.dims[0] !== batch || out.data.length % batch !== 0) throw new Error(`image_embeds has shape [${out.dims.join(', ')}] for a batch of ${batch}`);
  if (!out.data.every(Number.isFinite)) throw new Error('image_embeds has non-finite values');
  return out.data;
}

export interface Budget {
  /** Warm-up runs before timing (excluded). */
  warmup: number;
  /** Timed runs at least, and seconds at least (whichever comes later), at most maxRuns. */
  minRuns: number;
  minSeconds: number;
  maxRuns: number;
}

export interface Cell {
  batch: number;
  threads: number;
  imagesPerSecond: number;
  msPerImage: number;
  /** CPU time of the whole process per image (every thread: ONNX Runtime's pool, spinning included). */
  cpuMsPerImage: number;
  runs: number;
}

/** Process CPU time (user + system, all threads) since `from`, in ms. */
export function cpuMsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

/** Inference-only throughput of one session at one batch size. */
export async function timeCell(session: OnnxSession, tensors: readonly Float32Array[], batch: number, threads: number, budget: Budget): Promise<Cell> {
  const data = batchOf(tensors, batch, 0);
  for (let i = 0; i < budget.warmup; i++) await run(session, data, batch);
  let runs = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  while (runs < budget.maxRuns && (runs < budget.minRuns || performance.now() - start < budget.minSeconds * 1000)) {
    await run(session, data, batch);
    runs++;
  }
  const seconds = (performance.now() - start) / 1000;
  const images = runs * batch;
  return { batch, threads, imagesPerSecond: images / seconds, msPerImage: (seconds * 1000) / images, cpuMsPerImage: cpuMsSince(cpu) / images, runs };
}

/**
 * Every photo's unit-length embedding, in batches of `batch`, and the ms (wall and process CPU) per
 * image it took, after one warm-up batch: a fresh session's first run costs more (ONNX Runtime
 * plans its memory then), and would weigh on 80 photos.
 */
export async function embedAll(session: OnnxSession, tensors: readonly Float32Array[], batch: number): Promise<{ vectors: Float32Array[]; msPerImage: number; cpuMsPerImage: number }> {
  const vectors: Float32Array[] = [];
  const first = Math.min(batch, tensors.length);
  if (first > 0) await run(session, batchOf(tensors, first, 0), first);
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let from = 0; from < tensors.length; from += batch) {
    const n = Math.min(batch, tensors.length - from);
    const out = await run(session, batchOf(tensors, n, from), n);
    const dim = out.length / n;
    for (let r = 0; r < n; r++) vectors.push(normalize(out.subarray(r * dim, (r + 1) * dim)));
  }
  return { vectors, msPerImage: (performance.now() - start) / tensors.length, cpuMsPerImage: cpuMsSince(cpu) / tensors.length };
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * How close a quantised variant's embeddings are to fp32's for the same photo (mean and min
 * cosine), and for how many photos the nearest fp32 embedding is the photo's own: with random
 * weights distinct photos embed close together (see `spread`), so the cosine alone says little.
 */
export function agreement(fp32: readonly Float32Array[], quantized: readonly Float32Array[]) {
  const same = fp32.map((v, i) => dot(v, quantized[i]!));
  const ownNearest = quantized.filter((q, i) => fp32.every((v, j) => j === i || dot(q, v) < same[i]!)).length;
  return { mean: mean(same), min: Math.min(...same), ownNearest };
}

/** Cosine between fp32 embeddings of different photos: mean and max over all pairs. */
export function spread(fp32: readonly Float32Array[]) {
  const pairs: number[] = [];
  for (let i = 0; i < fp32.length; i++) for (let j = i + 1; j < fp32.length; j++) pairs.push(dot(fp32[i]!, fp32[j]!));
  return { mean: mean(pairs), max: pairs.length ? Math.max(...pairs) : NaN };
}
