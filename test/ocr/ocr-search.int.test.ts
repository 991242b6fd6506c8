/**
 * The whole path with the real engine: rendered labels are ingested, read in the background queue
 * (PaddleOCR in its worker thread), and a search for an identifier finds its label first and says
 * so. Real catalogue, index, demo encoder and OCR models from the installed package.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { normalizeIdentifier } from '../../src/ocr/identifiers.js';
import { OcrQueue, type OcrSummary } from '../../src/ocr/ocr-queue.js';
import { PaddleOcr } from '../../src/ocr/paddle-ocr.js';
import { openReferent, type Referent } from '../../src/open.js';
import { searchItems } from '../../src/search/search.js';
import { makeLabelGallery, type GalleryLabel } from '../../scripts/make-label-gallery.js';
import { solidPng } from '../../src/image/image-io.js';
import { tempDir, testConfig } from '../support/fixtures.js';

describe('OCR on ingest, then hybrid search (real PaddleOCR)', () => {
  let dir: string;
  let referent: Referent;
  let queue: OcrQueue;
  let labels: GalleryLabel[];
  let summary: OcrSummary;
  const logged: string[] = [];

  beforeAll(async () => {
    dir = tempDir();
    referent = await openReferent(testConfig(path.join(dir, 'data')));
    const gallery = await makeLabelGallery(path.join(dir, 'labels'), { count: 6, seed: 3 });
    labels = gallery.labels;
    const list = await readSources(gallery.manifest);
    // Plus an image with nothing printed on it.
    list.sources.push({ path: '', bytes: await solidPng(200, 120, [90, 140, 200]), origin: 'plain.png' });
    const result = await ingest(referent, list, { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 22, maxTextChars: 500 });
    expect(result.failed).toEqual([]);
    queue = new OcrQueue(referent, () => PaddleOcr.create({ minConfidence: 0.6 }), { minConfidence: 0.6, log: (l) => logged.push(l) });
    summary = await queue.drain();
  }, 120_000);
  afterAll(async () => {
    await queue.close();
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads every image once; the plain image adds nothing', async () => {
    expect(summary.read).toBe(labels.length + 1);
    expect(summary.withText).toBe(labels.length);
    expect(await referent.catalog.countOcr()).toEqual({ read: labels.length + 1, withText: labels.length, pending: 0 });
  });

  it('finds each label first by its identifier, written as people write it, and says the label reads it', async () => {
    for (const label of labels) {
      const id = label.identifiers[0]!;
      for (const query of [id, id.toLowerCase().replace(/[-\s]/g, '')]) {
        const [first] = await searchItems(referent, { text: query, limit: 3 }, { maxTextChars: 500 });
        const item = (await referent.catalog.getItem(first!.itemId))!;
        expect((await referent.catalog.ocrOf(item.id))!.identifiers, `${query} → ${item.caption}`).toContain(normalizeIdentifier(id));
        expect(first!.why!.summary).toMatch(/^label reads "/);
      }
    }
  });

  it('a second run finds nothing left to read', async () => {
    expect(await queue.drain()).toEqual({ read: 0, withText: 0, failed: 0 });
    expect(logged).toEqual([]);
  });
});
