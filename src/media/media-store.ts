/**
 * Content-addressed storage for image media: the original (a JPEG or PNG as posted, metadata
 * dropped; anything else re-encoded) and a JPEG card thumbnail per image, keyed by the sha256 of the
 * bytes that were uploaded. Files only; the
 * catalog (SQLite) remains the source of truth for which items exist.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDir, writeDurably } from '../durable-fs.js';
import { asDiskError, ErrorCode, ReferentError } from '../errors.js';
import {
  defaultImageLimits,
  probeImage,
  storableOriginal,
  thumbnailAndModelInput,
  thumbnailJpeg,
  type ImageLimits,
  type ModelInputSpec,
  type RawRgb,
} from '../image/image-io.js';

/** What is stored for one key. Describes the stored original, not the uploaded bytes. */
export interface StoredMedia {
  /** sha256 (64 lowercase hex) of the uploaded bytes: the dedupe key. */
  key: string;
  /** Format of the stored original: PNG sources stay PNG, everything else is stored as JPEG. */
  format: 'jpeg' | 'png';
  /** Size of the stored original, EXIF orientation applied; longest side ≤ maxSide when one is set. */
  width: number;
  height: number;
  /** Size in bytes of the stored original file. */
  bytes: number;
}

/**
 * Where a store is and how it makes its files: plain data, so ingest's worker threads
 * (src/ingest/preprocessor.ts) open the same store and do the decoding and writing there.
 */
export interface MediaStoreSpec {
  root: string;
  limits: ImageLimits;
  /** Longest side of stored originals; undefined: a JPEG or PNG is kept as posted. */
  maxSide?: number;
  thumbSize: number;
}

export interface PutOptions {
  /**
   * Also give this model input (decodeForModel's pixels) when `put` decodes anyway: new bytes kept
   * as posted. A JPEG's comes from the decode that makes the thumbnail (ingest's one decode per
   * photo); a PNG's from a decode of its own.
   */
  modelInput?: ModelInputSpec;
}

/** What `put` stored, and the model input when it was asked for and could be made on the way. */
export interface PutResult extends StoredMedia {
  modelInput?: RawRgb;
}

export interface MediaPaths {
  original: string;
  thumbnail: string;
}

/**
 * Stores untrusted images. Invariants:
 * - `put` validates the bytes (typed IMAGE_* errors) before anything is written; content decides
 *   the format, never a file name. Only picture data is stored: a kept JPEG or PNG loses every
 *   metadata segment or chunk and whatever trails it, anything else is re-encoded, so payloads
 *   riding on a valid image (polyglots, EXIF, GPS, comments) are never stored or served.
 * - Keys are validated (64 lowercase hex) before any path is built; any other string, such as a
 *   traversal attempt, gets NOT_FOUND without touching the filesystem.
 * - Writes are atomic and durable: temp file in the same folder, fsync, rename, fsync the folder.
 *   No partial file ever sits under a final name. A full disk gives DISK_FULL and earlier media
 *   stay intact.
 * - The original is written last and is the commit marker: `has`/`keys` count a key only once its
 *   original and thumbnail both exist.
 */
export interface MediaStore {
  /** Validates and stores; storing a key that is already present is a cheap no-op with the same answer. */
  put(bytes: Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** How another thread or process opens this same store (createFsMediaStore(spec.root, spec)); undefined with a test's write hook. */
  readonly spec: MediaStoreSpec | undefined;
  /** The key `put` would give these bytes, without storing anything. */
  hash(bytes: Uint8Array): string;
  /** False for an unknown key and for an invalid one (never an error, never a filesystem access). */
  has(key: string): Promise<boolean>;
  /** Throws NOT_FOUND for an unknown or invalid key. */
  info(key: string): Promise<StoredMedia>;
  /** Throws NOT_FOUND for an unknown or invalid key. */
  readOriginal(key: string): Promise<Buffer>;
  /** JPEG, longest side ≤ thumbSize. Throws NOT_FOUND for an unknown or invalid key. */
  readThumbnail(key: string): Promise<Buffer>;
  /**
   * Where a stored key's files are (for serving or listing). Synchronous so result listings need
   * no await per hit (two stat calls). Throws NOT_FOUND when no original is stored.
   */
  paths(key: string): MediaPaths;
  /** Deletes both files. Idempotent: removing a missing key succeeds. */
  remove(key: string): Promise<void>;
  /** Every stored key, in ascending order, for consistency checks against the catalog. */
  keys(): AsyncIterable<string>;
  /**
   * Deletes every file (original, thumbnail, temporary) whose key `keep` refuses and that was last
   * written more than `olderThanMs` ago. `put` refreshes that time on the files it reuses.
   */
  sweep(keep: (key: string) => boolean | Promise<boolean>, options: { olderThanMs: number }): Promise<{ removed: number }>;
}

/**
 * Writes `data` to a new file at `path` and makes it durable (fsync) before returning. A test seam:
 * tests inject a failure (ENOSPC) here; production code leaves it unset.
 */
export type DurableWrite = (path: string, data: Uint8Array) => Promise<void>;

export interface FsMediaStoreOptions {
  limits?: ImageLimits;
  /**
   * Longest side of stored originals: larger ones are re-encoded down to it. Default none: a JPEG or
   * PNG is kept as posted (within the image limits), which costs no CPU at ingest but more disk.
   */
  maxSide?: number;
  /** Longest side of thumbnails (default 512). */
  thumbSize?: number;
  /** Test-only hook replacing the temp-file write (see DurableWrite). */
  writeFile?: DurableWrite;
}

const keyPattern = /^[0-9a-f]{64}$/;
const fanOutPattern = /^[0-9a-f]{2}$/;
const originalPattern = /^([0-9a-f]{64})\.(jpg|png)$/;
const extensions = { jpeg: 'jpg', png: 'png' } as const;
/** Temp names start with a dot, so no listing ever mistakes one for a stored file. */
const tempPrefix = '.tmp-';
/** What a sweep considers: stored files by their key, and temporary files. */
const sweptPattern = /^(\.tmp-.+|[0-9a-f]{64}\.(jpg|png))$/;

function checkKey(key: string): void {
  if (typeof key !== 'string' || !keyPattern.test(key)) {
    throw new ReferentError(ErrorCode.NotFound, 'No media with that key.', { details: { reason: 'invalid key' } });
  }
}

function notFound(key: string): ReferentError {
  return new ReferentError(ErrorCode.NotFound, 'No media with that key.', { details: { key } });
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** `fallback()` when the file or folder does not exist; any other error passes through. */
async function unlessMissing<T>(work: Promise<T>, fallback: () => T): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isMissing(err)) return fallback();
    throw err;
  }
}

const exists = (path: string): Promise<boolean> => unlessMissing(stat(path).then(() => true), () => false);

/** Creates `dir` and fsyncs every parent that gained an entry, so a crash cannot lose the folder. */
async function ensureDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created === undefined) return;
  for (let d = dirname(dir); ; d = dirname(d)) {
    await syncDir(d);
    if (d === dirname(created) || d === dirname(d)) break;
  }
}

async function sortedEntries(dir: string, pattern: RegExp): Promise<string[]> {
  const names = await unlessMissing(readdir(dir), () => []);
  return names.filter((name) => pattern.test(name)).sort();
}

function readOrNotFound(key: string, path: string): Promise<Buffer> {
  return unlessMissing(readFile(path), () => {
    throw notFound(key);
  });
}

/** Temp file in the same folder, durable write, rename, fsync the folder: readers see all or nothing. */
async function writeAtomically(finalPath: string, data: Uint8Array, durableWrite: DurableWrite): Promise<void> {
  const dir = dirname(finalPath);
  try {
    await ensureDir(dir);
    const temp = join(dir, `${tempPrefix}${basename(finalPath)}.${randomUUID()}`);
    try {
      await durableWrite(temp, data);
      await rename(temp, finalPath);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    await syncDir(dir);
  } catch (err) {
    throw asDiskError(err, 'an image to the media folder');
  }
}

type Located = { path: string; format: StoredMedia['format'] };

/** Layout: `originals/ab/cd/<key>.<jpg|png>` and `thumbs/ab/cd/<key>.jpg` under the root. */
class FsMediaStore implements MediaStore {
  private readonly originalsDir: string;
  private readonly thumbsDir: string;
  // What is stored was validated on the way in; only its bounded size matters now (no byte limit:
  // a PNG re-encoded from a WebP can be larger than what was posted).
  private readonly storedLimits: ImageLimits;

  constructor(
    root: string,
    private readonly limits: ImageLimits,
    private readonly maxSide: number | undefined,
    private readonly thumbSize: number,
    private readonly durableWrite: DurableWrite,
    readonly spec: MediaStoreSpec | undefined,
  ) {
    this.originalsDir = join(root, 'originals');
    this.thumbsDir = join(root, 'thumbs');
    this.storedLimits = { maxBytes: Number.MAX_SAFE_INTEGER, maxPixels: limits.maxPixels };
  }

  hash(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const key = this.hash(bytes);
    // Same bytes, same key: they were validated when first stored, so skip the decode.
    const existing = await this.committed(key);
    if (existing !== undefined) {
      // Fresh times tell a concurrent sweep that these files are about to be used again.
      const now = new Date();
      await Promise.all([existing.path, this.thumbnailPath(key)].map((path) => utimes(path, now, now).catch(() => {})));
      return this.describe(key, existing.path);
    }
    const original = await storableOriginal(bytes, this.maxSide, this.limits);
    // Also the one full decode of what is stored: a file damaged anywhere fails here. Kept as posted,
    // the stored file decodes to the posted pixels (strip-metadata.ts keeps all that shapes them), so
    // the same decode can give the model input; a re-encoded one would not.
    let thumbnail: Buffer;
    let modelInput: RawRgb | undefined;
    if (options.modelInput !== undefined && original.asPosted) {
      ({ thumbnail, modelInput } = await thumbnailAndModelInput(original.data, this.thumbSize, options.modelInput, this.limits));
    } else {
      thumbnail = await thumbnailJpeg(original.data, this.thumbSize, original.asPosted ? this.limits : this.storedLimits);
    }
    // Thumbnail first: the original is the commit marker, written last.
    await writeAtomically(this.thumbnailPath(key), thumbnail, this.durableWrite);
    try {
      await writeAtomically(this.originalPath(key, original.format), original.data, this.durableWrite);
    } catch (err) {
      // Leave no orphan thumbnail, unless a concurrent put of the same bytes has committed meanwhile.
      if ((await this.findOriginal(key)) === undefined) await rm(this.thumbnailPath(key), { force: true });
      throw err;
    }
    const stored = { key, format: original.format, width: original.width, height: original.height, bytes: original.data.length };
    return modelInput === undefined ? stored : { ...stored, modelInput };
  }

  async has(key: string): Promise<boolean> {
    // RegExp.test would turn an array or a Buffer holding a key into that key, then fail building a path.
    return typeof key === 'string' && keyPattern.test(key) && (await this.committed(key)) !== undefined;
  }

  async info(key: string): Promise<StoredMedia> {
    return this.describe(key, (await this.requireStored(key)).path);
  }

  async readOriginal(key: string): Promise<Buffer> {
    return readOrNotFound(key, (await this.requireStored(key)).path);
  }

  async readThumbnail(key: string): Promise<Buffer> {
    await this.requireStored(key);
    return readOrNotFound(key, this.thumbnailPath(key));
  }

  paths(key: string): MediaPaths {
    checkKey(key);
    const original = (['jpeg', 'png'] as const).map((format) => this.originalPath(key, format)).find((path) => existsSync(path));
    if (original === undefined) throw notFound(key);
    return { original, thumbnail: this.thumbnailPath(key) };
  }

  async remove(key: string): Promise<void> {
    checkKey(key);
    // Original first: once it is gone the key no longer counts as stored.
    await Promise.all((['jpeg', 'png'] as const).map((format) => rm(this.originalPath(key, format), { force: true })));
    await rm(this.thumbnailPath(key), { force: true });
    await syncDir(this.shard(this.originalsDir, key));
    await syncDir(this.shard(this.thumbsDir, key));
  }

  async *keys(): AsyncIterable<string> {
    const base = this.originalsDir;
    for (const ab of await sortedEntries(base, fanOutPattern)) {
      for (const cd of await sortedEntries(join(base, ab), fanOutPattern)) {
        const names = await sortedEntries(join(base, ab, cd), originalPattern);
        // A file filed under the wrong prefix is not addressable by its key, so it is not listed.
        const found = names.map((n) => n.slice(0, 64)).filter((k) => k.startsWith(ab + cd));
        for (const key of new Set(found)) if (await exists(this.thumbnailPath(key))) yield key;
      }
    }
  }

  async sweep(keep: (key: string) => boolean | Promise<boolean>, options: { olderThanMs: number }): Promise<{ removed: number }> {
    const cutoff = Date.now() - options.olderThanMs;
    let removed = 0;
    for (const base of [this.originalsDir, this.thumbsDir]) {
      for (const ab of await sortedEntries(base, fanOutPattern)) {
        for (const cd of await sortedEntries(join(base, ab), fanOutPattern)) {
          const dir = join(base, ab, cd);
          for (const name of await sortedEntries(dir, sweptPattern)) {
            if (!name.startsWith(tempPrefix) && (await keep(name.slice(0, 64)))) continue;
            const info = await unlessMissing(stat(join(dir, name)), () => null);
            if (info === null || info.mtimeMs > cutoff) continue;
            await rm(join(dir, name), { force: true });
            removed++;
          }
          if (removed > 0) await syncDir(dir);
        }
      }
    }
    return { removed };
  }

  private shard(base: string, key: string): string {
    return join(base, key.slice(0, 2), key.slice(2, 4));
  }

  private originalPath(key: string, format: StoredMedia['format']): string {
    return join(this.shard(this.originalsDir, key), `${key}.${extensions[format]}`);
  }

  private thumbnailPath(key: string): string {
    return join(this.shard(this.thumbsDir, key), `${key}.jpg`);
  }

  /** The stored original of a valid key, if any. */
  private async findOriginal(key: string): Promise<Located | undefined> {
    for (const format of ['jpeg', 'png'] as const) {
      const path = this.originalPath(key, format);
      if (await exists(path)) return { path, format };
    }
    return undefined;
  }

  /** The original, once both files exist (the state `put` commits). */
  private async committed(key: string): Promise<Located | undefined> {
    const original = await this.findOriginal(key);
    return original !== undefined && (await exists(this.thumbnailPath(key))) ? original : undefined;
  }

  private async requireStored(key: string): Promise<Located> {
    checkKey(key);
    const found = await this.committed(key);
    if (found === undefined) throw notFound(key);
    return found;
  }

  private async describe(key: string, path: string): Promise<StoredMedia> {
    const data = await readOrNotFound(key, path);
    const { format, width, height } = await probeImage(data, this.storedLimits);
    return { key, format: format === 'png' ? 'png' : 'jpeg', width, height, bytes: data.length };
  }
}

/** The filesystem MediaStore under `root` (created on first write). Throws CONFIG_INVALID for bad sizes. */
export function createFsMediaStore(root: string, options: FsMediaStoreOptions = {}): MediaStore {
  const { maxSide } = options;
  const thumbSize = options.thumbSize ?? 512;
  for (const [name, value] of Object.entries({ ...(maxSide === undefined ? {} : { maxSide }), thumbSize })) {
    if (!Number.isInteger(value) || value < 1) throw new ReferentError(ErrorCode.ConfigInvalid, `Media ${name} must be a positive integer.`);
  }
  const limits = options.limits ?? defaultImageLimits;
  const spec = options.writeFile ? undefined : { root, limits, thumbSize, ...(maxSide === undefined ? {} : { maxSide }) };
  return new FsMediaStore(root, limits, maxSide, thumbSize, options.writeFile ?? ((path, data) => writeDurably(path, data, { exclusive: true })), spec);
}
