import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isReferentError } from '../../src/errors.js';
import { imageToTensor, loadPreprocessorConfig } from '../../src/encoder/preprocess.js';
import { decodeForModel, decodeUpright, defaultImageLimits, encodePixels, probeImage, solidPng, type ModelInputSpec, type RawPixels } from '../../src/image/image-io.js';
import { prepareImage } from '../../src/ingest/prepare-image.js';
import { createFsMediaStore, type DurableWrite, type MediaStore } from '../../src/media/media-store.js';
import { tinyModelDir } from '../support/fixtures.js';
import { buildHostileCorpus, hostileLimits } from './hostile-corpus.js';

/** Listens where the hostile SVGs point, so the test can prove nothing ever fetched them. */
async function startCanary(): Promise<{ server: Server; url: string; hits: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/x.png`, hits: () => count };
}

const canary = await startCanary();
const corpus = await buildHostileCorpus({ canaryUrl: canary.url });
const scratch: string[] = [];

async function newRoot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'referent-media-'));
  scratch.push(dir);
  return join(dir, 'media');
}

/** Every file under `dir`, relative, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of iterable) out.push(key);
  return out;
}

function twoColour(width: number, height: number): RawPixels {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(i % width < width / 2 ? [220, 30, 30] : [30, 30, 220], i * 3);
  return { data, width, height, channels: 3 };
}

const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

afterAll(async () => {
  await new Promise((resolve) => canary.server.close(resolve));
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('hostile corpus through MediaStore.put', () => {
  let store: MediaStore;
  let root: string;
  beforeEach(async () => {
    root = await newRoot();
    store = createFsMediaStore(root, { limits: hostileLimits });
  });

  it.each(corpus.map((c) => [c.name, c] as const))('%s gives its expected outcome', async (_name, hostile) => {
    const outcome = await store.put(hostile.bytes).then(
      (stored) => ({ accepted: true as const, stored }),
      (err: unknown) => ({ accepted: false as const, err }),
    );
    if (hostile.expected === 'accepted') {
      expect(outcome.accepted, hostile.why).toBe(true);
      const key = store.hash(hostile.bytes);
      expect(await store.has(key)).toBe(true);
      if (hostile.forbiddenInOutput !== undefined) {
        for (const data of [await store.readOriginal(key), await store.readThumbnail(key)]) {
          expect(data.includes(hostile.forbiddenInOutput)).toBe(false);
        }
      }
    } else {
      expect(outcome.accepted, hostile.why).toBe(false);
      const err = outcome.accepted ? undefined : outcome.err;
      expect(isReferentError(err), String(err)).toBe(true);
      expect(isReferentError(err) && err.code).toBe(hostile.expected);
      expect(await listFiles(root)).toEqual([]);
    }
  });

  it('survives the whole corpus at once and never fetches anything an SVG points at', async () => {
    const results = await Promise.allSettled(corpus.map((c) => store.put(c.bytes)));
    const accepted = results.filter((r) => r.status === 'fulfilled').length;
    expect(accepted).toBe(corpus.filter((c) => c.expected === 'accepted').length);
    for (const r of results) if (r.status === 'rejected') expect(isReferentError(r.reason)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(canary.hits()).toBe(0);
  });
});

describe('createFsMediaStore', () => {
  let store: MediaStore;
  let root: string;
  beforeEach(async () => {
    root = await newRoot();
    store = createFsMediaStore(root);
  });
  afterEach(async () => {
    expect((await listFiles(root)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it.each([
    ['jpeg', 'jpeg'],
    ['png', 'png'],
    ['webp', 'jpeg'],
    ['gif', 'jpeg'],
  ] as const)('stores a valid %s as %s with a JPEG thumbnail', async (input, storedAs) => {
    const bytes = await encodePixels(twoColour(600, 400), input);
    const stored = await store.put(bytes);
    expect(stored).toMatchObject({ key: store.hash(bytes), format: storedAs, width: 600, height: 400 });
    const original = await store.readOriginal(stored.key);
    expect(stored.bytes).toBe(original.length);
    expect(await probeImage(original)).toEqual({ format: storedAs, width: 600, height: 400 });
    expect(await probeImage(await store.readThumbnail(stored.key))).toEqual({ format: 'jpeg', width: 512, height: 341 });
    expect(await store.info(stored.key)).toEqual(stored);
    const paths = store.paths(stored.key);
    expect(paths.original).toBe(join(root, 'originals', stored.key.slice(0, 2), stored.key.slice(2, 4), `${stored.key}.${storedAs === 'png' ? 'png' : 'jpg'}`));
    expect(paths.thumbnail).toBe(join(root, 'thumbs', stored.key.slice(0, 2), stored.key.slice(2, 4), `${stored.key}.jpg`));
  });

  it('keeps a JPEG or PNG as posted by default: 3000×1000 stays 3000×1000 with the same pixels, thumbnail 512×171', async () => {
    for (const bytes of [await solidPng(3000, 1000, [10, 120, 200]), await encodePixels(twoColour(3000, 1000), 'jpeg')]) {
      const stored = await store.put(bytes);
      expect(stored).toMatchObject({ width: 3000, height: 1000 });
      const original = await store.readOriginal(stored.key);
      expect((await decodeUpright(original)).data.equals((await decodeUpright(bytes)).data)).toBe(true);
      expect(await probeImage(await store.readThumbnail(stored.key))).toEqual({ format: 'jpeg', width: 512, height: 171 });
    }
  });

  it('with maxSide, bounds the original: 3000×1000 is stored at 2048×683, thumbnail 512×171', async () => {
    const bounded = createFsMediaStore(await newRoot(), { maxSide: 2048 });
    for (const bytes of [await solidPng(3000, 1000, [10, 120, 200]), await encodePixels(twoColour(3000, 1000), 'jpeg')]) {
      const stored = await bounded.put(bytes);
      expect(stored).toMatchObject({ width: 2048, height: 683 });
      expect(await probeImage(await bounded.readOriginal(stored.key))).toMatchObject({ width: 2048, height: 683 });
      expect(await probeImage(await bounded.readThumbnail(stored.key))).toEqual({ format: 'jpeg', width: 512, height: 171 });
    }
  });

  it('never enlarges small images and applies EXIF orientation to what it stores', async () => {
    const stored = await store.put(await encodePixels(twoColour(40, 20), 'jpeg', { orientation: 6 }));
    expect(stored).toMatchObject({ width: 20, height: 40 });
    expect(await probeImage(await store.readThumbnail(stored.key))).toMatchObject({ width: 20, height: 40 });
  });

  it('keys are the sha256 of the input bytes, and a second put of the same bytes writes nothing', async () => {
    const bytes = await encodePixels(twoColour(64, 64), 'png');
    const first = await store.put(bytes);
    expect(first.key).toBe(createHash('sha256').update(bytes).digest('hex'));
    const before = await stat(store.paths(first.key).original);
    const again = await Promise.all([store.put(bytes), store.put(Buffer.from(bytes))]);
    expect(again).toEqual([first, first]);
    const after = await stat(store.paths(first.key).original);
    // Not rewritten (same file), only its time refreshed so a concurrent sweep keeps it.
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBeGreaterThanOrEqual(before.mtimeMs);
    expect(await collect(store.keys())).toEqual([first.key]);
  });

  it('concurrent puts of the same new bytes agree and leave one copy', async () => {
    const bytes = await encodePixels(twoColour(80, 60), 'webp');
    const results = await Promise.all(Array.from({ length: 5 }, () => store.put(bytes)));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(await listFiles(root)).toHaveLength(2);
  });

  it('remove deletes both files and is idempotent', async () => {
    const a = await store.put(await solidPng(30, 30, [1, 2, 3]));
    const b = await store.put(await solidPng(30, 30, [3, 2, 1]));
    await store.remove(a.key);
    await store.remove(a.key);
    expect(await store.has(a.key)).toBe(false);
    await expect(store.readOriginal(a.key)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(store.readThumbnail(a.key)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(store.info(a.key)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect(() => store.paths(a.key)).toThrow(expect.objectContaining({ code: ErrorCode.NotFound }));
    expect(await collect(store.keys())).toEqual([b.key]);
    expect((await listFiles(root)).some((f) => f.includes(a.key))).toBe(false);
  });

  it('keys() lists stored keys in order and ignores anything else in the folder', async () => {
    const stored = await Promise.all([[200, 0, 0], [0, 200, 0], [0, 0, 200]].map(async (c) => store.put(await solidPng(8, 8, c as [number, number, number]))));
    const [first] = stored;
    const shard = join(root, 'originals', first!.key.slice(0, 2), first!.key.slice(2, 4));
    await writeFile(join(shard, `.tmp-${first!.key}.jpg.leftover`), 'partial');
    await writeFile(join(shard, 'notes.txt'), 'x');
    await writeFile(join(shard, `${'f'.repeat(64)}.jpg`), 'misfiled under the wrong prefix');
    expect(await collect(store.keys())).toEqual(stored.map((s) => s.key).sort());
    await rm(join(shard, `.tmp-${first!.key}.jpg.leftover`));
  });

  it('rejects keys that are not 64 lowercase hex before touching the filesystem', async () => {
    const fresh = await newRoot();
    const untouched = createFsMediaStore(fresh);
    const valid = 'a'.repeat(64);
    const bad = ['../../etc/passwd', '..%2f..%2fetc%2fpasswd', '', 'A'.repeat(64), `${valid.slice(0, 63)}/`, `${valid}/../x`, `${valid}\0`, valid.slice(1), `../${valid.slice(3)}`];
    for (const key of bad) {
      expect(await untouched.has(key)).toBe(false);
      for (const call of [() => untouched.readOriginal(key), () => untouched.readThumbnail(key), () => untouched.info(key), () => untouched.remove(key)]) {
        await expect(call()).rejects.toMatchObject({ code: ErrorCode.NotFound });
      }
      expect(() => untouched.paths(key)).toThrow(expect.objectContaining({ code: ErrorCode.NotFound }));
    }
    await expect(stat(fresh)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each([
    ['thumbnail', 1],
    ['original', 2],
  ])('a full disk while writing the %s gives DISK_FULL, leaves no temp file and keeps earlier media', async (_what, failOnCall) => {
    const earlier = await store.put(await solidPng(50, 40, [0, 128, 0]));
    const earlierBytes = await store.readOriginal(earlier.key);
    let calls = 0;
    // Simulates a write that gets half-way and then runs out of space.
    const failing: DurableWrite = async (path, data) => {
      if (++calls === failOnCall) {
        await writeFile(path, data.subarray(0, data.length >> 1), { flag: 'wx' });
        throw enospc();
      }
      await writeFile(path, data, { flag: 'wx' });
    };
    const full = createFsMediaStore(root, { writeFile: failing });
    const bytes = await encodePixels(twoColour(300, 200), 'jpeg');
    await expect(full.put(bytes)).rejects.toMatchObject({ code: ErrorCode.DiskFull });
    const files = await listFiles(root);
    expect(files).toHaveLength(2);
    expect(files.every((name) => name.includes(earlier.key))).toBe(true);
    expect(await store.has(store.hash(bytes))).toBe(false);
    expect(await store.readOriginal(earlier.key)).toEqual(earlierBytes);
    expect(await collect(store.keys())).toEqual([earlier.key]);
    // Space freed: the same upload now succeeds.
    expect((await store.put(bytes)).key).toBe(store.hash(bytes));
  });

  it('rejects nonsense options', () => {
    expect(() => createFsMediaStore(root, { maxSide: 0 })).toThrow(expect.objectContaining({ code: ErrorCode.ConfigInvalid }));
  });
});

describe('put with a model input (ingest: one decode for the thumbnail and the model)', () => {
  const clip: ModelInputSpec = { shortestEdge: 224, crop: { width: 224, height: 224 }, kernel: 'cubic' };

  it('gives decodeForModel’s pixels for a new JPEG kept as posted, and nothing when there was no decode', async () => {
    const store = createFsMediaStore(await newRoot());
    const jpeg = await encodePixels(twoColour(1600, 1200), 'jpeg', { orientation: 6 });
    const first = await store.put(jpeg, { modelInput: clip });
    expect(first.modelInput?.data.equals((await decodeForModel(jpeg, clip)).data)).toBe(true);
    const { modelInput: _, ...stored } = first;
    expect(await store.info(first.key)).toEqual(stored);
    expect(await probeImage(await store.readThumbnail(first.key))).toEqual({ format: 'jpeg', width: 384, height: 512 });
    // Already stored: no decode, so no model input (the caller decodes).
    expect((await store.put(jpeg, { modelInput: clip })).modelInput).toBeUndefined();
    // Re-encoded originals decode to other pixels than what was posted: never used for the model.
    const bounded = createFsMediaStore(await newRoot(), { maxSide: 1000 });
    expect((await bounded.put(jpeg, { modelInput: clip })).modelInput).toBeUndefined();
    const webp = await encodePixels(twoColour(600, 400), 'webp');
    expect((await store.put(webp, { modelInput: clip })).modelInput).toBeUndefined();
  });

  it('in ingest’s preparing step, removes what it stored when the encoder cannot take the image', async () => {
    const root = await newRoot();
    const jpeg = await encodePixels(twoColour(1600, 1200), 'jpeg');
    const preprocess = await loadPreprocessorConfig(tinyModelDir);
    const spec = {
      maxImageBytes: defaultImageLimits.maxBytes,
      // The encoder takes fewer pixels than the media store here, so the store accepts what the encoder refuses.
      pixels: { preprocess, limits: { ...defaultImageLimits, maxPixels: 1000 * 1000 } },
      media: { root, limits: defaultImageLimits, thumbSize: 512 },
    };
    await expect(prepareImage({ bytes: jpeg }, spec)).rejects.toMatchObject({ code: ErrorCode.ImageTooManyPixels });
    expect(await collect(createFsMediaStore(root).keys())).toEqual([]);
    expect((await listFiles(root)).filter((f) => !f.includes('.tmp-'))).toEqual([]);
    // With the same limits on both, it is prepared from one decode and stored.
    const prepared = await prepareImage({ bytes: jpeg }, { ...spec, pixels: { preprocess, limits: defaultImageLimits } });
    expect(prepared).toMatchObject({ storedNew: true, stored: { width: 1600, height: 1200 } });
    expect(prepared.tensor?.data).toEqual((await imageToTensor(jpeg, preprocess)).data);
  });
});

describe('REFERENT_ORIGINAL_MAX_SIDE', () => {
  it('reaches the media store openStores makes: unset keeps 3000×1000 as posted, 1000 re-encodes it to 1000×333', async () => {
    const { parseConfig } = await import('../../src/config.js');
    const { openStores } = await import('../../src/open.js');
    const bytes = await encodePixels(twoColour(3000, 1000), 'jpeg');
    for (const [value, expected] of [[undefined, { width: 3000, height: 1000 }], ['1000', { width: 1000, height: 333 }]] as const) {
      const dataDir = await mkdtemp(join(tmpdir(), 'referent-media-config-'));
      scratch.push(dataDir);
      const config = parseConfig({ env: { REFERENT_DATA_DIR: dataDir, ...(value ? { REFERENT_ORIGINAL_MAX_SIDE: value } : {}) } });
      const stores = await openStores(config);
      try {
        expect(await stores.media.put(bytes)).toMatchObject(expected);
      } finally {
        await stores.close();
      }
    }
    expect(() => parseConfig({ env: { REFERENT_ORIGINAL_MAX_SIDE: '100' } })).toThrow(/REFERENT_ORIGINAL_MAX_SIDE/);
  });
});
