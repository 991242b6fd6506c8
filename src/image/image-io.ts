/**
 * The only file that imports sharp. Every image that enters Referent is untrusted: it is sized,
 * format-checked and decoded here under explicit limits, and failures become ReferentErrors.
 */
import sharp, { type Metadata, type Sharp } from 'sharp';
import { ErrorCode, ReferentError } from '../errors.js';
import { stripJpeg, stripPng } from './strip-metadata.js';

export interface ImageLimits {
  /** Largest accepted encoded size in bytes. */
  maxBytes: number;
  /** Largest accepted width × height (sharp's limitInputPixels). */
  maxPixels: number;
  /** Accept SVG (which can reference outside resources). Off by default. */
  allowSvg?: boolean;
}

export const defaultImageLimits: ImageLimits = {
  maxBytes: 25 * 1024 * 1024,
  maxPixels: 50_000_000,
  allowSvg: false,
};

/** Raster formats we decode. SVG, PDF and friends can pull in outside resources or scripts. */
const rasterFormats = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif']);

export interface ImageInfo {
  format: string;
  width: number;
  height: number;
}

export interface RawRgb {
  /** Interleaved RGB bytes, row-major, length width × height × 3. */
  data: Buffer;
  width: number;
  height: number;
}

function open(bytes: Uint8Array, limits: ImageLimits): Sharp {
  return sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'warning', sequentialRead: true });
}

/**
 * Turns a libvips/sharp failure into a typed error. Messages are matched loosely because they
 * change between libvips versions; anything unrecognised is treated as damage, never as success.
 * `recognised`: the magic bytes named a raster format, so "unsupported format" from libvips
 * means the file is damaged (a truncated TIFF says that), not that it is some other kind of file.
 */
function classify(err: unknown, recognised = true): ReferentError {
  if (err instanceof ReferentError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit|exceeds pixel|security limit exceeded|exceeds the maximum image size|image (is )?too large/i.test(message)) {
    return new ReferentError(ErrorCode.ImageTooManyPixels, 'The image has too many pixels.', { cause: err });
  }
  if (/unsupported (codec|compression)|no decoding plugin|not a known file format/i.test(message)) {
    return unsupported(undefined, err);
  }
  if (!recognised && /unsupported image format|bad seek/i.test(message)) return unsupported(undefined, err);
  return new ReferentError(ErrorCode.ImageCorrupt, 'The image is damaged or truncated and could not be decoded.', { cause: err });
}

function unsupported(format: string | undefined, cause?: unknown): ReferentError {
  const what = format === undefined ? 'That file is not an image Referent can read.' : `Images of type ${format} are not accepted.`;
  return new ReferentError(ErrorCode.ImageUnsupported, what, { cause, details: format === undefined ? {} : { format } });
}

const heifBrands = new Set(['avif', 'avis', 'heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  return bytes.byteLength >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);
}

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/**
 * Recognises raster formats by their magic bytes, ignoring any file name. Only bytes that match
 * go on to libvips, so SVG (external references), PDF, HTML and anything else never reach a
 * parser at all. Returns undefined for everything else.
 */
export function sniffRasterFormat(bytes: Uint8Array): 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'heif' | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('II*\0')) || startsWith(bytes, ascii('MM\0*'))) return 'tiff';
  if (startsWith(bytes, ascii('ftyp'), 4) && bytes.byteLength >= 12) {
    const brand = String.fromCharCode(...bytes.subarray(8, 12));
    if (heifBrands.has(brand)) return 'heif';
  }
  return undefined;
}

/** Checks size, format and pixel count without a full decode. Throws IMAGE_* errors. */
export async function probeImage(bytes: Uint8Array, limits: ImageLimits = defaultImageLimits): Promise<ImageInfo> {
  if (bytes.byteLength === 0) throw new ReferentError(ErrorCode.ImageEmpty, 'The file is empty (0 bytes).');
  if (bytes.byteLength > limits.maxBytes) {
    throw new ReferentError(ErrorCode.ImageTooLarge, `The image is ${bytes.byteLength} bytes; the limit is ${limits.maxBytes}.`, {
      details: { bytes: bytes.byteLength, limit: limits.maxBytes },
    });
  }
  // SVG is the one non-raster format sharp reads from a buffer; it only gets past here when allowed.
  const sniffed = sniffRasterFormat(bytes);
  if (sniffed === undefined && limits.allowSvg !== true) throw unsupported(undefined);
  let meta: Metadata;
  try {
    meta = await open(bytes, limits).metadata();
  } catch (err) {
    throw classify(err, sniffed !== undefined);
  }
  const format = meta.format ?? 'unknown';
  const allowed = rasterFormats.has(format) || (format === 'svg' && limits.allowSvg === true);
  if (!allowed) {
    throw unsupported(format);
  }
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  if (width <= 0 || height <= 0) throw new ReferentError(ErrorCode.ImageCorrupt, 'The image has no dimensions.');
  if (width * height > limits.maxPixels) {
    throw new ReferentError(ErrorCode.ImageTooManyPixels, `The image is ${width}×${height} pixels; the limit is ${limits.maxPixels}.`, {
      details: { width, height, limit: limits.maxPixels },
    });
  }
  return { format, width, height };
}

export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'lanczos3';

export interface ModelInputSpec {
  /** Resize so the shortest edge is this long (aspect kept); undefined = resize to exactly crop size. */
  shortestEdge?: number;
  /** Exact output size after resizing (squash) when shortestEdge is not given. */
  resizeTo?: { width: number; height: number };
  /** Centre crop to this size after resizing; undefined = no crop. */
  crop?: { width: number; height: number };
  kernel: ResizeKernel;
}

/**
 * The longest side a decode for a model keeps at least (unless the image is smaller): the media
 * store's thumbnail size, so that ingest makes the thumbnail and the model input from one decode.
 */
export const WORKING_LONG_SIDE = 512;

/** Where the model's resize goes, before any crop: the shortest edge, an exact size, or the image as it is. */
function resizeTarget(info: ImageInfo, spec: ModelInputSpec): { width: number; height: number } {
  if (spec.shortestEdge !== undefined) {
    const scale = spec.shortestEdge / Math.min(info.width, info.height);
    return { width: Math.max(1, Math.round(info.width * scale)), height: Math.max(1, Math.round(info.height * scale)) };
  }
  return spec.resizeTo ?? { width: info.width, height: info.height };
}

/**
 * One decode of an image for a model: upright (EXIF orientation applied), sRGB, alpha dropped, and
 * scaled down, never up, only as far as both the model's resize target and a WORKING_LONG_SIDE
 * thumbnail allow. A JPEG is decoded at a reduced DCT scale (libjpeg's shrink-on-load) where that is
 * enough, so a 12 MP photo costs about what its entropy decoding costs.
 */
async function decodeWorking(bytes: Uint8Array, info: ImageInfo, target: { width: number; height: number }, limits: ImageLimits): Promise<RawRgb> {
  const scale = Math.min(1, Math.max(target.width / info.width, target.height / info.height, WORKING_LONG_SIDE / Math.max(info.width, info.height)));
  let pipeline = open(bytes, limits).rotate().removeAlpha().toColourspace('srgb');
  if (scale < 1) {
    const width = Math.max(1, Math.round(info.width * scale));
    const height = Math.max(1, Math.round(info.height * scale));
    pipeline = pipeline.resize(width, height, { fit: 'fill', kernel: 'lanczos3' });
  }
  const out = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (out.info.channels !== 3) throw new ReferentError(ErrorCode.ImageCorrupt, `Unexpected channel count ${out.info.channels}.`);
  return { data: out.data, width: out.info.width, height: out.info.height };
}

/** The model's resize and centre crop, from a working decode. */
async function modelInputFrom(working: RawRgb, target: { width: number; height: number }, spec: ModelInputSpec): Promise<RawRgb> {
  let { width, height } = target;
  const raw = { raw: { width: working.width, height: working.height, channels: 3 as const } };
  let data = working.data;
  if (working.width !== width || working.height !== height) {
    data = await sharp(working.data, raw).resize(width, height, { fit: 'fill', kernel: spec.kernel }).raw().toBuffer();
  }
  if (spec.crop) {
    const cw = Math.min(spec.crop.width, width);
    const ch = Math.min(spec.crop.height, height);
    if (cw !== width || ch !== height) {
      // Resize and extract must be separate stages or sharp reorders them.
      data = await sharp(data, { raw: { width, height, channels: 3 } })
        .extract({ left: Math.floor((width - cw) / 2), top: Math.floor((height - ch) / 2), width: cw, height: ch })
        .raw()
        .toBuffer();
      width = cw;
      height = ch;
    }
  }
  return { data, width, height };
}

/**
 * Decodes an untrusted image and produces the RGB pixels an encoder consumes: EXIF orientation
 * applied, alpha dropped, resized and centre-cropped as the model's preprocessor describes.
 * Ingest and query both go through here (or through thumbnailAndModelInput, which gives the same
 * pixels), so both see identical pixels.
 */
export async function decodeForModel(bytes: Uint8Array, spec: ModelInputSpec, limits: ImageLimits = defaultImageLimits): Promise<RawRgb> {
  const info = await probeImage(bytes, limits);
  try {
    const target = resizeTarget(info, spec);
    return await modelInputFrom(await decodeWorking(bytes, info, target, limits), target, spec);
  } catch (err) {
    throw classify(err);
  }
}

/** What the media store keeps as the original. */
export interface StorableOriginal {
  data: Uint8Array;
  format: 'jpeg' | 'png';
  /** Size as an upright viewer sees it (EXIF orientation applied). */
  width: number;
  height: number;
  /** True when `data` is the posted picture data as it came (metadata dropped), false when re-encoded. */
  asPosted: boolean;
}

/**
 * The original to store for an untrusted image. A JPEG or PNG (sRGB, grey or with an ICC profile;
 * not CMYK) within `maxSide` is kept as posted, minus its metadata (strip-metadata.ts): no decode, no
 * re-encode, no generation loss, and no CPU taken from the encoder during a large ingest. Anything
 * else (other formats, CMYK, larger than `maxSide`, a structure the stripper does not follow) is
 * re-encoded: PNG stays PNG, the rest becomes JPEG q90, EXIF orientation applied, longest side at
 * most `maxSide` (undefined: no bound beyond the image limits). Either way nothing but picture is
 * stored. The caller must still decode the result once (the thumbnail does) before trusting it.
 */
export async function storableOriginal(bytes: Uint8Array, maxSide: number | undefined, limits: ImageLimits = defaultImageLimits): Promise<StorableOriginal> {
  const info = await probeImage(bytes, limits);
  const within = maxSide === undefined || Math.max(info.width, info.height) <= maxSide;
  if (within && (info.format === 'jpeg' || info.format === 'png')) {
    const meta = await open(bytes, limits).metadata();
    const orientation = meta.orientation ?? 1;
    const plainColour = meta.space === 'srgb' || meta.space === 'b-w' || meta.space === 'rgb16' || meta.space === 'grey16';
    const kept = !plainColour ? undefined : info.format === 'jpeg' ? stripJpeg(bytes, orientation) : orientation === 1 ? stripPng(bytes) : undefined;
    if (kept !== undefined) return { data: kept, format: info.format, width: info.width, height: info.height, asPosted: true };
  }
  return { ...(await reencodedOriginal(bytes, info, maxSide, limits)), asPosted: false };
}

async function reencodedOriginal(
  bytes: Uint8Array,
  info: ImageInfo,
  maxSide: number | undefined,
  limits: ImageLimits,
): Promise<{ data: Buffer; format: 'jpeg' | 'png'; width: number; height: number }> {
  try {
    // PNG keeps lossless sources lossless; everything else is stored as JPEG, with libjpeg-turbo's
    // own encoder: mozjpeg's makes files about a quarter smaller but took 340 ms instead of 58 ms per
    // 1-12 MP photo here, more than the ViT-B/16 encoder itself (docs/ingest-performance.md).
    const format = info.format === 'png' ? 'png' : 'jpeg';
    let pipeline = open(bytes, limits).rotate();
    if (maxSide !== undefined) pipeline = pipeline.resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
    pipeline = format === 'png' ? pipeline.png() : pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: 90 });
    const out = await pipeline.toBuffer({ resolveWithObject: true });
    return { data: out.data, format, width: out.info.width, height: out.info.height };
  } catch (err) {
    throw classify(err);
  }
}

/**
 * A card thumbnail: JPEG, longest side at most `size`. It decodes the whole image (libjpeg's
 * shrink-on-load still reads every byte of the compressed data), so a damaged file fails here.
 * libjpeg-turbo's encoder, not mozjpeg's: 21 instead of 36 ms per photo, for files a quarter larger (25 vs 20 KiB).
 */
export async function thumbnailJpeg(bytes: Uint8Array, size: number, limits: ImageLimits = defaultImageLimits): Promise<Buffer> {
  await probeImage(bytes, limits);
  try {
    return await open(bytes, limits)
      .rotate()
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 82 })
      .toBuffer();
  } catch (err) {
    throw classify(err);
  }
}

/**
 * A card thumbnail (as thumbnailJpeg makes it) and the model input (exactly what decodeForModel
 * gives) from one decode, where one decode serves both: a JPEG, with a thumbnail no larger than
 * WORKING_LONG_SIDE. Otherwise the two are made apart. Ingest calls this for every new photo: the
 * decode is most of its CPU work besides the encoder (docs/ingest-performance.md).
 */
export async function thumbnailAndModelInput(
  bytes: Uint8Array,
  size: number,
  spec: ModelInputSpec,
  limits: ImageLimits = defaultImageLimits,
): Promise<{ thumbnail: Buffer; modelInput: RawRgb }> {
  const info = await probeImage(bytes, limits);
  if (info.format !== 'jpeg' || size > WORKING_LONG_SIDE) {
    return { thumbnail: await thumbnailJpeg(bytes, size, limits), modelInput: await decodeForModel(bytes, spec, limits) };
  }
  try {
    const target = resizeTarget(info, spec);
    const working = await decodeWorking(bytes, info, target, limits);
    const [thumbnail, modelInput] = await Promise.all([
      sharp(working.data, { raw: { width: working.width, height: working.height, channels: 3 } })
        .resize(size, size, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 82 })
        .toBuffer(),
      modelInputFrom(working, target, spec),
    ]);
    return { thumbnail, modelInput };
  } catch (err) {
    throw classify(err);
  }
}

/**
 * The one image OCR sees: EXIF orientation applied (phone photos are otherwise read sideways or
 * not at all), transparency flattened onto white (a transparent PNG's hidden pixels are black, so
 * black text would vanish), longest side capped at `maxSide` (the engine has no cap of its own: a
 * 4000² photo takes ~27 s and 3.4 GB), then written as a lossless sRGB PNG without compression
 * (it is decoded again at once, in memory). failOn 'error' rather than 'warning': text on an image
 * with a minor defect libvips only warns about is still worth reading. Throws probeImage's IMAGE_* errors.
 */
export async function prepareForOcr(bytes: Uint8Array, maxSide = 1600, limits: ImageLimits = defaultImageLimits): Promise<Buffer> {
  await probeImage(bytes, limits);
  try {
    return await sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'error', sequentialRead: true })
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .png({ compressionLevel: 0 })
      .toBuffer();
  } catch (err) {
    throw classify(err);
  }
}

/** Renders a solid-colour (optionally noisy) PNG; used by generators and tests for known pixels. */
export async function solidPng(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
}

/** Known pixels to encode: interleaved bytes, row-major, length width × height × channels. */
export interface RawPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

export type EncodeFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff';

/** What a camera or an editor writes beside the pixels, for tests of what is stored. */
export interface EncodeOptions {
  /** An EXIF Orientation tag (1–8), written without touching the pixels, as cameras do. */
  orientation?: number;
  /** EXIF fields by IFD, as sharp's withExif takes them: { IFD0: { Artist: '…' }, IFD3: { GPSLatitudeRef: 'N' } }. */
  exif?: Record<string, Record<string, string>>;
  /** An XMP packet. */
  xmp?: string;
  /** Embed this ICC profile ('p3', 'cmyk' or a file). */
  icc?: string;
  /** JPEG only: progressive (several scans) instead of baseline. */
  progressive?: boolean;
  /** JPEG only: store CMYK pixels. */
  cmyk?: boolean;
}

/** Encodes known pixels into a real file; for generators and tests, which may not import sharp. */
export async function encodePixels(raw: RawPixels, format: EncodeFormat, options: EncodeOptions = {}): Promise<Buffer> {
  let pipeline = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
  if (options.cmyk) pipeline = pipeline.toColourspace('cmyk');
  if (options.icc !== undefined) pipeline = pipeline.withIccProfile(options.icc);
  if (options.exif !== undefined) pipeline = pipeline.withExif(options.exif);
  if (options.xmp !== undefined) pipeline = pipeline.withXmp(options.xmp);
  if (options.orientation !== undefined) pipeline = pipeline.withMetadata({ orientation: options.orientation });
  if (format === 'jpeg') return pipeline.jpeg({ progressive: options.progressive === true }).toBuffer();
  return pipeline.toFormat(format).toBuffer();
}

/** An image's pixels as an upright viewer sees them (EXIF orientation applied), RGB; for tests and benches. */
export async function decodeUpright(bytes: Uint8Array): Promise<RawRgb> {
  try {
    const out = await sharp(bytes, { failOn: 'warning' }).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { data: out.data, width: out.info.width, height: out.info.height };
  } catch (err) {
    throw classify(err);
  }
}
