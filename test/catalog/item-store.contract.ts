/**
 * What every ItemStore promises (src/catalog/roles/item-store.ts), run against each engine by
 * item-store.int.test.ts. The factory gives a fresh, empty store per test, a way to make collections,
 * a way to open a second store on the same data (another process, or a restart with another model
 * dimension), and a way to drop it all.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clusteredVectors } from '../../bench/clustered.js';
import type { NewItem } from '../../src/catalog/catalog.js';
import type { ImageHit, ItemStore } from '../../src/catalog/roles/item-store.js';
import { ErrorCode } from '../../src/errors.js';

export interface ItemStoreFixture {
  store: ItemStore;
  /** Creates a collection (kind "part") and returns its id. */
  collection(name: string): Promise<number>;
  /** A second store on the same data, for the same model, with this dimension. */
  reopen(dim: number): Promise<ItemStore>;
  close(): Promise<void>;
}

export const MODEL = { modelId: 'test-model@1', dim: 16 };

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Exact top-k from the definition, independent of any engine. */
function bruteForce(vectors: Map<number, Float32Array>, q: Float32Array, k: number, only?: ReadonlySet<number>): ImageHit[] {
  return [...vectors]
    .filter(([id]) => !only || only.has(id))
    .map(([itemId, v]) => ({ itemId, score: dot(q, v) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

function expectSameHits(got: ImageHit[], want: ImageHit[]): void {
  expect(got.map((h) => h.itemId)).toEqual(want.map((h) => h.itemId));
  got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 5));
}

const newItem = (collectionId: number, n: number, extra: Partial<NewItem> = {}): NewItem => ({
  collectionId,
  hash: `hash-${n}`,
  mediaKey: `media/${n}.jpg`,
  width: 640 + n,
  height: 480,
  ...extra,
});

export function itemStoreContract(name: string, open: (model: typeof MODEL) => Promise<ItemStoreFixture>): void {
  describe(`ItemStore contract: ${name}`, () => {
    let fixture: ItemStoreFixture | undefined;
    let store: ItemStore;
    const { vectors, queries } = clusteredVectors({ n: 400, dim: MODEL.dim, clusters: 8, queries: 6, seed: 7 });
    beforeEach(async () => {
      fixture = await open(MODEL);
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it('stores items with their vector and reads them back by id, ids and hash; counts live items', async () => {
      const parts = await fixture!.collection('parts');
      const other = await fixture!.collection('other');
      const before = Date.now();
      const a = await store.addItem(newItem(parts, 1, { caption: 'a red valve', entityLabel: 'P-100', source: { platform: 'slack', channel: 'C1', user: 'U1', ref: 'r1' } }), vectors[0]!);
      const b = await store.addItem(newItem(parts, 2, { entityLabel: 'P-100' }), vectors[1]!);
      const c = await store.addItem(newItem(other, 3), vectors[2]!);
      const after = Date.now();

      expect(a).toEqual({
        id: a.id,
        collectionId: parts,
        hash: 'hash-1',
        mediaKey: 'media/1.jpg',
        width: 641,
        height: 480,
        caption: 'a red valve',
        entityId: a.entityId,
        entityLabel: 'P-100',
        source: { platform: 'slack', channel: 'C1', user: 'U1', ref: 'r1' },
        createdAt: a.createdAt,
      });
      expect(a.createdAt).toBeGreaterThanOrEqual(before);
      expect(a.createdAt).toBeLessThanOrEqual(after);
      // One entity per label per collection.
      expect(a.entityId).toEqual(expect.any(Number));
      expect(b.entityId).toBe(a.entityId);
      expect(c).toMatchObject({ caption: null, entityId: null, entityLabel: null, source: { platform: 'cli', channel: null, user: null, ref: null } });
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);

      expect(await store.getItem(a.id)).toEqual(a);
      expect(await store.getItem(c.id + 1000)).toBeNull();
      const some = await store.getItems([c.id, c.id + 1000, a.id]);
      expect([...some.keys()]).toEqual([c.id, a.id]);
      expect(some.get(c.id)).toEqual(c);
      expect(await store.getItems([])).toEqual(new Map());

      expect(await store.findLiveItemByHash(parts, 'hash-2')).toEqual(b);
      expect(await store.findLiveItemByHash(other, 'hash-2')).toBeNull();
      expect(await store.countItems()).toBe(3);
      expect(await store.countItems(parts)).toBe(2);
      expect(await store.countItems(other + 1000)).toBe(0);
    });

    it('refuses a second live item with the same hash in a collection, but not in another one or after removal', async () => {
      const parts = await fixture!.collection('parts');
      const other = await fixture!.collection('other');
      const first = await store.addItem(newItem(parts, 1), vectors[0]!);
      await expect(store.addItem(newItem(parts, 1, { mediaKey: 'media/again.jpg' }), vectors[1]!)).rejects.toMatchObject({ code: ErrorCode.Conflict });
      expect(await store.countItems()).toBe(1);
      // Nothing of the refused item reached search either.
      expect((await store.searchImages(vectors[1]!, 5)).map((h) => h.itemId)).toEqual([first.id]);

      expect((await store.addItem(newItem(other, 1), vectors[2]!)).collectionId).toBe(other);
      expect(await store.removeItem(first.id)).toBe(true);
      const again = await store.addItem(newItem(parts, 1), vectors[3]!);
      expect(again.id).not.toBe(first.id);
      expect(await store.findLiveItemByHash(parts, 'hash-1')).toEqual(again);
    });

    it('refuses an item of an unknown collection with NOT_FOUND, and stores nothing', async () => {
      await expect(store.addItem(newItem(424242, 1), vectors[0]!)).rejects.toMatchObject({ code: ErrorCode.NotFound });
      await expect(store.addItem(newItem(424242, 2, { entityLabel: 'P-1' }), vectors[0]!)).rejects.toMatchObject({ code: ErrorCode.NotFound });
      expect(await store.countItems()).toBe(0);
      expect(await store.searchImages(vectors[0]!, 5)).toEqual([]);
    });

    it('removes an item softly: gone from reads, counts, hash lookup and search; a second removal says false', async () => {
      const parts = await fixture!.collection('parts');
      const items = [];
      for (let i = 0; i < 5; i++) items.push(await store.addItem(newItem(parts, i), vectors[i]!));
      const gone = items[2]!;
      expect((await store.searchImages(vectors[2]!, 1))[0]?.itemId).toBe(gone.id);

      expect(await store.removeItem(gone.id)).toBe(true);
      expect(await store.removeItem(gone.id)).toBe(false);
      expect(await store.removeItem(gone.id + 1000)).toBe(false);
      expect(await store.getItem(gone.id)).toBeNull();
      expect((await store.getItems(items.map((i) => i.id))).has(gone.id)).toBe(false);
      expect(await store.findLiveItemByHash(parts, gone.hash)).toBeNull();
      expect(await store.countItems(parts)).toBe(4);
      const hits = await store.searchImages(vectors[2]!, 10);
      expect(hits.map((h) => h.itemId).sort((a, b) => a - b)).toEqual(items.filter((i) => i !== gone).map((i) => i.id));
    });

    it('finds the exact top-k by cosine, best first, on a small clustered set', async () => {
      const parts = await fixture!.collection('parts');
      const stored = new Map<number, Float32Array>();
      for (let i = 0; i < 60; i++) stored.set((await store.addItem(newItem(parts, i), vectors[i]!)).id, vectors[i]!);
      for (const q of queries) expectSameHits(await store.searchImages(q, 10), bruteForce(stored, q, 10));
      // An item's own vector finds it first, with cosine 1.
      const [firstId, firstVector] = [...stored][7]!;
      expect((await store.searchImages(firstVector, 1))[0]).toEqual({ itemId: firstId, score: expect.closeTo(1, 5) });
      expect(await store.searchImages(queries[0]!, 0)).toEqual([]);
      expect(await store.searchImages(queries[0]!, 100)).toHaveLength(60);
    });

    it('keeps the collection filter exact when the chosen collection is a small minority', async () => {
      const big = await fixture!.collection('big');
      const small = await fixture!.collection('small');
      const empty = await fixture!.collection('empty');
      const stored = new Map<number, Float32Array>();
      const inSmall = new Set<number>();
      // 5 of 400 in "small", spread over the set (so most lie far from any one query).
      for (let i = 0; i < 400; i++) {
        const collectionId = i % 80 === 13 ? small : big;
        const item = await store.addItem(newItem(collectionId, i), vectors[i]!);
        stored.set(item.id, vectors[i]!);
        if (collectionId === small) inSmall.add(item.id);
      }
      expect(inSmall.size).toBe(5);
      for (const q of queries) {
        const hits = await store.searchImages(q, 5, new Set([small]));
        expect(new Set(hits.map((h) => h.itemId))).toEqual(inSmall);
        expectSameHits(hits, bruteForce(stored, q, 5, inSmall));
        expectSameHits(await store.searchImages(q, 3, new Set([small])), bruteForce(stored, q, 3, inSmall));
      }
      expect(await store.searchImages(queries[0]!, 5, new Set([empty]))).toEqual([]);
      expect(await store.searchImages(queries[0]!, 5, new Set())).toEqual([]);
      const both = await store.searchImages(queries[1]!, 10, new Set([big, small, empty]));
      expectSameHits(both, bruteForce(stored, queries[1]!, 10));
    });

    it('refuses another dimension for the same model, and vectors or queries of the wrong length, with MODEL_MISMATCH', async () => {
      const parts = await fixture!.collection('parts');
      const kept = await store.addItem(newItem(parts, 1), vectors[0]!);
      const err = await fixture!.reopen(MODEL.dim + 1).then(
        () => expect.fail('expected MODEL_MISMATCH'),
        (e: unknown) => e as Error,
      );
      expect(err).toMatchObject({ code: ErrorCode.ModelMismatch });
      expect(err.message).toMatch(new RegExp(`${MODEL.dim}-dimensional.*not ${MODEL.dim + 1}`));

      await expect(store.addItem(newItem(parts, 2), vectors[1]!.subarray(0, MODEL.dim - 1))).rejects.toMatchObject({ code: ErrorCode.ModelMismatch });
      await expect(store.addItem(newItem(parts, 3), new Float32Array(MODEL.dim).fill(Number.NaN))).rejects.toMatchObject({ code: ErrorCode.ModelMismatch });
      await expect(store.searchImages(new Float32Array(MODEL.dim + 1), 5)).rejects.toMatchObject({ code: ErrorCode.ModelMismatch });
      expect(await store.countItems()).toBe(1);

      // The same dimension opens again, and each store sees what the other wrote.
      const second = await fixture!.reopen(MODEL.dim);
      expect((await second.searchImages(vectors[0]!, 5)).map((h) => h.itemId)).toEqual([kept.id]);
      const added = await second.addItem(newItem(parts, 4), vectors[4]!);
      expect((await store.searchImages(vectors[4]!, 1))[0]?.itemId).toBe(added.id);
      await store.removeItem(added.id);
      expect((await second.searchImages(vectors[4]!, 5)).map((h) => h.itemId)).toEqual([kept.id]);
    });
  });
}
