import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { ingest, type IngestEvent } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, type Referent } from '../../src/open.js';
import { searchItems } from '../../src/search/search.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';

describe('ingest and search with the demo encoder', () => {
  let dir: string;
  let referent: Referent;
  const config = () => testConfig(path.join(dir, 'data'));
  const options = { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 200 };

  beforeEach(async () => {
    dir = tempDir();
    referent = await openReferent(config());
  });
  afterEach(async () => {
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('adds a manifest, skips it on a re-run, and ranks red images first for "red"', async () => {
    const manifest = await makeColourGallery(path.join(dir, 'img'), 3, ['red', 'green', 'blue']);
    const events: IngestEvent[] = [];
    const first = await ingest(referent, await readSources(manifest), { ...options, onEvent: (e) => events.push(e) });
    expect(first).toMatchObject({ added: 9, skipped: 0, failed: [], interrupted: false });
    expect(events.filter((e) => e.event === 'added')).toHaveLength(9);
    const again = await ingest(referent, await readSources(manifest), options);
    expect(again).toMatchObject({ added: 0, skipped: 9 });
    expect(await referent.catalog.countItems()).toBe(9);
    expect(await referent.index.count()).toBe(9);

    for (const colour of ['red', 'green', 'blue']) {
      const hits = await searchItems(referent, { text: colour, limit: 3 }, config());
      expect(hits.map((h) => h.item.caption?.split(' ')[1])).toEqual([colour, colour, colour]);
    }
    const [top] = await searchItems(referent, { text: 'a red hex bolt', limit: 1 }, config());
    expect(top!.item.caption).toMatch(/^a red /);
    expect(top!.item.entityLabel).toMatch(/^RED-/);
  });

  it('finds by photo, and by photo and text together', async () => {
    const manifest = await makeColourGallery(path.join(dir, 'img'), 2, ['red', 'green', 'blue']);
    await ingest(referent, await readSources(manifest), options);
    const photo = fs.readFileSync(path.join(dir, 'img', 'blue-2.png'));
    const byPhoto = await searchItems(referent, { image: photo, limit: 2 }, config());
    expect(byPhoto.map((h) => h.item.caption?.split(' ')[1])).toEqual(['blue', 'blue']);
    const both = await searchItems(referent, { image: photo, text: 'blue', limit: 1 }, config());
    expect(both[0]!.item.caption).toMatch(/blue/);
  });

  it('searches only the collections asked for, and names an unknown one', async () => {
    const reds = await makeColourGallery(path.join(dir, 'reds'), 2, ['red']);
    const blues = await makeColourGallery(path.join(dir, 'blues'), 2, ['blue']);
    await ingest(referent, await readSources(reds), { ...options, collection: 'reds' });
    await ingest(referent, await readSources(blues), { ...options, collection: 'blues' });
    const hits = await searchItems(referent, { text: 'red', limit: 10, collections: ['blues'] }, config());
    expect(hits).toHaveLength(2);
    expect(hits.every((h) => h.item.caption?.includes('blue'))).toBe(true);
    await expect(searchItems(referent, { text: 'red', limit: 5, collections: ['nope'] }, config())).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });

  it('fails bad entries one by one with reasons and keeps the good ones', async () => {
    const img = path.join(dir, 'img');
    await makeColourGallery(img, 1, ['red']);
    fs.writeFileSync(path.join(img, 'text.png'), 'this is not an image');
    fs.writeFileSync(path.join(img, 'empty.jpg'), '');
    fs.writeFileSync(path.join(img, 'big.png'), Buffer.alloc(2 << 20, 1));
    const manifest = path.join(img, 'mixed.jsonl');
    const lines = [
      { image: 'red-1.png', caption: 'ok' },
      { image: 'missing.png' },
      { image: 'text.png' },
      { image: 'empty.jpg' },
      { image: 'big.png' },
      { image: 'red-1.png', caption: 'x'.repeat(500) },
    ];
    fs.writeFileSync(manifest, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{broken\n`);
    const summary = await ingest(referent, await readSources(manifest), options);
    expect(summary.added).toBe(1);
    expect(Object.fromEntries(summary.failed.map((f) => [f.origin, f.code]))).toEqual({
      'mixed.jsonl:2': ErrorCode.NotFound,
      'mixed.jsonl:3': ErrorCode.ImageUnsupported,
      'mixed.jsonl:4': ErrorCode.ImageEmpty,
      'mixed.jsonl:5': ErrorCode.ImageTooLarge,
      'mixed.jsonl:6': ErrorCode.TextTooLong,
      'mixed.jsonl:7': ErrorCode.ManifestInvalid,
    });
  });

  it('stops between batches when aborted, and a re-run completes the work', async () => {
    const manifest = await makeColourGallery(path.join(dir, 'img'), 4, ['red', 'green']);
    const abort = new AbortController();
    const partial = await ingest(referent, await readSources(manifest), {
      ...options,
      signal: abort.signal,
      onEvent: (e) => e.event === 'added' && abort.abort(),
    });
    expect(partial.interrupted).toBe(true);
    // The batch being committed finishes; what was prepared or encoded after it is dropped.
    expect(partial.added).toBeGreaterThanOrEqual(1);
    expect(partial.added).toBeLessThan(8);
    expect(await referent.catalog.countItems()).toBe(partial.added);
    const rest = await ingest(referent, await readSources(manifest), options);
    expect(rest).toMatchObject({ added: 8 - partial.added, skipped: partial.added });
  });

  it('refuses queries without content, too long, or with a bad limit', async () => {
    const c = config();
    await expect(searchItems(referent, { text: '  ', limit: 5 }, c)).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    await expect(searchItems(referent, { text: 'x'.repeat(c.maxTextChars + 1), limit: 5 }, c)).rejects.toMatchObject({ code: ErrorCode.TextTooLong });
    await expect(searchItems(referent, { text: 'red', limit: 0 }, c)).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    expect(await searchItems(referent, { text: 'red', limit: 5 }, c)).toEqual([]);
  });
});
