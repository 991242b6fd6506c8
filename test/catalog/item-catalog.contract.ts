/**
 * What every ItemCatalog promises (src/catalog/catalog.ts): items with their vectors written in one
 * transaction, the model they were embedded with, paged vector reads for rebuilding an index, the
 * index log and change stamp that followers read, and re-embedding. Image search is not part of the
 * role (the indexes do it). Run on every engine by item-catalog.int.test.ts.
 */
import { expect, it } from 'vitest';
import { clusteredVectors } from '../../bench/clustered.js';
import type { Catalog, IndexChange, Item } from '../../src/catalog/catalog.js';
import { ErrorCode } from '../../src/errors.js';
import type { CatalogFixture } from './catalog-engines.js';
import { ascending, embedding, eventually, MODEL, newItem, numbers, vector, X, Y } from './contract-support.js';

/** Reads a model's vectors page by page, as an index rebuild does. */
async function allVectors(catalog: Catalog, modelId: string, pageSize: number) {
  const out: Array<{ itemId: number; collectionId: number; vector: number[] }> = [];
  let after = 0;
  for (;;) {
    const page = await catalog.itemVectors(modelId, after, pageSize);
    expect(page.length).toBeLessThanOrEqual(pageSize);
    out.push(...page.map((p) => ({ itemId: p.itemId, collectionId: p.collectionId, vector: Array.from(p.vector) })));
    if (page.length < pageSize) return out;
    after = page.at(-1)!.itemId;
  }
}

export function itemCatalogContract(fixture: () => CatalogFixture): void {
  const store = () => fixture().catalog;
  const collection = async (name: string) => (await store().ensureCollection(name, 'part')).id;
  const { vectors } = clusteredVectors({ n: 64, dim: MODEL.dim, clusters: 4, seed: 7 });

  it('says where it is and which schema version it runs', async () => {
    expect(typeof store().location).toBe('string');
    expect(store().location.length).toBeGreaterThan(0);
    const version = await store().schemaVersion();
    expect(Number.isInteger(version) && version > 0).toBe(true);
  });

  it('records the model and its dimension, replacing it when set again', async () => {
    expect(await store().getModel()).toBeNull();
    await store().setModel(MODEL);
    expect(await store().getModel()).toEqual(MODEL);
    await store().setModel({ modelId: 'bigger@2', dim: 768 });
    expect(await store().getModel()).toEqual({ modelId: 'bigger@2', dim: 768 });
    expect(await (await fixture().another()).getModel()).toEqual({ modelId: 'bigger@2', dim: 768 });
  });

  it('stores items with their vector and reads them back by id, ids and hash; counts live items', async () => {
    await store().setModel(MODEL);
    const parts = await collection('parts');
    const other = await collection('other');
    const before = Date.now();
    const a = await store().addItem(
      newItem(parts, { hash: 'h-a', mediaKey: 'media/a.jpg', width: 641, caption: 'a red valve', entityLabel: 'P-100', source: { platform: 'slack', channel: 'C1', user: 'U1', ref: 'r1' } }),
      vector(vectors[0]),
      embedding(Y, [['red valve', Y]]),
    );
    const b = await store().addItem(newItem(parts, { hash: 'h-b', entityLabel: 'P-100' }), vector(vectors[1]));
    const c = await store().addItem(newItem(other, { hash: 'h-c' }), vector(vectors[2]));
    const after = Date.now();

    expect(a).toEqual({
      id: a.id,
      collectionId: parts,
      hash: 'h-a',
      mediaKey: 'media/a.jpg',
      width: 641,
      height: 480,
      caption: 'a red valve',
      entityId: expect.any(Number),
      entityLabel: 'P-100',
      source: { platform: 'slack', channel: 'C1', user: 'U1', ref: 'r1' },
      createdAt: expect.any(Number),
    });
    expect(a.createdAt).toBeGreaterThanOrEqual(before);
    expect(a.createdAt).toBeLessThanOrEqual(after);
    // One entity per label per collection, made in the item's collection.
    expect(b.entityId).toBe(a.entityId);
    expect(await store().getEntity(a.entityId!)).toMatchObject({ collectionId: parts, label: 'P-100', kind: 'part' });
    expect(c).toMatchObject({ caption: null, entityId: null, entityLabel: null, source: { platform: 'cli', channel: null, user: null, ref: null } });
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    for (const id of [a.id, b.id, c.id]) expect(Number.isInteger(id) && id > 0).toBe(true);

    expect(await store().getItem(a.id)).toEqual(a);
    expect(await store().getItem(c.id + 1000)).toBeNull();
    const some = await store().getItems([c.id, c.id + 1000, a.id]);
    expect(ascending(some.keys())).toEqual(ascending([c.id, a.id]));
    expect(some.get(c.id)).toEqual(c);
    expect(await store().getItems([])).toEqual(new Map());

    expect(await store().findLiveItemByHash(parts, 'h-b')).toEqual(b);
    expect(await store().findLiveItemByHash(other, 'h-b')).toBeNull();
    expect(await store().countItems()).toBe(3);
    expect(await store().countItems(parts)).toBe(2);
    expect(await store().countItems(other + 1000)).toBe(0);
    expect(await store().countItemVectors(MODEL.modelId)).toBe(3);
    expect(await store().countItemVectors('another/model')).toBe(0);
  });

  it('refuses a second live item with the same hash in a collection (CONFLICT), but not in another one or after removal', async () => {
    await store().setModel(MODEL);
    const parts = await collection('parts');
    const other = await collection('other');
    const first = await store().addItem(newItem(parts, { hash: 'same' }), vector(vectors[0]));
    const seq = await store().lastLogSeq();
    const entitySeq = await store().lastEntitySeq();
    await expect(store().addItem(newItem(parts, { hash: 'same', caption: 'again', entityLabel: 'P-NEW' }), vector(vectors[1]), embedding(Y))).rejects.toMatchObject({
      code: ErrorCode.Conflict,
    });
    // Nothing of the refused item was stored: no row, vector, log entry, entity or caption.
    expect(await store().countItems()).toBe(1);
    expect(await store().countItemVectors(MODEL.modelId)).toBe(1);
    expect(await store().lastLogSeq()).toBe(seq);
    expect(await store().lastEntitySeq()).toBe(entitySeq);
    expect(await store().findEntities('P-NEW')).toEqual([]);
    expect((await store().lexicalMatches({ words: ['again'], identifiers: [] })).words.size).toBe(0);

    expect((await store().addItem(newItem(other, { hash: 'same' }), vector(vectors[2]))).collectionId).toBe(other);
    expect(await store().removeItem(first.id)).toBe(true);
    const again = await store().addItem(newItem(parts, { hash: 'same' }), vector(vectors[3]));
    expect(again.id).not.toBe(first.id);
    expect(await store().findLiveItemByHash(parts, 'same')).toEqual(again);
  });

  it('refuses an item of an unknown collection with NOT_FOUND, and stores nothing', async () => {
    await store().setModel(MODEL);
    await expect(store().addItem(newItem(424242), vector(vectors[0]))).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(store().addItem(newItem(424242, { entityLabel: 'P-1', caption: 'lost' }), vector(vectors[0]), embedding(Y))).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect(await store().countItems()).toBe(0);
    expect(await store().countItemVectors(MODEL.modelId)).toBe(0);
    expect(await store().changesSince(0, MODEL.modelId)).toEqual([]);
    expect(await store().findEntities('P-1')).toEqual([]);
  });

  it('removes an item softly: gone from reads, counts, hash lookup and vectors, logged; a second removal says false', async () => {
    await store().setModel(MODEL);
    const parts = await collection('parts');
    const items: Item[] = [];
    for (let i = 0; i < 5; i++) items.push(await store().addItem(newItem(parts), vector(vectors[i])));
    const gone = items[2]!;
    const seq = await store().lastLogSeq();

    expect(await store().removeItem(gone.id)).toBe(true);
    expect(await store().removeItem(gone.id)).toBe(false);
    expect(await store().removeItem(gone.id + 1000)).toBe(false);
    expect(await store().getItem(gone.id)).toBeNull();
    expect((await store().getItems(items.map((i) => i.id))).has(gone.id)).toBe(false);
    expect(await store().findLiveItemByHash(parts, gone.hash)).toBeNull();
    expect(await store().countItems(parts)).toBe(4);
    expect(await store().countItemVectors(MODEL.modelId)).toBe(4);
    expect((await allVectors(store(), MODEL.modelId, 10)).map((v) => v.itemId)).toEqual(items.filter((i) => i !== gone).map((i) => i.id));
    expect(await store().itemsWithoutVector(MODEL.modelId, 10)).toEqual([]);
    expect(await store().itemsWithoutVector('another/model', 10)).not.toContainEqual(expect.objectContaining({ id: gone.id }));
    expect(await store().changesSince(seq, MODEL.modelId)).toEqual([{ seq: expect.any(Number), itemId: gone.id, collectionId: parts, op: 'del', vector: null }]);
  });

  it('reads a model’s live vectors page by page in item order, exactly as stored', async () => {
    await store().setModel(MODEL);
    const parts = await collection('parts');
    const spares = await collection('spares');
    const want: Array<{ itemId: number; collectionId: number; vector: number[] }> = [];
    for (let i = 0; i < 23; i++) {
      const collectionId = i % 3 === 0 ? spares : parts;
      const item = await store().addItem(newItem(collectionId), vector(vectors[i]));
      want.push({ itemId: item.id, collectionId, vector: Array.from(vectors[i]!) });
    }
    // An awkward vector comes back bit for bit.
    const odd = new Float32Array([0.1, -0.25, 1e-7, Math.fround(Math.SQRT1_2)]);
    const oddItem = await store().addItem(newItem(parts), vector(odd));
    want.push({ itemId: oddItem.id, collectionId: parts, vector: Array.from(odd) });
    const removed = want.splice(4, 1)[0]!;
    await store().removeItem(removed.itemId);

    for (const pageSize of [1, 5, 23, 24, 1000]) expect(await allVectors(store(), MODEL.modelId, pageSize), `pages of ${pageSize}`).toEqual(want);
    const after = want[9]!.itemId;
    expect((await store().itemVectors(MODEL.modelId, after, 3)).map((v) => v.itemId)).toEqual(want.slice(10, 13).map((v) => v.itemId));
    expect(await store().itemVectors(MODEL.modelId, want.at(-1)!.itemId, 10)).toEqual([]);
    expect(await store().itemVectors('another/model', 0, 10)).toEqual([]);
  });

  it('logs every add and removal in order, with the vector of the model asked for', async () => {
    await store().setModel(MODEL);
    const parts = await collection('parts');
    const start = await store().lastLogSeq();
    const a = await store().addItem(newItem(parts), vector(X));
    const b = await store().addItem(newItem(parts), vector(Y));
    await store().removeItem(a.id);
    const changes = await store().changesSince(start, MODEL.modelId);
    expect(changes.map((c) => [c.itemId, c.op, numbers(c.vector)])).toEqual([
      // The removed item's vector is gone: its add entry has none to give any more.
      [a.id, 'add', null],
      [b.id, 'add', Array.from(Y)],
      [a.id, 'del', null],
    ]);
    expect(changes.every((c) => c.collectionId === parts)).toBe(true);
    const seqs = changes.map((c) => c.seq);
    expect(seqs).toEqual(ascending(seqs));
    expect(new Set(seqs).size).toBe(3);
    expect(seqs[0]!).toBeGreaterThan(start);
    expect(await store().lastLogSeq()).toBe(seqs[2]);
    expect(await store().changesSince(seqs[2]!, MODEL.modelId)).toEqual([]);
    expect((await store().changesSince(seqs[0]!, MODEL.modelId)).map((c) => c.seq)).toEqual(seqs.slice(1));
    // Another model: the same entries, no vectors.
    expect((await store().changesSince(start, 'another/model')).map((c) => [c.itemId, c.op, c.vector])).toEqual([
      [a.id, 'add', null],
      [b.id, 'add', null],
      [a.id, 'del', null],
    ]);
  });

  it('re-embeds: finds items without a vector for a new model, stores theirs, then drops the old model’s', async () => {
    await store().setModel(MODEL);
    const parts = await collection('parts');
    const items: Item[] = [];
    for (let i = 0; i < 5; i++) items.push(await store().addItem(newItem(parts), vector(vectors[i])));
    await store().removeItem(items[4]!.id);
    const next = { modelId: 'next-model@2', dim: 6 };
    const v6 = (i: number) => new Float32Array(6).fill(0).map((_, j) => (j === i % 6 ? 1 : 0));

    const missing = await store().itemsWithoutVector(next.modelId, 10);
    expect(ascending(missing.map((i) => i.id))).toEqual(items.slice(0, 4).map((i) => i.id));
    expect(missing.find((i) => i.id === items[0]!.id)).toEqual(items[0]);
    expect(await store().itemsWithoutVector(next.modelId, 2)).toHaveLength(2);
    expect(await store().itemsWithoutVector(MODEL.modelId, 10)).toEqual([]);

    await store().putItemVector(items[0]!.id, next.modelId, v6(0));
    await store().putItemVector(items[1]!.id, next.modelId, v6(5));
    // Stored again, a vector replaces the one before.
    await store().putItemVector(items[1]!.id, next.modelId, v6(1));
    expect(ascending((await store().itemsWithoutVector(next.modelId, 10)).map((i) => i.id))).toEqual([items[2]!.id, items[3]!.id]);
    expect(await store().countItemVectors(next.modelId)).toBe(2);
    expect(await allVectors(store(), next.modelId, 10)).toEqual([
      { itemId: items[0]!.id, collectionId: parts, vector: Array.from(v6(0)) },
      { itemId: items[1]!.id, collectionId: parts, vector: Array.from(v6(1)) },
    ]);
    // Both models are served side by side until the old one is dropped.
    expect(await store().countItemVectors(MODEL.modelId)).toBe(4);
    for (const item of items.slice(2, 4)) await store().putItemVector(item.id, next.modelId, v6(2));
    await store().setModel(next);

    expect(await store().deleteVectorsExcept(next.modelId)).toBeGreaterThanOrEqual(4);
    expect(await store().countItemVectors(MODEL.modelId)).toBe(0);
    expect(await store().itemVectors(MODEL.modelId, 0, 10)).toEqual([]);
    expect(await store().countItemVectors(next.modelId)).toBe(4);
    expect(await store().deleteVectorsExcept(next.modelId)).toBe(0);
    // New items of the new model are logged with its vectors.
    const seq = await store().lastLogSeq();
    const added = await store().addItem(newItem(parts), { modelId: next.modelId, data: v6(3) });
    expect(await store().changesSince(seq, next.modelId)).toEqual([{ seq: expect.any(Number), itemId: added.id, collectionId: parts, op: 'add', vector: v6(3) }]);
  });

  it('shows another process what one committed, and moves the change stamp for commits of either', async () => {
    await store().setModel(MODEL);
    const other = await fixture().another();
    const parts = await collection('parts');
    expect(typeof (await store().changeStamp())).toBe('string');

    let stamp = await store().changeStamp();
    const mine = await store().addItem(newItem(parts), vector(X));
    await eventually(async () => (await store().changeStamp()) !== stamp, 'the stamp moves after this process commits');
    expect(await other.getItem(mine.id)).toEqual(mine);
    expect((await other.changesSince(0, MODEL.modelId)).map((c) => c.itemId)).toEqual([mine.id]);

    stamp = await store().changeStamp();
    const theirs = await other.addItem(newItem(parts), vector(Y));
    await eventually(async () => (await store().changeStamp()) !== stamp, 'the stamp moves after another process commits');
    expect(await store().getItem(theirs.id)).toEqual(theirs);
    const changes = await store().changesSince(0, MODEL.modelId);
    expect(changes.map((c) => [c.itemId, c.op, numbers(c.vector)])).toEqual([
      [mine.id, 'add', Array.from(X)],
      [theirs.id, 'add', Array.from(Y)],
    ]);
    expect(await store().lastLogSeq()).toBe(await other.lastLogSeq());

    stamp = await store().changeStamp();
    expect(await other.removeItem(mine.id)).toBe(true);
    await eventually(async () => (await store().changeStamp()) !== stamp, 'the stamp moves after another process removes');
    expect(await store().getItem(mine.id)).toBeNull();
  });

  it('never lets a log entry appear below a seq a follower already read, with two processes writing at once', async () => {
    await store().setModel(MODEL);
    const other = await fixture().another();
    const parts = await collection('parts');
    const follower = await fixture().another();
    const seen: IndexChange[] = [];
    let watermark = 0;
    // One follower, reading after every write of either writer (its reads one after another).
    let reading = Promise.resolve();
    const follow = () =>
      (reading = reading.then(async () => {
        const changes = await follower.changesSince(watermark, MODEL.modelId);
        for (const c of changes) {
          expect(c.seq).toBeGreaterThan(watermark);
          watermark = c.seq;
          seen.push(c);
        }
      }));
    const write = async (catalog: Catalog, from: number) => {
      const ids: number[] = [];
      for (let i = 0; i < 15; i++) {
        ids.push((await catalog.addItem(newItem(parts), vector(vectors[from + i]))).id);
        await follow();
      }
      return ids;
    };
    const [a, b] = await Promise.all([write(store(), 0), write(other, 20)]);
    await follow();
    // Every add was seen exactly once, with its own vector.
    expect(ascending(seen.map((c) => c.itemId))).toEqual(ascending([...a, ...b]));
    const byId = new Map(seen.map((c) => [c.itemId, c]));
    a.forEach((id, i) => expect(numbers(byId.get(id)!.vector)).toEqual(Array.from(vectors[i]!)));
    b.forEach((id, i) => expect(numbers(byId.get(id)!.vector)).toEqual(Array.from(vectors[20 + i]!)));
    expect(await store().countItems(parts)).toBe(30);
  });
}
