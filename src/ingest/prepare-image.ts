/**
 * The per-file CPU work of ingest, the same whether it runs in a worker thread
 * (preprocess-worker.ts) or on the main thread: check the size before reading, read, hash; for an encoder
 * that takes pixels, decode and preprocess under the image limits; and, when asked, make what the
 * media store keeps (the original and its thumbnail). Hostile images fail here, per file, with the
 * IMAGE_* codes image-io gives them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { ErrorCode, ReferentError } from '../errors.js';
import type { ImageLimits } from '../image/image-io.js';
import { imageToTensor, pixelsToTensor, type PixelTensor, type PreprocessConfig } from '../encoder/preprocess.js';
import { createFsMediaStore, type MediaStore, type MediaStoreSpec, type StoredMedia } from '../media/media-store.js';

/** One image to prepare: a file, or bytes that arrived in memory (chat uploads). */
export type PrepareJob = { path: string } | { bytes: Uint8Array };

/** How to prepare: plain data, so it crosses to worker threads. */
export interface PrepareSpec {
  /** Largest accepted file, checked before it is read. */
  maxImageBytes: number;
  /** The encoder's preprocessing; absent: only read and hash (the encoder decodes the bytes itself). */
  pixels?: { preprocess: PreprocessConfig; limits: ImageLimits };
  /** The media store to store the image in here (MediaStore.spec); absent: the commit stores it. */
  media?: MediaStoreSpec;
}

export interface PreparedImage {
  /** The file; left out when nothing after preparing needs it (the tensor is made and the media stored). */
  bytes?: Uint8Array;
  /** sha256 of the bytes, hex: the dedupe key. */
  hash: string;
  tensor?: PixelTensor;
  /** What the media store stored, when the spec named one. */
  stored?: StoredMedia;
  /** True when this call wrote those files (they were not stored before): whoever drops the image removes them. */
  storedNew?: boolean;
}

/** Throws a ReferentError saying why the image cannot be ingested (NOT_FOUND, IMAGE_*). */
export async function prepareImage(job: PrepareJob, spec: PrepareSpec): Promise<PreparedImage> {
  const bytes = 'bytes' in job ? job.bytes : await readBounded(job.path, spec.maxImageBytes);
  if (bytes.byteLength > spec.maxImageBytes) throw tooLarge(bytes.byteLength, spec.maxImageBytes);
  const hash = createHash('sha256').update(bytes).digest('hex');
  const pixels = spec.pixels;
  if (!spec.media) return { bytes, hash, ...(pixels ? { tensor: await imageToTensor(bytes, pixels.preprocess, pixels.limits) } : {}) };
  const store = storeFor(spec.media);
  const storedNew = !(await store.has(hash));
  // A new photo is decoded once, for its thumbnail and the model input together (the media store's
  // limits are the encoder's: both come from the same configuration, checked here all the same).
  const together = pixels !== undefined && sameLimits(pixels.limits, spec.media.limits);
  const { modelInput, ...stored } = await store.put(bytes, together ? { modelInput: pixels.preprocess.spec } : {});
  if (!pixels) return { bytes, hash, stored, storedNew };
  let tensor: PixelTensor;
  try {
    tensor = modelInput ? pixelsToTensor(modelInput, pixels.preprocess) : await imageToTensor(bytes, pixels.preprocess, pixels.limits);
  } catch (err) {
    // Stored but not encodable: what this call stored goes, so nothing is left without an item.
    if (storedNew) await store.remove(hash).catch(() => undefined);
    throw err;
  }
  return { tensor, hash, stored, storedNew };
}

function sameLimits(a: ImageLimits, b: ImageLimits): boolean {
  return a.maxBytes === b.maxBytes && a.maxPixels === b.maxPixels && (a.allowSvg === true) === (b.allowSvg === true);
}

/** One store per spec in a thread: its writes are atomic, so any number of threads and processes may share a folder. */
const stores = new Map<string, MediaStore>();
function storeFor(spec: MediaStoreSpec): MediaStore {
  const key = JSON.stringify(spec);
  let store = stores.get(key);
  if (!store) stores.set(key, (store = createFsMediaStore(spec.root, spec)));
  return store;
}

/** Reads a file no larger than `limit`; the size is checked first, so an oversized file is never read. */
async function readBounded(path: string, limit: number): Promise<Uint8Array> {
  const stat = await fs.stat(path).catch(() => null);
  if (!stat?.isFile()) throw new ReferentError(ErrorCode.NotFound, `No image file at ${path}.`);
  if (stat.size > limit) throw tooLarge(stat.size, limit);
  return fs.readFile(path);
}

function tooLarge(size: number, limit: number): ReferentError {
  return new ReferentError(ErrorCode.ImageTooLarge, `The image is ${size} bytes; the limit is ${limit}.`, { details: { bytes: size, limit } });
}
