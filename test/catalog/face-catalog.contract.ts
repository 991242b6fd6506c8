/**
 * What every FaceCatalog promises (src/catalog/catalog.ts): the faces switch per person collection,
 * the queue of images to process, each face's box, score and descriptor stored exactly, nearest-face
 * search, and that nothing of a face outlives its image, its entity or the switch. A storage
 * contract: the descriptors are made-up unit vectors. Run on every engine by face-catalog.int.test.ts.
 */
import { expect, it } from 'vitest';
import type { Catalog, Item, NewFace } from '../../src/catalog/catalog.js';
import { FACE_DIM } from '../../src/catalog/roles/face-store.js';
import { ErrorCode } from '../../src/errors.js';
import type { CatalogFixture } from './catalog-engines.js';
import { MODEL, newItem, numbers, vector } from './contract-support.js';

const FACE_MODEL = 'face-model@1';

/** A unit descriptor leaning on axis `i`, a little towards axis `j` (float32 values, so exact both ways). */
function descriptor(i: number, j = (i + 1) % FACE_DIM, lean = 0): Float32Array {
  const v = new Float32Array(FACE_DIM);
  v[i] = Math.sqrt(1 - lean * lean);
  v[j] = lean;
  return v;
}

const face = (d: Float32Array, x = 10.5, score = 0.875): NewFace => ({ box: { x, y: 20.25, width: 64, height: 80.5 }, score, descriptor: d });

export function faceCatalogContract(fixture: () => CatalogFixture): void {
  const store = () => fixture().catalog;
  const people = async (name = 'staff') => (await store().ensureCollection(name, 'person')).id;
  const add = async (collectionId: number, entityLabel?: string): Promise<Item> => {
    await store().setModel(MODEL);
    return store().addItem(newItem(collectionId, entityLabel ? { entityLabel } : {}), vector());
  };
  const code = (p: Promise<unknown>) => p.then(() => 'resolved', (err: { code?: string }) => err.code);
  /** Every face any search of the catalogue can reach. */
  const everyFace = async (catalog: Catalog = store()) => (await catalog.searchFaces(descriptor(0), 1000)).map((h) => h.id);

  it('keeps faces off until switched on, for person collections only', async () => {
    const staff = await people();
    const parts = (await store().ensureCollection('parts', 'part')).id;
    const other = (await store().ensureCollection('misc')).id;
    expect(await store().facesEnabled(staff)).toBe(false);
    expect(await store().faceCollectionIds()).toEqual([]);
    expect(await store().setFacesEnabled(staff, true)).toBe(true);
    expect(await store().setFacesEnabled(staff, true)).toBe(true);
    expect(await store().facesEnabled(staff)).toBe(true);
    expect(await code(store().setFacesEnabled(parts, true))).toBe(ErrorCode.UsageInvalid);
    expect(await code(store().setFacesEnabled(other, true))).toBe(ErrorCode.UsageInvalid);
    expect(await store().facesEnabled(parts)).toBe(false);
    expect(await store().setFacesEnabled(staff + parts + other + 1000, true)).toBe(false);
    expect(await store().faceCollectionIds()).toEqual([staff]);
    // Another process sees the switch.
    expect(await (await fixture().another()).facesEnabled(staff)).toBe(true);
    expect(await store().setFacesEnabled(staff, false)).toBe(true);
    expect(await store().facesEnabled(staff)).toBe(false);
  });

  it('queues the live images of collections with faces on, until each is processed, faces or none', async () => {
    const staff = await people();
    const visitors = await people('visitors');
    const [a, b, c] = [await add(staff), await add(staff), await add(staff)];
    const elsewhere = await add(visitors);
    expect(await store().itemsWithoutFaces(10)).toEqual([]);
    expect(await store().countFaces()).toEqual({ processed: 0, faces: 0, pending: 0 });

    await store().setFacesEnabled(staff, true);
    expect((await store().itemsWithoutFaces(10)).map((i) => i.id)).toEqual([a.id, b.id, c.id]);
    expect(await store().itemsWithoutFaces(10)).toEqual(await store().getItems([a.id, b.id, c.id]).then((m) => [...m.values()]));
    expect((await store().itemsWithoutFaces(1, a.id)).map((i) => i.id)).toEqual([b.id]);
    expect(await store().countFaces()).toEqual({ processed: 0, faces: 0, pending: 3 });

    expect(await store().putFaces(a.id, FACE_MODEL, [face(descriptor(1)), face(descriptor(2))])).toBe(true);
    expect(await store().putFaces(b.id, FACE_MODEL, [])).toBe(true);
    expect(await store().removeItem(c.id)).toBe(true);
    expect(await store().itemsWithoutFaces(10)).toEqual([]);
    expect(await store().countFaces()).toEqual({ processed: 2, faces: 2, pending: 0 });
    expect(await store().countFaces(staff)).toEqual({ processed: 2, faces: 2, pending: 0 });
    expect(await store().countFaces(visitors)).toEqual({ processed: 0, faces: 0, pending: 0 });
    // A collection of faces off takes no faces.
    expect(await store().putFaces(elsewhere.id, FACE_MODEL, [face(descriptor(3))])).toBe(false);
    expect(await store().facesOf(elsewhere.id)).toEqual([]);
  });

  it('stores each face exactly, in the order given, and replaces an image\'s faces', async () => {
    const staff = await people();
    await store().setFacesEnabled(staff, true);
    const item = await add(staff, 'Ana Lima');
    const first = [face(descriptor(5, 6, 0.6), 1.125, 0.99), face(descriptor(7), 300.75, 0.5)];
    expect(await store().putFaces(item.id, FACE_MODEL, first)).toBe(true);
    const stored = await (await fixture().another()).facesOf(item.id);
    expect(stored.map((f) => ({ box: f.box, score: f.score, descriptor: numbers(f.descriptor) }))).toEqual(first.map((f) => ({ box: f.box, score: f.score, descriptor: numbers(f.descriptor) })));
    expect(stored.every((f) => f.itemId === item.id && f.collectionId === staff && f.entityId === item.entityId)).toBe(true);
    expect(stored[0]!.id).toBeLessThan(stored[1]!.id);

    expect(await store().putFaces(item.id, FACE_MODEL, [face(descriptor(9))])).toBe(true);
    const replaced = await store().facesOf(item.id);
    expect(replaced.map((f) => numbers(f.descriptor))).toEqual([numbers(descriptor(9))]);
    // The replaced faces are gone from search too, and ids are not given out again.
    expect(await everyFace()).toEqual([replaced[0]!.id]);
    expect(replaced[0]!.id).toBeGreaterThan(stored[1]!.id);
    expect(await store().countFaces()).toEqual({ processed: 1, faces: 1, pending: 0 });
  });

  it('refuses faces of a removed or unknown image, and descriptors or boxes that cannot be faces', async () => {
    const staff = await people();
    await store().setFacesEnabled(staff, true);
    const item = await add(staff);
    expect(await store().putFaces(item.id + 1000, FACE_MODEL, [face(descriptor(1))])).toBe(false);
    expect(await code(store().putFaces(item.id, FACE_MODEL, [face(new Float32Array(64).fill(0.125))]))).toBe(ErrorCode.ModelMismatch);
    const nan = descriptor(1);
    nan[3] = Number.NaN;
    expect(await code(store().putFaces(item.id, FACE_MODEL, [face(nan)]))).toBe(ErrorCode.ModelMismatch);
    expect(await code(store().putFaces(item.id, FACE_MODEL, [{ ...face(descriptor(1)), score: Number.POSITIVE_INFINITY }]))).toBe(ErrorCode.UsageInvalid);
    expect(await code(store().putFaces(item.id, FACE_MODEL, [{ ...face(descriptor(1)), box: { x: 0, y: Number.NaN, width: 1, height: 1 } }]))).toBe(ErrorCode.UsageInvalid);
    expect(await code(store().searchFaces(new Float32Array(3), 5))).toBe(ErrorCode.ModelMismatch);
    // Nothing of a refused write was kept.
    expect(await store().facesOf(item.id)).toEqual([]);
    expect(await store().countFaces()).toEqual({ processed: 0, faces: 0, pending: 1 });
    expect(await store().removeItem(item.id)).toBe(true);
    expect(await store().putFaces(item.id, FACE_MODEL, [face(descriptor(1))])).toBe(false);
    expect(await store().facesOf(item.id)).toEqual([]);
  });

  it('finds the nearest faces by cosine, best first, each face of a group photo on its own, within the collections asked', async () => {
    const staff = await people();
    const visitors = await people('visitors');
    await store().setFacesEnabled(staff, true);
    await store().setFacesEnabled(visitors, true);
    const group = await add(staff);
    const ana = await add(staff, 'Ana Lima');
    const visitor = await add(visitors);
    await store().putFaces(group.id, FACE_MODEL, [face(descriptor(10, 11, 0.3)), face(descriptor(20)), face(descriptor(10, 12, 0.8))]);
    await store().putFaces(ana.id, FACE_MODEL, [face(descriptor(10, 13, 0.1))]);
    await store().putFaces(visitor.id, FACE_MODEL, [face(descriptor(10))]);
    const [g1, g2, g3] = await store().facesOf(group.id);
    const [a1] = await store().facesOf(ana.id);
    const [v1] = await store().facesOf(visitor.id);

    const all = await store().searchFaces(descriptor(10), 3);
    expect(all.map((h) => h.id)).toEqual([v1!.id, a1!.id, g1!.id]);
    expect(all[0]!.similarity).toBeCloseTo(1, 5);
    expect(all[1]!.similarity).toBeCloseTo(Math.sqrt(1 - 0.01), 5);
    expect(all[2]!.similarity).toBeCloseTo(Math.sqrt(1 - 0.09), 5);
    expect(all[1]).toMatchObject({ itemId: ana.id, collectionId: staff, entityId: ana.entityId, box: a1!.box, score: a1!.score });
    expect(numbers(all[1]!.descriptor)).toEqual(numbers(a1!.descriptor));

    const staffOnly = await store().searchFaces(descriptor(10), 10, new Set([staff]));
    expect(staffOnly.map((h) => h.id)).toEqual([a1!.id, g1!.id, g3!.id, g2!.id]);
    expect(staffOnly[3]!.similarity).toBeCloseTo(0, 5);
    expect(await store().searchFaces(descriptor(10), 10, new Set())).toEqual([]);
    expect(await store().searchFaces(descriptor(10), 0)).toEqual([]);
  });

  it('pages through a collection\'s faces with their entities', async () => {
    const staff = await people();
    await store().setFacesEnabled(staff, true);
    const ana = await add(staff, 'Ana Lima');
    const unknown = await add(staff);
    await store().putFaces(ana.id, FACE_MODEL, [face(descriptor(1)), face(descriptor(2))]);
    await store().putFaces(unknown.id, FACE_MODEL, [face(descriptor(3))]);
    const all = await store().facesIn(staff, 0, 10);
    expect(all.map((f) => [f.itemId, f.entityId])).toEqual([
      [ana.id, ana.entityId],
      [ana.id, ana.entityId],
      [unknown.id, null],
    ]);
    expect((await store().facesIn(staff, all[0]!.id, 1)).map((f) => f.id)).toEqual([all[1]!.id]);
    expect(await store().facesIn(staff + 1000, 0, 10)).toEqual([]);
  });

  it('leaves nothing of a face once its image is removed, its person forgotten, or faces switched off', async () => {
    const staff = await people();
    const visitors = await people('visitors');
    await store().setFacesEnabled(staff, true);
    await store().setFacesEnabled(visitors, true);
    const removed = await add(staff);
    const forgotten = [await add(staff, 'Ana Lima'), await add(staff, 'Ana Lima')];
    const kept = await add(staff, 'Bo Chen');
    const visiting = [await add(visitors), await add(visitors)];
    for (const item of [removed, ...forgotten, kept, ...visiting]) await store().putFaces(item.id, FACE_MODEL, [face(descriptor(item.id % FACE_DIM))]);
    expect(await everyFace()).toHaveLength(6);

    expect(await store().removeItem(removed.id)).toBe(true);
    expect(await store().facesOf(removed.id)).toEqual([]);
    await store().forgetEntity(forgotten[0]!.entityId!);
    for (const item of forgotten) expect(await store().facesOf(item.id)).toEqual([]);
    expect((await store().facesIn(staff, 0, 100)).map((f) => f.itemId)).toEqual([kept.id]);
    expect(await store().countFaces(staff)).toEqual({ processed: 1, faces: 1, pending: 0 });

    // Off deletes every face record of the collection, and only of it; on again queues its images anew.
    expect(await store().setFacesEnabled(visitors, false)).toBe(true);
    for (const item of visiting) expect(await store().facesOf(item.id)).toEqual([]);
    expect(await store().facesIn(visitors, 0, 100)).toEqual([]);
    expect(await store().countFaces(visitors)).toEqual({ processed: 0, faces: 0, pending: 0 });
    const other = await fixture().another();
    expect((await everyFace(other)).length).toBe(1);
    expect((await store().facesOf(kept.id)).length).toBe(1);
    expect(await store().setFacesEnabled(visitors, true)).toBe(true);
    expect((await store().itemsWithoutFaces(10)).map((i) => i.id)).toEqual(visiting.map((i) => i.id));
  });
}
