/**
 * `referent faces` and `referent index faces` as a person runs them (the real CLI in a child
 * process) on a data folder with two demo photos of the face-api package in a person collection and
 * a part collection beside it: switching on, the figures in `index status`, finding the faces now
 * with the real engine, and switching off, which deletes every face record of the collection.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncCatalog } from '../../src/catalog/async-catalog.js';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent } from '../../src/open.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';
import { runCli } from '../support/run-cli.js';

const demo = path.resolve(import.meta.dirname, '../../node_modules/@vladmandic/face-api/demo');
const limits = { batchSize: 4, maxImageBytes: 8 << 20, maxTextChars: 500 };

describe('referent faces and referent index faces', () => {
  let dir: string;
  let dataDir: string;
  const cli = (...args: string[]) => runCli(args, { REFERENT_DATA_DIR: dataDir, REFERENT_MODEL: testConfig(dataDir).model, REFERENT_OCR: 'false' });
  /** The catalogue as the CLI left it (read after each command has exited). */
  async function read<T>(fn: (c: ReturnType<typeof asyncCatalog>) => Promise<T>): Promise<T> {
    const catalog = asyncCatalog(SqliteCatalog.open(path.join(dataDir, 'catalog.sqlite')));
    try {
      return await fn(catalog);
    } finally {
      await catalog.close();
    }
  }

  beforeAll(async () => {
    dir = tempDir('referent-faces-cli-');
    dataDir = path.join(dir, 'data');
    const photos = path.join(dir, 'photos');
    fs.mkdirSync(photos);
    for (const i of [1, 2]) fs.copyFileSync(path.join(demo, `sample${i}.jpg`), path.join(photos, `sample${i}.jpg`));
    const referent = await openReferent(testConfig(dataDir, { REFERENT_OCR: 'false' }));
    try {
      await referent.catalog.ensureCollection('staff', 'person');
      expect((await ingest(referent, await readSources(photos), { collection: 'staff', ...limits })).added).toBe(2);
      const parts = await makeColourGallery(path.join(dir, 'parts'), 1, ['red']);
      expect((await ingest(referent, await readSources(parts), { collection: 'parts', ...limits })).added).toBe(1);
    } finally {
      await referent.shutdown();
    }
  }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses faces for a collection that is not of people, or not there', async () => {
    const parts = await cli('faces', 'on', 'parts');
    expect(parts.code).toBe(2);
    expect(parts.stderr).toBe('referent: Faces are only for person collections: "parts" is of kind other.\n');
    const missing = await cli('faces', 'on', 'nowhere');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('There is no collection named "nowhere"');
    const usage = await cli('faces', 'on');
    expect(usage.code).toBe(2);
    expect(await read((c) => c.faceCollectionIds())).toEqual([]);
  }, 60_000);

  it('switches faces on, shows what waits, finds the faces now, and switching off deletes them all', async () => {
    expect((await cli('faces')).stdout).toBe('staff: faces off\n');
    const on = await cli('faces', 'on', 'staff');
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toContain('Faces are on for staff: 2 images to process.');

    const before = await cli('index', 'status');
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toContain('faces         on in 1 collection: 0 faces on 0 images, 2 waiting');

    const run = await cli('index', 'faces');
    expect(run.code, run.stderr).toBe(0);
    // sample1 and sample2 hold three faces each (test/faces/engine-weights.int.test.ts).
    expect(run.stdout).toMatch(/^Processed 2 images in [\d.]+ s \(\d+ ms per image\): 6 faces found, 0 unreadable\.$/m);
    expect(run.stdout).toContain('faces         on in 1 collection: 6 faces on 2 images, 0 waiting');
    const listed = JSON.parse((await cli('faces', '--json')).stdout) as { collections: unknown[] };
    expect(listed.collections).toEqual([{ name: 'staff', on: true, processed: 2, faces: 6, pending: 0 }]);

    // Off asks first; with no terminal to ask on, nothing changes.
    const declined = await cli('faces', 'off', 'staff');
    expect(declined.code).toBe(1);
    expect(declined.stdout).toContain('pass --yes');
    expect(await read((c) => c.countFaces())).toEqual({ processed: 2, faces: 6, pending: 0 });

    const off = await cli('faces', 'off', 'staff', '--yes');
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toBe('Faces are off for staff: deleted its 6 face records of 2 images.\n');
    await read(async (c) => {
      expect(await c.faceCollectionIds()).toEqual([]);
      expect(await c.countFaces()).toEqual({ processed: 0, faces: 0, pending: 0 });
      for (const item of await c.itemsWithoutVector('none', 10)) expect(await c.facesOf(item.id)).toEqual([]);
      expect(await c.facesIn((await c.findCollection('staff'))!.id, 0, 100)).toEqual([]);
    });
    expect((await cli('index', 'faces')).stdout).toContain('Faces are off in every collection');
  }, 180_000);
});
