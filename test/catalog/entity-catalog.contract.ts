/**
 * What every EntityCatalog promises (src/catalog/catalog.ts): entities and the material their
 * references are built from, links and the entity log, review verdicts and their undo, forgetting,
 * and re-embedding texts. Run on every engine by entity-catalog.int.test.ts.
 */
import { expect, it } from 'vitest';
import type { Catalog, Item, NewItem, TextEmbedding } from '../../src/catalog/catalog.js';
import { labelKey } from '../../src/ocr/identifiers.js';
import { ErrorCode } from '../../src/errors.js';
import type { CatalogFixture } from './catalog-engines.js';
import { ascending, embedding, MODEL, newItem, numbers, unit, vector, W, X, Y, Z } from './contract-support.js';

const NEXT = 'next-model@2';

/** Material as plain numbers, for comparing. */
async function material(catalog: Catalog, entityId: number, modelId = MODEL.modelId) {
  const m = await catalog.entityMaterial(entityId, modelId);
  return (
    m && {
      entity: m.entity,
      images: m.images.map((i) => ({ itemId: i.itemId, vector: Array.from(i.vector) })).sort((a, b) => a.itemId - b.itemId),
      texts: m.texts.map((t) => ({ textId: t.textId, body: t.body, source: t.source, vector: Array.from(t.vector) })),
      phrases: m.phrases.map((p) => ({ textId: p.textId, body: p.body, vector: Array.from(p.vector) })),
    }
  );
}

/** Verdicts as the contract promises them (an engine may say more). */
const verdicts = async (catalog: Catalog, itemIds: number[], modelId = MODEL.modelId) =>
  (await catalog.verdictsOn(itemIds, modelId)).map((v) => ({ id: v.id, itemId: v.itemId, verdict: v.verdict, vector: Array.from(v.vector) })).sort((a, b) => a.id - b.id);
const entityVerdicts = async (catalog: Catalog, entityIds: number[], modelId = MODEL.modelId) =>
  (await catalog.entityVerdictsOn(entityIds, modelId))
    .map((v) => ({ id: v.id, entityId: v.entityId, itemId: v.itemId, verdict: v.verdict, vector: Array.from(v.vector) }))
    .sort((a, b) => a.id - b.id);

export function entityCatalogContract(fixture: () => CatalogFixture): void {
  const store = () => fixture().catalog;
  const collection = async (name: string, kind: 'part' | 'person' | 'other' = 'part') => (await store().ensureCollection(name, kind)).id;
  const add = async (collectionId: number, extra: Partial<NewItem> = {}, data: Float32Array = X, caption: TextEmbedding | null = null): Promise<Item> => {
    await store().setModel(MODEL);
    return store().addItem(newItem(collectionId, extra), vector(data), caption);
  };

  it('makes one entity per label per collection, of the collection’s kind, and finds it by exact label', async () => {
    const parts = await collection('parts');
    const people = await collection('people', 'person');
    const before = Date.now();
    const p1 = await store().ensureEntity(parts, 'P-1');
    expect(p1).toEqual({ id: expect.any(Number), collectionId: parts, label: 'P-1', kind: 'part', createdAt: expect.any(Number) });
    expect(p1.createdAt).toBeGreaterThanOrEqual(before);
    expect(p1.createdAt).toBeLessThanOrEqual(Date.now());
    expect(await store().ensureEntity(parts, 'P-1')).toEqual(p1);
    const same = await store().ensureEntity(people, 'P-1');
    expect(same).toMatchObject({ collectionId: people, label: 'P-1', kind: 'person' });
    expect(same.id).not.toBe(p1.id);
    const other = await store().ensureEntity(parts, 'p-1');

    expect(await store().getEntity(p1.id)).toEqual(p1);
    expect(await store().getEntity(p1.id + same.id + other.id + 1000)).toBeNull();
    expect((await store().findEntities('P-1')).sort((a, b) => a.id - b.id)).toEqual([p1, same].sort((a, b) => a.id - b.id));
    expect(await store().findEntities('P-')).toEqual([]);
    expect(await store().liveEntityIds()).toEqual(ascending([p1.id, same.id, other.id]));
    expect(await store().countEntities()).toBe(3);
    // An item's label makes its entity too, or finds it.
    const item = await add(parts, { entityLabel: 'P-1' });
    expect(item.entityId).toBe(p1.id);
    expect(await store().countEntities()).toBe(3);

    for (const bad of ['', '   ', 'x'.repeat(201), 'a\nb']) await expect(store().ensureEntity(parts, bad)).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    expect(await store().countEntities()).toBe(3);
  });

  it('gathers an entity’s material: its live photos, its descriptions and its photos’ captions, oldest first, with phrases', async () => {
    const parts = await collection('parts');
    const a = await add(parts, { entityLabel: 'P-1', caption: 'hex bolt, zinc' }, X, embedding(Y, [['hex bolt', Z], ['zinc', W]]));
    const e = a.entityId!;
    const loose = await add(parts, { caption: 'brass nut' }, Y, embedding(Z, [['brass nut', X]]));
    const c = await add(parts, { entityLabel: 'P-1' }, Z);
    const removed = await add(parts, { entityLabel: 'P-1', caption: 'removed caption' }, W, embedding(W));
    await store().removeItem(removed.id);
    const described = await store().addText({ entityId: e, body: 'M8 thread', source: 'describe', author: 'U1' }, embedding(Z, [['M8', W]]));
    expect(Number.isInteger(described) && described > 0).toBe(true);
    const unembedded = await store().addText({ entityId: e, body: 'no vector yet', source: 'import' }, null);
    expect(unembedded).not.toBe(described);

    expect((await store().entityItems(e)).sort((x, y) => x.id - y.id)).toEqual([a, c]);
    const m = (await material(store(), e))!;
    expect(m.entity).toEqual(await store().getEntity(e));
    expect(m.images).toEqual([
      { itemId: a.id, vector: Array.from(X) },
      { itemId: c.id, vector: Array.from(Z) },
    ]);
    // The text without a vector for the model is left out.
    expect(m.texts).toEqual([
      { textId: expect.any(Number), body: 'hex bolt, zinc', source: 'caption', vector: Array.from(Y) },
      { textId: described, body: 'M8 thread', source: 'describe', vector: Array.from(Z) },
    ]);
    const captionId = m.texts[0]!.textId;
    expect(m.phrases).toEqual([
      { textId: captionId, body: 'hex bolt', vector: Array.from(Z) },
      { textId: captionId, body: 'zinc', vector: Array.from(W) },
      { textId: described, body: 'M8', vector: Array.from(W) },
    ]);

    // A photo linked after it was posted brings its caption along.
    await store().linkItem(loose.id, e);
    const linked = (await material(store(), e))!;
    expect(linked.images.map((i) => i.itemId)).toEqual(ascending([a.id, c.id, loose.id]));
    expect(linked.texts.map((t) => t.body)).toEqual(['hex bolt, zinc', 'brass nut', 'M8 thread']);
    expect(linked.phrases.map((p) => p.body)).toEqual(['hex bolt', 'zinc', 'brass nut', 'M8']);

    // A photo linked to another entity takes its caption along; a removed photo takes its own.
    const p2 = await store().ensureEntity(parts, 'P-2');
    await store().linkItem(a.id, p2.id);
    await store().removeItem(loose.id);
    expect((await material(store(), e))!.texts.map((t) => t.body)).toEqual(['M8 thread']);
    expect((await material(store(), p2.id))!.texts.map((t) => t.body)).toEqual(['hex bolt, zinc']);
    expect((await material(store(), p2.id))!.images.map((i) => i.itemId)).toEqual([a.id]);

    expect(await material(store(), e, 'another/model')).toEqual({ entity: m.entity, images: [], texts: [], phrases: [] });
    expect(await store().entityMaterial(e + 1000, MODEL.modelId)).toBeNull();
    expect(await store().entityItems(e + 1000)).toEqual([]);
  });

  it('links and unlinks photos, and logs every entity a change touches', async () => {
    const parts = await collection('parts');
    const start = await store().lastEntitySeq();
    const a = await add(parts, { entityLabel: 'P-1' });
    const loose = await add(parts);
    const p1 = a.entityId!;
    const p2 = (await store().ensureEntity(parts, 'P-2')).id;
    await store().linkItem(loose.id, p2);
    await store().linkItem(a.id, p2);
    expect(await store().getItem(a.id)).toMatchObject({ entityId: p2, entityLabel: 'P-2' });
    expect(ascending((await store().entityItems(p2)).map((i) => i.id))).toEqual(ascending([a.id, loose.id]));
    expect(await store().entityItems(p1)).toEqual([]);

    const changes = await store().entityChangesSince(start);
    expect(ascending(changes.entityIds)).toEqual(ascending([p1, p2]));
    expect(changes.seq).toBe(await store().lastEntitySeq());
    expect(changes.seq).toBeGreaterThan(start);
    expect(await store().entityChangesSince(changes.seq)).toEqual({ seq: changes.seq, entityIds: [] });

    // Unlinking logs the entity left; a description logs its entity; removing a photo logs its entity.
    await store().linkItem(a.id, null);
    expect(await store().getItem(a.id)).toMatchObject({ entityId: null, entityLabel: null });
    let next = await store().entityChangesSince(changes.seq);
    expect(next.entityIds).toEqual([p2]);
    await store().addText({ entityId: p1, body: 'a description', source: 'describe' }, embedding(Y));
    next = await store().entityChangesSince(next.seq);
    expect(next.entityIds).toEqual([p1]);
    await store().removeItem(loose.id);
    next = await store().entityChangesSince(next.seq);
    expect(next.entityIds).toEqual([p2]);
    // Another process reads the same log.
    const other = await fixture().another();
    expect(await other.lastEntitySeq()).toBe(next.seq);
    expect(ascending((await other.entityChangesSince(start)).entityIds)).toEqual(ascending([p1, p2]));
  });

  it('a confirm links the photo and keeps the query as a description; undo reverts both', async () => {
    const parts = await collection('parts');
    const item = await add(parts);
    const entity = await store().ensureEntity(parts, 'P-1');
    const seq = await store().lastEntitySeq();
    const before = Date.now();
    const v = await store().addVerdict(
      { query: 'zinc bolt', itemId: item.id, entityId: entity.id, verdict: 'confirm', user: 'U1' },
      embedding(Y, [['zinc bolt', Z]]),
    );
    expect(v).toMatchObject({ id: expect.any(Number), query: 'zinc bolt', itemId: item.id, entityId: entity.id, verdict: 'confirm', user: 'U1', linked: true, textId: expect.any(Number), undoneAt: null });
    expect(v.createdAt).toBeGreaterThanOrEqual(before);
    expect(await store().getVerdict(v.id)).toMatchObject({ id: v.id, linked: true, textId: v.textId, undoneAt: null });
    expect(await store().getItem(item.id)).toMatchObject({ entityId: entity.id, entityLabel: 'P-1' });
    expect((await material(store(), entity.id))!).toMatchObject({
      images: [{ itemId: item.id }],
      texts: [{ textId: v.textId, body: 'zinc bolt', source: 'review', vector: Array.from(Y) }],
      phrases: [{ textId: v.textId, body: 'zinc bolt', vector: Array.from(Z) }],
    });
    expect((await store().entityChangesSince(seq)).entityIds).toEqual([entity.id]);
    expect(await verdicts(store(), [item.id])).toEqual([{ id: v.id, itemId: item.id, verdict: 'confirm', vector: Array.from(Y) }]);
    // Given on a photo of the entity it names (the link it made), the verdict speaks for the entity.
    expect(await entityVerdicts(store(), [entity.id])).toEqual([{ id: v.id, entityId: entity.id, itemId: item.id, verdict: 'confirm', vector: Array.from(Y) }]);
    // The kept description is found by its words, through the entity.
    expect([...(await store().lexicalMatches({ words: ['zinc'], identifiers: [] })).words.keys()]).toEqual([item.id]);

    const undoSeq = await store().lastEntitySeq();
    const undone = (await store().undoVerdict(v.id))!;
    expect(undone).toMatchObject({ id: v.id, query: 'zinc bolt', verdict: 'confirm', undoneAt: expect.any(Number) });
    expect(undone.undoneAt!).toBeGreaterThanOrEqual(v.createdAt);
    expect((await store().getVerdict(v.id))?.undoneAt).toBe(undone.undoneAt);
    expect(await store().getItem(item.id)).toMatchObject({ entityId: null, entityLabel: null });
    expect(await material(store(), entity.id)).toMatchObject({ images: [], texts: [], phrases: [] });
    expect(await verdicts(store(), [item.id])).toEqual([]);
    expect(await entityVerdicts(store(), [entity.id])).toEqual([]);
    expect((await store().lexicalMatches({ words: ['zinc'], identifiers: [] })).words.size).toBe(0);
    expect((await store().entityChangesSince(undoSeq)).entityIds).toEqual([entity.id]);
    expect(await store().undoVerdict(v.id)).toBeNull();
    expect(await store().undoVerdict(v.id + 1000)).toBeNull();
    expect(await store().getVerdict(v.id + 1000)).toBeNull();
  });

  it('a confirm leaves a photo linked elsewhere where it is, and keeps no description when told not to', async () => {
    const parts = await collection('parts');
    const item = await add(parts, { entityLabel: 'P-2' });
    const p1 = await store().ensureEntity(parts, 'P-1');
    const kept = await store().addVerdict({ query: 'zinc bolt', itemId: item.id, entityId: p1.id, verdict: 'confirm' }, embedding(Y));
    expect(kept).toMatchObject({ linked: false, textId: expect.any(Number), user: null });
    expect((await store().getItem(item.id))?.entityId).toBe(item.entityId);
    expect((await material(store(), p1.id))!.texts.map((t) => [t.body, t.source])).toEqual([['zinc bolt', 'review']]);
    // Not on a photo of P-1: it does not speak for P-1.
    expect(await entityVerdicts(store(), [p1.id])).toEqual([]);

    const loose = await add(parts);
    const photoQuery = await store().addVerdict({ query: 'photo search', itemId: loose.id, entityId: p1.id, verdict: 'confirm', keepQuery: false }, embedding(Z));
    expect(photoQuery).toMatchObject({ linked: true, textId: null });
    expect((await material(store(), p1.id))!.texts.map((t) => t.body)).toEqual(['zinc bolt']);

    // Undoing the first leaves the other entity's link alone.
    await store().undoVerdict(kept.id);
    expect((await store().getItem(item.id))?.entityId).toBe(item.entityId);
    expect((await material(store(), p1.id))!.texts).toEqual([]);
    expect((await store().getItem(loose.id))?.entityId).toBe(p1.id);
  });

  it('a reject records the pair without linking or keeping anything, with the vector that was searched', async () => {
    const parts = await collection('parts');
    const item = await add(parts);
    const card = await add(parts, { entityLabel: 'P-1' });
    const p1 = card.entityId!;
    const v = await store().addVerdict({ query: 'brass', itemId: item.id, entityId: null, verdict: 'reject' }, embedding(Y));
    expect(v).toMatchObject({ query: 'brass', itemId: item.id, entityId: null, verdict: 'reject', linked: false, textId: null, undoneAt: null });
    expect((await store().getItem(item.id))?.entityId).toBeNull();
    // A photo query: the verdict keeps the vector searched with, not the words'.
    const searched = unit(1, 1, 0, 0);
    const onCard = await store().addVerdict({ query: 'not this one', itemId: card.id, entityId: p1, verdict: 'reject', searched }, embedding(Z));
    expect(onCard).toMatchObject({ linked: false, textId: null });
    expect(await material(store(), p1)).toMatchObject({ texts: [] });
    const other = await store().addVerdict({ query: 'unrelated', itemId: card.id, entityId: null, verdict: 'reject' }, embedding(W));

    expect(await verdicts(store(), [item.id, card.id])).toEqual(
      [
        { id: v.id, itemId: item.id, verdict: 'reject', vector: Array.from(Y) },
        { id: onCard.id, itemId: card.id, verdict: 'reject', vector: Array.from(searched) },
        { id: other.id, itemId: card.id, verdict: 'reject', vector: Array.from(W) },
      ].sort((a, b) => a.id - b.id),
    );
    expect(await verdicts(store(), [card.id])).toHaveLength(2);
    expect(await verdicts(store(), [item.id + card.id + 1000])).toEqual([]);
    expect(await verdicts(store(), [])).toEqual([]);
    // Only the verdict naming the entity, given on its own photo, speaks for it.
    expect(await entityVerdicts(store(), [p1, p1 + 1000])).toEqual([{ id: onCard.id, entityId: p1, itemId: card.id, verdict: 'reject', vector: Array.from(searched) }]);
    // Another model has no vectors for them yet.
    expect(await verdicts(store(), [item.id, card.id], 'another/model')).toEqual([]);
    expect(await entityVerdicts(store(), [p1], 'another/model')).toEqual([]);
  });

  it('shows another process the verdicts one gave, undid or forgot, on its next read', async () => {
    const parts = await collection('parts');
    const a = await add(parts);
    const b = await add(parts);
    const doomed = await add(parts, { entityLabel: 'P-9' });
    expect(await verdicts(store(), [a.id, b.id])).toEqual([]);
    const other = await fixture().another();

    const v = await other.addVerdict({ query: 'brass', itemId: a.id, entityId: null, verdict: 'reject' }, embedding(X));
    expect(await verdicts(store(), [a.id, b.id])).toEqual([{ id: v.id, itemId: a.id, verdict: 'reject', vector: Array.from(X) }]);
    await other.undoVerdict(v.id);
    expect(await verdicts(store(), [a.id])).toEqual([]);
    // An add and an undo between two reads still show.
    const w = await other.addVerdict({ query: 'zinc', itemId: b.id, entityId: null, verdict: 'reject' }, embedding(Y));
    const x = await other.addVerdict({ query: 'steel', itemId: a.id, entityId: null, verdict: 'reject' }, embedding(Z));
    await other.undoVerdict(w.id);
    expect((await verdicts(store(), [a.id, b.id])).map((r) => r.id)).toEqual([x.id]);

    // The newest verdict forgotten with its entity, and a new one given, between two reads.
    const gone = await other.addVerdict({ query: 'secret', itemId: doomed.id, entityId: doomed.entityId, verdict: 'reject' }, embedding(W));
    expect((await verdicts(store(), [doomed.id])).map((r) => r.id)).toEqual([gone.id]);
    expect((await entityVerdicts(store(), [doomed.entityId!])).map((r) => r.id)).toEqual([gone.id]);
    await other.forgetEntity(doomed.entityId!);
    const fresh = await other.addVerdict({ query: 'fresh', itemId: b.id, entityId: null, verdict: 'reject' }, embedding(X));
    expect(await verdicts(store(), [a.id, b.id, doomed.id])).toEqual(
      [
        { id: x.id, itemId: a.id, verdict: 'reject', vector: Array.from(Z) },
        { id: fresh.id, itemId: b.id, verdict: 'reject', vector: Array.from(X) },
      ].sort((p, q) => p.id - q.id),
    );
    expect(await entityVerdicts(store(), [doomed.entityId!])).toEqual([]);
  });

  it('forgets an entity: its photos, descriptions, readings, verdicts and platform copies, findable through no role', async () => {
    const parts = await collection('parts');
    const spares = await collection('spares');
    const before = { log: await store().lastLogSeq(), entities: await store().lastEntitySeq() };
    const a = await add(
      parts,
      { entityLabel: 'P-1', caption: 'secret caption', mediaKey: 'media/p1-a.jpg', source: { platform: 'slack', channel: 'C1', user: 'U1', ref: 'F1' } },
      X,
      embedding(Y, [['secret caption', Z]]),
    );
    const p1 = a.entityId!;
    const b = await add(parts, { entityLabel: 'P-1', mediaKey: 'media/p1-b.jpg' }, Y);
    const shared = await add(parts, { entityLabel: 'P-1', mediaKey: 'media/shared.jpg' }, Z);
    // The same photo, in another collection, not of the entity: its file stays.
    const twin = await add(spares, { hash: shared.hash, mediaKey: 'media/shared.jpg' }, Z);
    const keep = await add(parts, { entityLabel: 'P-2', caption: 'kept caption', mediaKey: 'media/p2.jpg' }, W, embedding(W));
    const p2 = keep.entityId!;
    await store().addText({ entityId: p1, body: 'confidential description', source: 'describe' }, embedding(Z, [['confidential', W]]));
    await store().addText({ entityId: p1, body: 'unembedded remark', source: 'import' }, null);
    await store().putOcr(a.id, { modelId: 'ocr', lines: [{ text: 'LOT 4471-B', confidence: 0.9, box: [[0, 0], [1, 0], [1, 1], [0, 1]] }], identifiers: ['LOT4471B'] });
    await store().addVerdict({ query: 'hidden confirm', itemId: a.id, entityId: p1, verdict: 'confirm' }, embedding(X));
    await store().addVerdict({ query: 'hidden reject', itemId: b.id, entityId: null, verdict: 'reject' }, embedding(X));
    // A verdict about P-1 given on another entity's photo goes too; one about P-2 stays.
    await store().addVerdict({ query: 'not p1', itemId: keep.id, entityId: p1, verdict: 'reject' }, embedding(Y));
    const stays = await store().addVerdict({ query: 'is p2', itemId: keep.id, entityId: p2, verdict: 'confirm', keepQuery: false }, embedding(Z));
    for (const mediaKey of ['media/p1-a.jpg', 'media/shared.jpg', 'media/p2.jpg']) await store().setPlatformFile({ platform: 'slack', workspace: 'T1', mediaKey }, `F-${mediaKey}`);

    const result = await store().forgetEntity(p1);
    expect(ascending(result.itemIds)).toEqual(ascending([a.id, b.id, shared.id]));
    expect([...result.orphanedMedia].sort()).toEqual(['media/p1-a.jpg', 'media/p1-b.jpg']);

    const check = async (c: Catalog) => {
      // Items.
      for (const item of [a, b, shared]) {
        expect(await c.getItem(item.id)).toBeNull();
        expect(await c.findLiveItemByHash(parts, item.hash)).toBeNull();
        expect(await c.ocrOf(item.id)).toBeNull();
      }
      expect(await c.getItems([a.id, b.id, shared.id])).toEqual(new Map());
      expect(await c.countItems()).toBe(2);
      expect(await c.countItems(parts)).toBe(1);
      expect(await c.countItemVectors(MODEL.modelId)).toBe(2);
      expect((await c.itemVectors(MODEL.modelId, 0, 100)).map((v) => v.itemId)).toEqual(ascending([twin.id, keep.id]));
      expect((await c.itemsWithoutVector('another/model', 100)).map((i) => i.id).sort()).toEqual(ascending([twin.id, keep.id]).sort());
      const dels = (await c.changesSince(before.log, MODEL.modelId)).filter((ch) => ch.op === 'del');
      expect(ascending(dels.map((ch) => ch.itemId))).toEqual(ascending([a.id, b.id, shared.id]));
      expect(dels.every((ch) => ch.vector === null)).toBe(true);
      // Entity.
      expect(await c.getEntity(p1)).toBeNull();
      expect(await c.findEntities('P-1')).toEqual([]);
      expect(await c.liveEntityIds()).toEqual([p2]);
      expect(await c.countEntities()).toBe(1);
      expect(await c.entityMaterial(p1, MODEL.modelId)).toBeNull();
      expect(await c.entityItems(p1)).toEqual([]);
      expect((await c.entityChangesSince(before.entities)).entityIds).toContain(p1);
      // Verdicts and texts.
      expect((await verdicts(c, [a.id, b.id, shared.id, keep.id])).map((v) => v.id)).toEqual([stays.id]);
      expect(await entityVerdicts(c, [p1])).toEqual([]);
      const unembedded = await c.textsWithoutVector(MODEL.modelId, 100);
      expect(unembedded.map((t) => t.body)).toEqual([]);
      const all = await c.textsWithoutVector('another/model', 100);
      expect(all.map((t) => t.body).sort()).toEqual(['is p2', 'kept caption']);
      // Lexical matching.
      const found = await c.lexicalMatches({ words: ['secret', 'caption', 'confidential', 'unembedded', 'hidden'], identifiers: [], labels: [labelKey('P-1')] });
      expect([...found.items.keys()]).toEqual([keep.id]);
      expect(found.named.size).toBe(0);
      expect((await c.lexicalMatches({ words: [], identifiers: ['LOT4471B'] })).items.size).toBe(0);
      // Media.
      for (const key of ['media/p1-a.jpg', 'media/p1-b.jpg']) {
        expect(await c.isMediaLive(key)).toBe(false);
        expect(await c.mediaCollections(key)).toEqual([]);
      }
      expect(await c.isMediaLive('media/shared.jpg')).toBe(true);
      expect(await c.mediaCollections('media/shared.jpg')).toEqual([spares]);
      expect(await c.platformFile({ platform: 'slack', workspace: 'T1', mediaKey: 'media/p1-a.jpg' })).toBeNull();
      expect(await c.platformFile({ platform: 'slack', workspace: 'T1', mediaKey: 'media/shared.jpg' })).toBe('F-media/shared.jpg');
      expect(await c.platformFile({ platform: 'slack', workspace: 'T1', mediaKey: 'media/p2.jpg' })).toBe('F-media/p2.jpg');
      // What was not the entity's is as it was.
      expect(await c.getItem(keep.id)).toEqual(keep);
      expect(await c.getItem(twin.id)).toEqual(twin);
      expect((await material(c, p2))!.texts.map((t) => t.body)).toEqual(['kept caption']);
    };
    await check(store());
    await check(await fixture().another());
    expect((await store().mediaTrash(10)).sort()).toEqual(['media/p1-a.jpg', 'media/p1-b.jpg']);
    await store().checkpoint();

    // The label and the image may come back: as a new entity and a new item, with nothing of before.
    const back = await store().ensureEntity(parts, 'P-1');
    expect(back).toMatchObject({ collectionId: parts, label: 'P-1' });
    expect(await material(store(), back.id)).toMatchObject({ images: [], texts: [], phrases: [] });
    expect(await store().entityItems(back.id)).toEqual([]);
    const again = await add(parts, { hash: a.hash, mediaKey: 'media/p1-a.jpg', entityLabel: 'P-1' });
    expect(again.id).not.toBe(a.id);
    expect(again).toMatchObject({ entityId: back.id, caption: null });
    expect(await store().ocrOf(again.id)).toBeNull();
    expect(await verdicts(store(), [again.id])).toEqual([]);
  });

  it('re-embeds texts and verdict queries that have no vector for a model yet', async () => {
    const parts = await collection('parts');
    const item = await add(parts, { entityLabel: 'P-1', caption: 'late caption' });
    const e = item.entityId!;
    const described = await store().addText({ entityId: e, body: 'described later', source: 'describe' }, null);
    const other = await add(parts);
    const v = await store().addVerdict({ query: 'a query', itemId: other.id, entityId: e, verdict: 'confirm', keepQuery: false }, embedding(Y));
    const undone = await store().addVerdict({ query: 'undone query', itemId: other.id, entityId: null, verdict: 'reject' }, embedding(Y));
    await store().undoVerdict(undone.id);

    expect((await store().textsWithoutVector(MODEL.modelId, 10)).sort((x, y) => x.body.localeCompare(y.body))).toEqual([
      { kind: 'text', id: described, body: 'described later' },
      { kind: 'text', id: expect.any(Number), body: 'late caption' },
    ]);
    const forNext = await store().textsWithoutVector(NEXT, 10);
    expect(forNext.map((t) => [t.kind, t.body]).sort()).toEqual([
      ['feedback', 'a query'],
      ['text', 'described later'],
      ['text', 'late caption'],
    ]);
    expect(forNext.find((t) => t.kind === 'feedback')?.id).toBe(v.id);
    expect(await store().textsWithoutVector(NEXT, 2)).toHaveLength(2);

    await store().putTextEmbedding('text', described, embedding(Z, [['described', W], ['later', X]], NEXT));
    // Embedded again, a text's vectors and phrases are replaced, not doubled.
    await store().putTextEmbedding('text', described, embedding(W, [['described', X], ['later', Y]], NEXT));
    await store().putTextEmbedding('feedback', v.id, embedding(Z, [], NEXT));
    const caption = forNext.find((t) => t.body === 'late caption')!;
    await store().putTextEmbedding('text', caption.id, embedding(X, [], NEXT));
    expect(await store().textsWithoutVector(NEXT, 10)).toEqual([]);

    expect(await material(store(), e, NEXT)).toMatchObject({
      images: [],
      texts: [
        { textId: caption.id, body: 'late caption', source: 'caption', vector: Array.from(X) },
        { textId: described, body: 'described later', source: 'describe', vector: Array.from(W) },
      ],
      phrases: [
        { textId: described, body: 'described', vector: Array.from(X) },
        { textId: described, body: 'later', vector: Array.from(Y) },
      ],
    });
    expect(await verdicts(store(), [other.id], NEXT)).toEqual([{ id: v.id, itemId: other.id, verdict: 'confirm', vector: Array.from(Z) }]);
    // The old model's material is as it was.
    expect((await material(store(), e))!.texts).toEqual([]);
    expect(numbers((await store().verdictsOn([other.id], MODEL.modelId))[0]?.vector)).toEqual(Array.from(Y));
  });
}
