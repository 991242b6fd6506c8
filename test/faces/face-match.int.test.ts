/**
 * Who is this, and which images show a face like the query's, on real faces: the face engine on its
 * real weights, demo photos of the face-api package (portraits cut out of a group photo are the
 * labelled people's photos), a SQLite catalogue, and the background queue storing the faces. The
 * queries are the faces of the group photo as it is posted to search.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Item } from '../../src/catalog/catalog.js';
import { type DetectedFace, type FaceBox, SAME_FACE_COSINE } from '../../src/faces/face-engine.js';
import { entityFaceReference, faceReference, matchingFaces, whoIsThis } from '../../src/faces/face-match.js';
import { FaceQueue } from '../../src/faces/face-queue.js';
import { FaceRuntime } from '../../src/faces/face-runtime.js';
import { decodeForModel, encodePixels } from '../../src/image/image-io.js';
import { openStores, type Stores } from '../../src/open.js';
import { tempDir, testConfig } from '../support/fixtures.js';

const demo = path.resolve(import.meta.dirname, '../../node_modules/@vladmandic/face-api/demo');
const photo = (i: number) => fs.readFileSync(path.join(demo, `sample${i}.jpg`));
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** A portrait: the box and as much again around it, cut out of the photo (pixels copied here: tests do not import sharp). */
async function portrait(bytes: Buffer, box: FaceBox): Promise<Buffer> {
  const { data, width, height } = await decodeForModel(bytes, { kernel: 'nearest' });
  const x0 = Math.max(0, Math.round(box.x - box.width / 2));
  const y0 = Math.max(0, Math.round(box.y - box.height / 2));
  const x1 = Math.min(width, Math.round(box.x + box.width * 1.5));
  const y1 = Math.min(height, Math.round(box.y + box.height * 1.5));
  const out = new Uint8Array((x1 - x0) * (y1 - y0) * 3);
  for (let y = y0; y < y1; y++) out.set(data.subarray((y * width + x0) * 3, (y * width + x1) * 3), (y - y0) * (x1 - x0) * 3);
  return encodePixels({ data: out, width: x1 - x0, height: y1 - y0, channels: 3 }, 'jpeg');
}

describe('faces as evidence: who is this, and which images show the face', () => {
  let dir: string;
  let stores: Stores;
  const runtime = new FaceRuntime();
  let group: DetectedFace[];
  const items: Record<string, Item> = {};
  let staff: number;

  beforeAll(async () => {
    dir = tempDir('referent-face-match-');
    stores = await openStores(testConfig(path.join(dir, 'data')));
    const { catalog, media } = stores;
    await catalog.setModel({ modelId: 'match-test', dim: 4 });
    staff = (await catalog.ensureCollection('staff', 'person')).id;
    const visitors = (await catalog.ensureCollection('visitors', 'person')).id;
    await catalog.setFacesEnabled(staff, true);
    await catalog.setFacesEnabled(visitors, true);
    const found = await runtime.detect(photo(1));
    group = found.faces;
    let n = 0;
    const add = async (name: string, bytes: Buffer, collectionId: number, entityLabel?: string) => {
      const stored = await media.put(bytes);
      items[name] = await catalog.addItem(
        { collectionId, hash: `${stored.key}-${n++}`, mediaKey: stored.key, width: stored.width, height: stored.height, ...(entityLabel ? { entityLabel } : {}) },
        { modelId: 'match-test', data: new Float32Array([1, 0, 0, 0]) },
      );
    };
    // Two of the three people on the group photo are labelled, each by a portrait of their own.
    await add('ana', await portrait(photo(1), group[0]!.box), staff, 'Ana');
    await add('bo', await portrait(photo(1), group[1]!.box), staff, 'Bo');
    await add('group', photo(1), staff);
    // The same photo in a collection the query does not look in, and other people.
    await add('elsewhere', photo(1), visitors);
    await add('others', photo(4), staff);
    const queue = new FaceQueue(stores, runtime, { log: () => {} });
    expect((await queue.drain()).processed).toBe(5);
    await queue.close();
  }, 180_000);
  afterAll(async () => {
    await runtime.close();
    await stores?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("fuses a person's photos into a face reference: a portrait's one face, or the group photo's face nearest it", async () => {
    const [anaFace] = await stores.catalog.facesOf(items.ana!.id);
    expect(await stores.catalog.facesOf(items.ana!.id)).toHaveLength(1);
    const reference = (await entityFaceReference(stores.catalog, items.ana!.entityId!))!;
    expect(dot(reference, anaFace!.descriptor)).toBeCloseTo(1, 5);
    // Linked to the group photo too, the reference takes that photo's face that is Ana's.
    const groupFaces = (await stores.catalog.facesOf(items.group!.id)).map((f) => f.descriptor);
    const fused = faceReference([[anaFace!.descriptor], groupFaces])!;
    const hers = groupFaces.reduce((a, b) => (dot(a, anaFace!.descriptor) > dot(b, anaFace!.descriptor) ? a : b));
    expect(dot(fused, hers)).toBeGreaterThan(Math.max(...groupFaces.filter((f) => f !== hers).map((f) => dot(fused, f))));
    // A group photo alone does not say which face is the person's.
    expect(faceReference([groupFaces])).toBeNull();
  });

  it('names the labelled person a face belongs to, and nobody for a face no labelled person has', async () => {
    const ana = await whoIsThis(stores.catalog, group[0]!.descriptor, { collectionIds: new Set([staff]) });
    expect(ana?.entityId).toBe(items.ana!.entityId);
    expect(ana!.similarity).toBeGreaterThanOrEqual(SAME_FACE_COSINE);
    expect((await whoIsThis(stores.catalog, group[1]!.descriptor))?.entityId).toBe(items.bo!.entityId);
    // The third person is on photos, but nobody labelled them: no guess.
    expect(await whoIsThis(stores.catalog, group[2]!.descriptor)).toBeNull();
    // Nor where faces are off, or where the person is not.
    expect(await whoIsThis(stores.catalog, group[0]!.descriptor, { collectionIds: new Set([staff + 100]) })).toBeNull();
  });

  it("finds every image showing the query's faces, a group photo through the face that matches, within the collections asked", async () => {
    const matches = await matchingFaces(stores.catalog, [group[0]!.descriptor], { collectionIds: new Set([staff]) });
    const strong = matches.filter((m) => m.similarity >= SAME_FACE_COSINE);
    expect(strong.map((m) => m.face.itemId).sort((a, b) => a - b)).toEqual([items.ana!.id, items.group!.id].sort((a, b) => a - b));
    const inGroup = strong.find((m) => m.face.itemId === items.group!.id)!;
    // The face that matched on the group photo is Ana's, at her place.
    expect(Math.abs(inGroup.face.box.x - group[0]!.box.x)).toBeLessThan(group[0]!.box.width / 2);
    expect(inGroup.queryFace).toBe(0);
    expect(matches.every((m) => m.face.collectionId === staff)).toBe(true);
    expect(matches.map((m) => m.similarity)).toEqual([...matches.map((m) => m.similarity)].sort((a, b) => b - a));
  });
});
