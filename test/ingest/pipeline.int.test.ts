/**
 * The ingest pipeline (preprocessing in worker threads, a bounded read-ahead, batches formed from
 * whatever is ready in source order, commits while the encoder runs the next batch), checked by behaviour: every
 * source ends as exactly one event, what was reported added is committed with the vector the encoder
 * gives that file alone, the read-ahead stays within its bound, a hostile file fails alone, and an
 * abort leaves only whole items. Never by timing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { encodePixels, probeImage } from '../../src/image/image-io.js';
import { ingest, type IngestEvent, type IngestOptions } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, type Referent } from '../../src/open.js';
import { buildHostileCorpus, hostileLimits } from '../media/hostile-corpus.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';

const limitsEnv = { REFERENT_MAX_IMAGE_BYTES: String(hostileLimits.maxBytes), REFERENT_MAX_IMAGE_PIXELS: String(hostileLimits.maxPixels) };
const base: IngestOptions = { collection: 'parts', batchSize: 4, maxImageBytes: hostileLimits.maxBytes, maxTextChars: 200 };

function writeManifest(file: string, images: string[]): string {
  fs.writeFileSync(file, images.map((image) => JSON.stringify({ image })).join('\n') + '\n');
  return file;
}

/** Every origin's events: each source must end as exactly one. */
function byOrigin(events: IngestEvent[]): Map<string, IngestEvent[]> {
  const out = new Map<string, IngestEvent[]>();
  for (const e of events) out.set(e.origin, [...(out.get(e.origin) ?? []), e]);
  return out;
}

describe('the ingest pipeline', () => {
  let dir: string;
  let referent: Referent;

  beforeEach(async () => {
    dir = tempDir();
    referent = await openReferent(testConfig(path.join(dir, 'data'), limitsEnv));
  });
  afterEach(async () => {
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([2, 0])('with %i worker threads: one event per source; what is reported added is committed, with the vector of that file alone', async (workers) => {
    const img = path.join(dir, 'img');
    await makeColourGallery(img, 8, ['red', 'green', 'blue']);
    fs.copyFileSync(path.join(img, 'red-1.png'), path.join(img, 'twin.png'));
    fs.writeFileSync(path.join(img, 'notes.png'), 'not an image at all');
    const files = [...['red', 'green', 'blue'].flatMap((c) => Array.from({ length: 8 }, (_, i) => `${c}-${i + 1}.png`)), 'twin.png', 'notes.png', 'missing.png'];
    const manifest = writeManifest(path.join(img, 'list.jsonl'), files);

    const events: IngestEvent[] = [];
    // SQLite answers in the calling thread, so this read sees the catalogue as it is when the event fires.
    const atEvent: Array<Promise<unknown>> = [];
    const summary = await ingest(referent, await readSources(manifest), {
      ...base,
      workers,
      readAhead: 5,
      onEvent: (e) => {
        events.push(e);
        if (e.event === 'added') atEvent.push(referent.catalog.getItem(e.itemId));
      },
    });

    const origins = byOrigin(events);
    expect([...origins.keys()].sort()).toEqual(files.map((_, i) => `list.jsonl:${i + 1}`).sort());
    for (const [origin, list] of origins) expect(list, origin).toHaveLength(1);
    expect(summary).toMatchObject({ added: 24, skipped: 1, interrupted: false });
    expect(Object.fromEntries(summary.failed.map((f) => [f.origin, f.code]))).toEqual({ 'list.jsonl:26': ErrorCode.ImageUnsupported, 'list.jsonl:27': ErrorCode.NotFound });
    for (const item of await Promise.all(atEvent)) expect(item).not.toBeNull();
    // Commits follow source order, so item ids do too, whichever image was prepared first.
    const added = events.filter((e) => e.event === 'added');
    const lines = added.map((e) => Number(e.origin.split(':')[1]));
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(added.map((e) => e.itemId)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(summary.pipeline).toMatchObject({ workers, readAhead: 5 });
    expect(summary.pipeline!.peakAhead).toBeLessThanOrEqual(5);
    expect(summary.pipeline!.largestBatch).toBeLessThanOrEqual(4);

    const stored = new Map((await referent.catalog.itemVectors(referent.encoder.modelId, 0, 1000)).map((v) => [v.itemId, v.vector]));
    for (const e of events) {
      if (e.event !== 'added') continue;
      const file = files[Number(e.origin.split(':')[1]) - 1]!;
      const [alone] = await referent.encoder.encodeImages([fs.readFileSync(path.join(img, file))]);
      const vector = stored.get(e.itemId)!;
      expect(vector, file).toBeDefined();
      alone!.forEach((x, j) => expect(Math.abs(x - vector[j]!), `${file}[${j}]`).toBeLessThan(1e-5));
    }
    expect(await referent.index.count()).toBe(24);
  });

  it('with worker threads, a JPEG photo is decoded once for its thumbnail and the model, and its vector is the one a photo search computes', async () => {
    const img = path.join(dir, 'photos');
    fs.mkdirSync(img);
    const files: string[] = [];
    for (const [i, [width, height, orientation]] of ([[1800, 1200, 1], [1600, 1200, 6], [3000, 700, 1], [200, 150, 1]] as const).entries()) {
      const data = new Uint8Array(width * height * 3);
      for (let p = 0; p < width * height; p++) data.set([(p * (i + 3)) % 251, ((p % width) * 255) / width, (p / width) % 200], p * 3);
      const file = `photo-${i}.jpg`;
      fs.writeFileSync(path.join(img, file), await encodePixels({ data, width, height, channels: 3 }, 'jpeg', { orientation }));
      files.push(file);
    }
    const summary = await ingest(referent, await readSources(img), { ...base, workers: 2 });
    expect(summary).toMatchObject({ added: 4, failed: [] });
    const items = await referent.catalog.itemVectors(referent.encoder.modelId, 0, 100);
    expect(items).toHaveLength(4);
    for (const { itemId, vector } of items) {
      const item = (await referent.catalog.getItem(itemId))!;
      const file = files.find((f) => referent.media.hash(fs.readFileSync(path.join(img, f))) === item.mediaKey)!;
      expect(file, `item ${itemId}`).toBeDefined();
      const [query] = await referent.encoder.encodeImages([fs.readFileSync(path.join(img, file))]);
      query!.forEach((x, j) => expect(Math.abs(x - vector[j]!), `${file}[${j}]`).toBeLessThan(1e-5));
      const thumbnail = await probeImage(await referent.media.readThumbnail(item.mediaKey));
      expect(Math.max(thumbnail.width, thumbnail.height), file).toBe(Math.min(512, Math.max(item.width, item.height)));
    }
  });

  it('passes a folder far larger than its read-ahead bound through, never holding more', async () => {
    const img = path.join(dir, 'img');
    await makeColourGallery(img, 30, ['red', 'green', 'blue']);
    const summary = await ingest(referent, await readSources(img), { ...base, batchSize: 2, workers: 1, readAhead: 3 });
    expect(summary).toMatchObject({ added: 90, skipped: 0, failed: [], interrupted: false });
    expect(summary.pipeline).toMatchObject({ readAhead: 3, peakAhead: 3 });
    expect(summary.pipeline!.batches).toBeGreaterThanOrEqual(45);
    expect(await referent.catalog.countItems()).toBe(90);
  });

  it('fails each hostile or oversized file alone, with its code, and the files around it go through', async () => {
    const img = path.join(dir, 'img');
    await makeColourGallery(img, 6, ['red', 'blue']);
    const corpus = await buildHostileCorpus();
    const good = ['red', 'blue'].flatMap((c) => Array.from({ length: 6 }, (_, i) => `${c}-${i + 1}.png`));
    const hostile = corpus.map((c) => `${c.name}--${c.fileName}`);
    for (const [i, c] of corpus.entries()) fs.writeFileSync(path.join(img, hostile[i]!), c.bytes);
    // The hostile files sit in the middle, so good files are prepared before, beside and after them.
    const files = [...good.slice(0, 6), ...hostile, ...good.slice(6)];
    const manifest = writeManifest(path.join(img, 'list.jsonl'), files);

    const events: IngestEvent[] = [];
    const summary = await ingest(referent, await readSources(manifest), { ...base, workers: 2, readAhead: 6, onEvent: (e) => events.push(e) });
    const outcome = new Map([...byOrigin(events)].map(([origin, list]) => [files[Number(origin.split(':')[1]) - 1]!, list]));
    expect(outcome.size).toBe(files.length);
    for (const file of good) expect(outcome.get(file), file).toEqual([expect.objectContaining({ event: 'added' })]);
    for (const [i, c] of corpus.entries()) {
      const got = outcome.get(hostile[i]!)!;
      expect(got, c.name).toHaveLength(1);
      if (c.expected === 'accepted') expect(['added', 'skipped'], c.name).toContain(got[0]!.event);
      else expect(got[0], c.name).toMatchObject({ event: 'failed', code: c.expected });
    }
    expect(summary.failed.length).toBe(corpus.filter((c) => c.expected !== 'accepted').length);
  });

  it('stops on abort leaving only whole items, and a re-run finishes the rest', async () => {
    const img = path.join(dir, 'img');
    await makeColourGallery(img, 15, ['red', 'green', 'blue', 'yellow']);
    const abort = new AbortController();
    let added = 0;
    const partial = await ingest(referent, await readSources(img), {
      ...base,
      workers: 2,
      signal: abort.signal,
      onEvent: (e) => e.event === 'added' && ++added === 10 && abort.abort(),
    });
    expect(partial.interrupted).toBe(true);
    expect(partial.added).toBeGreaterThanOrEqual(10);
    expect(partial.added).toBeLessThan(60);

    // Whole items only: each has its media and its index entry, and no media were stored without an item.
    const items = await Promise.all(Array.from({ length: partial.added }, (_, i) => referent.catalog.getItem(i + 1)));
    for (const item of items) {
      expect(item).not.toBeNull();
      expect(await referent.media.has(item!.mediaKey)).toBe(true);
      expect(await referent.index.holds(item!.id)).toBe(true);
    }
    let keys = 0;
    for await (const _ of referent.media.keys()) keys++;
    expect(keys).toBe(partial.added);
    expect(await referent.catalog.countItems()).toBe(partial.added);

    const rest = await ingest(referent, await readSources(img), { ...base, workers: 2 });
    expect(rest).toMatchObject({ added: 60 - partial.added, skipped: partial.added, failed: [], interrupted: false });
    expect(await referent.catalog.countItems()).toBe(60);
    expect(await referent.index.count()).toBe(60);
  });
});
