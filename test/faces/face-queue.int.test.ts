/**
 * The background face queue on real parts: a SQLite data folder, the media store, and the face
 * engine on its real weights (FaceRuntime, worker thread) reading demo photos the face-api package
 * ships. What it processes (only collections with faces on), what it stores, an image it cannot read
 * (recorded with no faces; the queue goes on), an engine that cannot start (nothing recorded), and
 * models that are never loaded while nothing waits.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Item } from '../../src/catalog/catalog.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import { SAME_FACE_COSINE } from '../../src/faces/face-engine.js';
import { FaceQueue } from '../../src/faces/face-queue.js';
import { FaceRuntime } from '../../src/faces/face-runtime.js';
import { openStores, type Stores } from '../../src/open.js';
import { tempDir, testConfig } from '../support/fixtures.js';

const demo = path.resolve(import.meta.dirname, '../../node_modules/@vladmandic/face-api/demo');
const photo = (i: number) => fs.readFileSync(path.join(demo, `sample${i}.jpg`));
const MODEL = { modelId: 'queue-test', dim: 4 };
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('the face queue', () => {
  let dir: string;
  let stores: Stores;
  const logged: string[] = [];
  const log = (line: string) => void logged.push(line);

  beforeAll(async () => {
    dir = tempDir('referent-face-queue-');
    stores = await openStores(testConfig(path.join(dir, 'data')));
    await stores.catalog.setModel(MODEL);
  });
  afterAll(async () => {
    await stores?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  let added = 0;
  /** A photo stored in the media folder and added to the collection as an image. */
  async function add(collection: string, bytes: Buffer, kind: 'person' | 'part' = 'person'): Promise<Item> {
    const c = await stores.catalog.ensureCollection(collection, kind);
    const media = await stores.media.put(bytes);
    return stores.catalog.addItem(
      { collectionId: c.id, hash: `${media.key}-${added++}`, mediaKey: media.key, width: media.width, height: media.height },
      { modelId: MODEL.modelId, data: new Float32Array([1, 0, 0, 0]) },
    );
  }

  it('loads no model and records nothing while no collection has faces on', async () => {
    await add('staff', photo(1));
    const runtime = new FaceRuntime();
    const queue = new FaceQueue(stores, runtime, { log });
    try {
      expect(await queue.drain()).toEqual({ processed: 0, faces: 0, failed: 0 });
      expect(runtime.loaded).toBe(false);
      expect(await stores.catalog.countFaces()).toEqual({ processed: 0, faces: 0, pending: 0 });
    } finally {
      await queue.close();
      await runtime.close();
    }
  });

  it('stops without recording anything when the engine cannot start, and says why', async () => {
    const staff = (await stores.catalog.findCollection('staff'))!;
    await stores.catalog.setFacesEnabled(staff.id, true);
    const runtime = new FaceRuntime({ load: async () => Promise.reject(new ReferentError(ErrorCode.ModelNotFound, 'The face models are not installed.')) });
    const lines: string[] = [];
    const queue = new FaceQueue(stores, runtime, { log: (l) => void lines.push(l) });
    try {
      expect(await queue.drain()).toEqual({ processed: 0, faces: 0, failed: 0 });
      expect(queue.engineError).toBe('The face models are not installed.');
      expect(lines.join('\n')).toMatch(/face engine could not start/);
      expect(await stores.catalog.countFaces()).toEqual({ processed: 0, faces: 0, pending: 1 });
      // Stopped for good: a later kick changes nothing either.
      expect(await queue.drain()).toEqual({ processed: 0, faces: 0, failed: 0 });
    } finally {
      await queue.close();
      await runtime.close();
    }
  });

  it('finds and stores every face of the collections with faces on, goes past an image it cannot read, and leaves the others', async () => {
    const group = await add('staff', photo(2));
    const damaged = await add('staff', photo(3));
    // The file under the key is damaged on disk after it was stored (a bad sector, a partial copy).
    fs.writeFileSync(stores.media.paths(damaged.mediaKey).original, Buffer.from('not an image at all'));
    const visitor = await add('visitors', photo(4));
    const runtime = new FaceRuntime();
    const queue = new FaceQueue(stores, runtime, { log });
    try {
      const summary = await queue.drain();
      expect(summary).toEqual({ processed: 3, faces: 6, failed: 1 });
      expect(logged.join('\n')).toContain(`image #${damaged.id} could not be read`);
      expect(await stores.catalog.itemsWithoutFaces(10)).toEqual([]);
      expect(await stores.catalog.countFaces()).toEqual({ processed: 3, faces: 6, pending: 0 });
      expect(await stores.catalog.facesOf(damaged.id)).toEqual([]);
      expect(await stores.catalog.facesOf(visitor.id)).toEqual([]);

      const faces = await stores.catalog.facesOf(group.id);
      expect(faces).toHaveLength(3);
      for (const f of faces) {
        expect(f.descriptor).toHaveLength(128);
        expect(dot(f.descriptor, f.descriptor)).toBeCloseTo(1, 5);
        expect(f.score).toBeGreaterThanOrEqual(0.5);
        expect(f.box.x + f.box.width).toBeLessThanOrEqual(group.width);
        expect(f.box.y + f.box.height).toBeLessThanOrEqual(group.height);
      }
      // What was stored is what the engine sees: each face of the photo, found again, is its own nearest face.
      const again = await runtime.detect(photo(2));
      for (const f of again.faces) {
        const [best] = await stores.catalog.searchFaces(f.descriptor, 1);
        expect(best!.itemId).toBe(group.id);
        expect(best!.similarity).toBeGreaterThanOrEqual(SAME_FACE_COSINE);
      }
      // Nothing left: another run loads nothing new and records nothing.
      expect(await queue.drain()).toEqual({ processed: 0, faces: 0, failed: 0 });
    } finally {
      await queue.close();
      await runtime.close();
    }
  }, 120_000);
});
