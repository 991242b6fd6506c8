/**
 * The demo gallery generator: a manifest `referent ingest` reads, decodable images, the promised
 * counts, determinism, and example queries that find their entity on the demo encoder.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDemoGallery, type DemoGallery } from '../../scripts/make-demo-gallery.js';
import { describe as describeEntity } from '../../src/entities/entities.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent } from '../../src/open.js';
import { searchItems } from '../../src/search/search.js';
import { tempDir, testConfig } from '../support/fixtures.js';

const root = tempDir('referent-demo-gallery-');
const dir = path.join(root, 'gallery');
let gallery: DemoGallery;

beforeAll(async () => {
  gallery = await makeDemoGallery(dir);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const readManifest = (d: string) => fs.readFileSync(path.join(d, 'manifest.jsonl'), 'utf8');
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('makeDemoGallery', () => {
  it('writes a manifest whose every line is an ingest record for an existing file', async () => {
    const lines = readManifest(dir).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(gallery.images.length);
    for (const line of lines) {
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(record).every((k) => ['image', 'collection', 'caption', 'entity'].includes(k))).toBe(true);
      expect(record.collection).toMatch(/^(parts|people)$/);
      expect(fs.existsSync(path.join(dir, record.image as string))).toBe(true);
    }
    const { sources, problems } = await readSources(path.join(dir, 'manifest.jsonl'));
    expect(problems).toEqual([]);
    expect(sources).toHaveLength(lines.length);
    expect(new Set(sources.map((s) => sha256(s.path))).size).toBe(sources.length);
  });

  it('draws decodable square images of a sane size', async () => {
    for (const image of gallery.images) {
      const file = path.join(dir, image.file);
      const meta = await sharp(file).metadata();
      expect(meta.format).toBe(image.kind === 'part' ? 'png' : 'jpeg');
      expect(meta.width).toBe(meta.height);
      expect(meta.width).toBeGreaterThanOrEqual(128);
      expect(meta.width).toBeLessThanOrEqual(1024);
      const { info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
      expect(info.width * info.height).toBe(meta.width! * meta.height!);
    }
  });

  it('has the promised parts, people, entities and unlabelled photos', () => {
    const parts = gallery.images.filter((i) => i.collection === 'parts');
    const people = gallery.images.filter((i) => i.collection === 'people');
    expect(parts.length).toBeGreaterThanOrEqual(50);
    expect(people.length).toBeGreaterThanOrEqual(20);
    expect(gallery.collections).toEqual([
      { name: 'parts', kind: 'part', images: parts.length },
      { name: 'people', kind: 'person', images: people.length },
    ]);
    expect(gallery.entities.length).toBeGreaterThanOrEqual(8);
    expect(gallery.entities.filter((e) => e.kind === 'part').length).toBeGreaterThanOrEqual(8);
    expect(gallery.entities.filter((e) => e.kind === 'person').length).toBeGreaterThanOrEqual(4);
    const manifest = readManifest(dir).trim().split('\n').map((l) => JSON.parse(l) as { image: string; entity?: string; caption?: string });
    for (const entity of gallery.entities) {
      expect(entity.images.length).toBeGreaterThanOrEqual(2);
      expect(entity.descriptions.length).toBeGreaterThanOrEqual(1);
      expect(entity.descriptions.length).toBeLessThanOrEqual(2);
      expect(entity.collection).toBe(entity.kind === 'part' ? 'parts' : 'people');
      expect(manifest.filter((r) => r.entity === entity.label).map((r) => r.image).sort()).toEqual([...entity.images].sort());
    }
    const unlabelled = manifest.filter((r) => r.entity === undefined).map((r) => r.image);
    expect(unlabelled.sort()).toEqual([...gallery.unlabelled].sort());
    expect(unlabelled.length).toBeGreaterThan(gallery.images.length / 2);
    expect(gallery.entities.some((e) => e.unlabelledViews.length > 0)).toBe(true);
    expect(manifest.filter((r) => r.caption !== undefined && r.entity === undefined).length).toBeGreaterThanOrEqual(2);
    expect(gallery.exampleQueries.length).toBeGreaterThanOrEqual(3);
    expect(gallery.exampleQueries.length).toBeLessThanOrEqual(5);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'demo.json'), 'utf8'))).toEqual(gallery);
  });

  it('is deterministic for a seed: the same manifest and the same image bytes', async () => {
    const again = path.join(root, 'again');
    const other = path.join(root, 'other');
    await makeDemoGallery(again);
    await makeDemoGallery(other, { seed: 7 });
    expect(readManifest(again)).toBe(readManifest(dir));
    for (const image of gallery.images) expect(sha256(path.join(again, image.file))).toBe(sha256(path.join(dir, image.file)));
    expect(gallery.images.some((i) => fs.existsSync(path.join(other, i.file)) && sha256(path.join(other, i.file)) !== sha256(path.join(dir, i.file)))).toBe(true);
  });

  it('example queries find their entity first on the demo encoder, once the descriptions are added', async () => {
    const referent = await openReferent(testConfig(path.join(root, 'data')));
    try {
      const summary = await ingest(referent, await readSources(path.join(dir, gallery.manifest)), { collection: 'default', batchSize: 16, maxImageBytes: 1 << 22, maxTextChars: 500 });
      expect(summary.failed).toEqual([]);
      expect(summary.added).toBe(gallery.images.length);
      for (const entity of gallery.entities) {
        for (const text of entity.descriptions) await describeEntity(referent, { label: entity.label, text, collection: entity.collection }, { maxTextChars: 500 });
      }
      const byHash = new Map(gallery.images.map((i) => [sha256(path.join(dir, i.file)), i]));
      for (const { query, entity } of gallery.examples) {
        const [top] = await searchItems(referent, { text: query, limit: 5 }, { maxTextChars: 500 });
        const shown = byHash.get(top!.item.hash);
        expect(shown?.entity, `first hit for "${query}"`).toBe(entity);
      }
    } finally {
      await referent.shutdown();
    }
  });
});
