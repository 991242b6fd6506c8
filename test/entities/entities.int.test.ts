/**
 * The review loop and entity commands on a real data folder: real SQLite, real HNSW, the demo ONNX
 * encoder. A verdict or a description must change the very next search.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { describe as describeEntity, forget, review, show, undoReview } from '../../src/entities/entities.js';
import { ErrorCode } from '../../src/errors.js';
import { solidPng } from '../../src/image/image-io.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { dataPaths, openReferent, type Referent } from '../../src/open.js';
import { embedTexts } from '../../src/references/embed-text.js';
import { searchItems } from '../../src/search/search.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';

const limits = { maxTextChars: 500 };
let dir: string;
let referent: Referent;

beforeEach(async () => {
  dir = tempDir();
  referent = await openReferent(testConfig(path.join(dir, 'data')));
  const manifest = await makeColourGallery(path.join(dir, 'img'), 6, ['red', 'blue', 'green']);
  await ingest(referent, await readSources(manifest), { collection: 'parts', batchSize: 8, maxImageBytes: 1 << 20, maxTextChars: 500 });
});

afterEach(async () => {
  await referent.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

const search = (text: string, limit = 5) => searchItems(referent, { text, limit }, limits);

describe('review loop', () => {
  it('a reject demotes the image for the next similar query, and undo restores it', async () => {
    const before = await search('red');
    const top = before[0]!;
    expect(top.item.caption).toMatch(/^a red /);
    const { verdict } = await review(referent, { query: 'red', itemId: top.itemId, verdict: 'reject', user: 'U1' }, limits);
    expect(verdict).toMatchObject({ verdict: 'reject', itemId: top.itemId, linked: false, textId: null });

    const after = await search('red', 20);
    expect(after[0]!.itemId).not.toBe(top.itemId);
    const demoted = after.find((h) => h.itemId === top.itemId)!;
    expect(demoted.components!.feedback).toBeLessThan(0);
    expect(demoted.why!.feedback).toBe('rejected');
    // An unrelated query is not affected.
    const blue = await search('blue', 20);
    expect(blue.every((h) => h.components!.feedback === 0)).toBe(true);

    await undoReview(referent, verdict.id);
    expect((await search('red'))[0]!.itemId).toBe(top.itemId);
    await expect(undoReview(referent, verdict.id)).rejects.toThrow(expect.objectContaining({ code: ErrorCode.NotFound }));
  });

  it('a confirm links an unlabelled photo, keeps the query as a description, and lifts it next time', async () => {
    const extra = path.join(dir, 'extra');
    fs.mkdirSync(extra);
    fs.writeFileSync(path.join(extra, 'new-red.png'), await solidPng(50, 50, [200, 20, 40]));
    fs.writeFileSync(path.join(extra, 'plain.jsonl'), `${JSON.stringify({ image: 'new-red.png' })}\n`);
    await ingest(referent, await readSources(path.join(extra, 'plain.jsonl')), { collection: 'parts', batchSize: 8, maxImageBytes: 1 << 20, maxTextChars: 500 });
    const unlabelled = [...(await referent.catalog.getItems(Array.from({ length: 40 }, (_, i) => i + 1))).values()].find((i) => i.caption === null)!;
    expect(unlabelled.entityId).toBeNull();

    const query = 'red cap';
    await expect(review(referent, { query, itemId: unlabelled.id, verdict: 'confirm' }, limits)).rejects.toMatchObject({ code: ErrorCode.LabelNeeded });
    const { verdict, entity } = await review(referent, { query, itemId: unlabelled.id, verdict: 'confirm', entityLabel: 'RED-cap', user: 'U2' }, limits);
    expect(verdict).toMatchObject({ linked: true, verdict: 'confirm' });
    expect(entity!.label).toBe('RED-cap');
    expect((await referent.catalog.getItem(unlabelled.id))!.entityLabel).toBe('RED-cap');

    const view = await show(referent, 'RED-cap');
    expect(view.items.map((i) => i.id)).toContain(unlabelled.id);
    expect(view.descriptions).toContainEqual(expect.objectContaining({ text: query, source: 'review' }));

    const next = await search(query);
    expect(next[0]!.itemId).toBe(unlabelled.id);
    expect(next[0]!.why!.feedback).toBe('confirmed');
    expect(next[0]!.why!.entity).toMatchObject({ label: 'RED-cap', linked: true });

    // Undo unlinks it and drops the kept description.
    await undoReview(referent, verdict.id);
    expect((await referent.catalog.getItem(unlabelled.id))!.entityId).toBeNull();
    expect((await show(referent, 'RED-cap')).descriptions.map((d) => d.source)).not.toContain('review');
  });

  it('refuses a verdict on an unknown image or an over-long query', async () => {
    await expect(review(referent, { query: 'red', itemId: 99999, verdict: 'reject' }, limits)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(review(referent, { query: 'x'.repeat(501), itemId: 1, verdict: 'reject' }, limits)).rejects.toMatchObject({ code: ErrorCode.TextTooLong });
  });
});

describe('refined search', () => {
  it('answers a photo alone and a photo with text, with components and an explanation', async () => {
    const photo = await solidPng(30, 30, [210, 40, 35]);
    const byPhoto = await searchItems(referent, { image: photo, limit: 3 }, limits);
    expect(byPhoto[0]!.item.caption).toMatch(/^a red /);
    expect(byPhoto[0]!.components).not.toBeNull();
    expect(byPhoto[0]!.why!.summary.length).toBeGreaterThan(0);
    const both = await searchItems(referent, { image: photo, text: 'red', limit: 3 }, limits);
    expect(both[0]!.item.caption).toMatch(/^a red /);
    const plain = await searchItems(referent, { image: photo, limit: 3, refine: false }, limits);
    expect(plain[0]!.components).toBeNull();
  });

  it('names the entity and the description that matched', async () => {
    const [hit] = await search('green');
    expect(hit!.why!.entity).toMatchObject({ linked: true, label: hit!.item.entityLabel });
    expect(hit!.why!.description!.text).toMatch(/^a green /);
  });
});

describe('entities', () => {
  it('describe adds a description with its details, and show reports the reference', async () => {
    await describeEntity(referent, { label: 'BLUE-washer', text: 'a blue washer, zinc coated and 10 mm', collection: 'parts' }, limits);
    const view = await show(referent, 'BLUE-washer');
    expect(view.descriptions.map((d) => d.text)).toEqual(['a blue washer', 'a blue washer, zinc coated and 10 mm']);
    expect(view.details).toEqual(expect.arrayContaining(['zinc coated', '10 mm']));
    expect(view.descriptions.reduce((s, d) => s + d.weight, 0)).toBeCloseTo(1, 6);
    expect(view.photoWeights).toHaveLength(view.items.length);
  });

  it('forget removes the images, their media, descriptions and verdicts, and search never returns them', async () => {
    const label = 'RED-hex-bolt';
    const items = (await show(referent, label)).items;
    expect(items.length).toBeGreaterThan(0);
    await review(referent, { query: 'red bolt', itemId: items[0]!.id, verdict: 'reject' }, limits);
    const files = items.map((i) => referent.media.paths(i.mediaKey).original);
    expect(files.every((f) => fs.existsSync(f))).toBe(true);
    const uploaded = { platform: 'slack', workspace: 'T1', mediaKey: items[0]!.mediaKey };
    await referent.catalog.setPlatformFile(uploaded, 'F-UPLOADED');
    expect(await referent.catalog.platformFile(uploaded)).toBe('F-UPLOADED');

    const { items: forgotten } = await forget(referent, label);
    expect(forgotten).toBe(items.length);
    expect(files.some((f) => fs.existsSync(f))).toBe(false);
    // The copy a chat platform holds is forgotten too: no card can show the photo again.
    expect(await referent.catalog.platformFile(uploaded)).toBeNull();
    for (const i of items) {
      expect(await referent.catalog.getItem(i.id)).toBeNull();
      expect(await referent.index.holds(i.id)).toBe(false);
    }
    await expect(show(referent, label)).rejects.toThrow(expect.objectContaining({ code: ErrorCode.NotFound }));
    const ids = new Set(items.map((i) => i.id));
    const hits = await search('red', 50);
    expect(hits.flatMap((h) => [h.itemId, ...h.more]).some((id) => ids.has(id))).toBe(false);
    expect(await referent.catalog.verdictsOn([...ids], referent.encoder.modelId)).toEqual([]);
  });

  it('follows descriptions written by another process on the next query', async () => {
    const other = SqliteCatalog.open(dataPaths(path.join(dir, 'data')).catalog);
    try {
      const entity = other.findEntities('GREEN-cap')[0]!;
      const [embedding] = await embedTexts(referent.encoder, ['green cap with a white logo']);
      other.addText({ entityId: entity.id, body: 'green cap with a white logo', source: 'describe' }, embedding!);
    } finally {
      other.close();
    }
    await search('green');
    expect((await show(referent, 'GREEN-cap')).descriptions.map((d) => d.text)).toContain('green cap with a white logo');
  });

  it('says which collection when a label is ambiguous', async () => {
    await referent.catalog.ensureEntity((await referent.catalog.ensureCollection('other')).id, 'RED-cap');
    await expect(show(referent, 'RED-cap')).rejects.toThrow(expect.objectContaining({ code: ErrorCode.LabelAmbiguous }));
    expect((await show(referent, 'RED-cap', 'parts')).entity.label).toBe('RED-cap');
  });
});
