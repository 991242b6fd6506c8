/**
 * What every LexicalCatalog promises (src/catalog/catalog.ts): what OCR read off each image, the
 * reading queue, and lexical matching (identifiers on the images, entities the query names, and
 * words of captions, OCR text and descriptions). Run on every engine by lexical-catalog.int.test.ts.
 */
import { expect, it } from 'vitest';
import type { Item, LexicalMatches, NewOcr } from '../../src/catalog/catalog.js';
import { identifiersIn, labelKey } from '../../src/ocr/identifiers.js';
import type { OcrLine } from '../../src/ocr/ocr.js';
import { queryTerms } from '../../src/search/hybrid.js';
import type { CatalogFixture } from './catalog-engines.js';
import { ascending, embedding, MODEL, newItem, vector, X, Y } from './contract-support.js';

const line = (text: string, y = 0): OcrLine => ({ text, confidence: 0.93, box: [[0, y], [100, y], [100, y + 10], [0, y + 10]] });
/** A reading as the OCR job stores it: identifiers from the lines, unless given. */
const reading = (texts: string[], identifiers?: string[]): NewOcr => ({
  modelId: 'ppocr-v4',
  lines: texts.map((t, i) => line(t, i * 20)),
  identifiers: identifiers ?? [...new Set(texts.flatMap(identifiersIn))],
});

/** Labels people give entities: ASCII part numbers with the usual separators, and names in several scripts. */
const LABELS = ['P-20417', 'p 20417', 'PCB_1001/A', 'M8.5-x', 'X9 -220B', 'Zoë Ng', 'José Álvarez', 'Øyvind Ås', 'Straße 7', 'L0T 12', 'M10×40', 'ﬁle-Ⅸ'];

const ids = (m: Map<number, unknown>) => ascending(m.keys());

export function lexicalCatalogContract(fixture: () => CatalogFixture): void {
  const store = () => fixture().catalog;
  const collection = async (name: string) => (await store().ensureCollection(name, 'part')).id;
  const add = async (collectionId: number, extra: { entityLabel?: string; caption?: string } = {}): Promise<Item> => {
    await store().setModel(MODEL);
    return store().addItem(newItem(collectionId, extra), vector(X), extra.caption ? embedding(Y) : null);
  };
  const match = (query: { words?: string[]; identifiers?: string[]; labels?: string[]; collectionIds?: ReadonlySet<number> }) =>
    store().lexicalMatches({ words: query.words ?? [], identifiers: query.identifiers ?? [], labels: query.labels ?? [], ...(query.collectionIds ? { collectionIds: query.collectionIds } : {}) });
  /** Every image a match found is in `items`, with its entity and collection. */
  const expectItemsCover = async (found: LexicalMatches) => {
    const all = new Set([...found.identifiers.keys(), ...found.words.keys(), ...found.named.keys()]);
    expect(ids(found.items)).toEqual(ascending(all));
    const items = await store().getItems([...all]);
    for (const id of all) expect(found.items.get(id), `item ${id}`).toEqual({ entityId: items.get(id)!.entityId, collectionId: items.get(id)!.collectionId });
  };

  it('stores a reading and gives it back; a second reading replaces the first', async () => {
    const parts = await collection('parts');
    const item = await add(parts);
    const before = Date.now();
    expect(await store().ocrOf(item.id)).toBeNull();
    expect(await store().putOcr(item.id, reading(['HEX BOLT M8', 'LOT 4471-B']))).toBe(true);
    const first = await store().ocrOf(item.id);
    expect(first).toEqual({ modelId: 'ppocr-v4', lines: reading(['HEX BOLT M8', 'LOT 4471-B']).lines, identifiers: ['4471B', 'LOT4471B', 'M8'], at: expect.any(Number) });
    expect(first!.at).toBeGreaterThanOrEqual(before);
    expect(first!.at).toBeLessThanOrEqual(Date.now());

    expect(await store().putOcr(item.id, { ...reading(['WASHER 10MM']), modelId: 'ppocr-v5' })).toBe(true);
    expect(await store().ocrOf(item.id)).toEqual({ modelId: 'ppocr-v5', lines: [line('WASHER 10MM')], identifiers: ['10MM'], at: expect.any(Number) });
    // The first reading's identifiers and words went with it.
    expect((await match({ identifiers: ['M8'] })).identifiers.size).toBe(0);
    expect((await match({ words: ['hex'] })).words.size).toBe(0);
    expect(ids((await match({ words: ['washer'] })).words)).toEqual([item.id]);
    expect(await store().ocrOf(item.id + 1000)).toBeNull();
  });

  it('refuses a reading of a removed or unknown item, and forgets the reading of a removed one', async () => {
    const parts = await collection('parts');
    const kept = await add(parts);
    const gone = await add(parts);
    expect(await store().putOcr(gone.id, reading(['P-31552 GASKET']))).toBe(true);
    expect(await store().removeItem(gone.id)).toBe(true);
    expect(await store().putOcr(gone.id, reading(['P-31553']))).toBe(false);
    expect(await store().putOcr(kept.id + 1000, reading(['P-31554']))).toBe(false);
    expect(await store().ocrOf(gone.id)).toBeNull();
    expect((await match({ identifiers: ['P31552', 'P31553'] })).identifiers.size).toBe(0);
    expect((await match({ words: ['gasket'] })).words.size).toBe(0);
  });

  it('finds an identifier exactly, and inside text OCR ran together, but not cut out of a longer number', async () => {
    const parts = await collection('parts');
    const [exact, runTogether, longer, other] = [await add(parts), await add(parts), await add(parts), await add(parts)];
    await store().putOcr(exact.id, reading(['P-31552', 'WASHER 10MM']));
    // The engine glued the label into one run, and the job split out no identifier from it.
    await store().putOcr(runTogether.id, reading(['ZINC', 'P-31552WASHER10MM'], []));
    await store().putOcr(longer.id, reading(['P-315520 WASHER'], []));
    await store().putOcr(other.id, reading(['HEX BOLT M8']));

    const found = await match({ identifiers: ['P31552'] });
    expect(found.identifiers).toEqual(
      new Map([
        [exact.id, { identifier: 'P31552', line: 'P-31552' }],
        [runTogether.id, { identifier: 'P31552', line: 'P-31552WASHER10MM' }],
      ]),
    );
    expect(found.named.size).toBe(0);
    await expectItemsCover(found);
    // Several identifiers: each image once, under the first of the query's identifiers it carries.
    const many = await match({ identifiers: ['10MM', 'M8', 'P31552'] });
    expect(many.identifiers).toEqual(
      new Map([
        [exact.id, { identifier: '10MM', line: 'WASHER 10MM' }],
        [runTogether.id, { identifier: '10MM', line: 'P-31552WASHER10MM' }],
        [other.id, { identifier: 'M8', line: 'HEX BOLT M8' }],
      ]),
    );
    expect((await match({ identifiers: ['Q99999'] })).identifiers.size).toBe(0);
  });

  it('names the entity an identifier is the label of, in the image’s own collection', async () => {
    const parts = await collection('parts');
    const spares = await collection('spares');
    const labelled = await add(parts, { entityLabel: 'P-20417' });
    const loose = await add(parts);
    const elsewhere = await add(spares);
    for (const item of [labelled, loose, elsewhere]) await store().putOcr(item.id, reading(['BIN 4 P-20417']));
    const found = await match({ identifiers: ['P20417'] });
    expect(found.identifiers.get(labelled.id)).toEqual({ identifier: 'P20417', line: 'BIN 4 P-20417', entityId: labelled.entityId });
    // The loose photo carries the label of an entity of its collection: that entity is named too.
    expect(found.identifiers.get(loose.id)).toEqual({ identifier: 'P20417', line: 'BIN 4 P-20417', entityId: labelled.entityId });
    // No entity has that label in "spares".
    expect(found.identifiers.get(elsewhere.id)).toEqual({ identifier: 'P20417', line: 'BIN 4 P-20417' });
    await expectItemsCover(found);
  });

  it('finds the images of an entity by its label key, however the label was typed', async () => {
    const parts = await collection('parts');
    const a = await add(parts, { entityLabel: 'P-20417' });
    const b = await add(parts, { entityLabel: 'P-20417' });
    await add(parts, { entityLabel: 'P-20418' });
    await add(parts);
    for (const typed of ['p20417', 'P 20417', 'P-20417', 'p.20417']) {
      const found = await match({ labels: [labelKey(typed)] });
      expect(found.named).toEqual(
        new Map([
          [a.id, { entityId: a.entityId, label: 'P-20417' }],
          [b.id, { entityId: a.entityId, label: 'P-20417' }],
        ]),
      );
      expect(found.identifiers.size).toBe(0);
      await expectItemsCover(found);
    }
    // An entity made after an earlier lookup is found too.
    const later = await add(parts, { entityLabel: 'PCB_1001/A' });
    expect((await match({ labels: [labelKey('pcb 1001 a')] })).named).toEqual(new Map([[later.id, { entityId: later.entityId, label: 'PCB_1001/A' }]]));
    expect((await match({ labels: ['P2041'] })).named.size).toBe(0);
    // An entity with no live image names nothing.
    await store().ensureEntity(parts, 'P-555');
    expect((await match({ labels: ['P555'] })).named.size).toBe(0);
  });

  it('finds every label by its labelKey, names in any script included', async () => {
    const parts = await collection('parts');
    const byLabel = new Map<string, number>();
    for (const label of LABELS) byLabel.set(label, (await add(parts, { entityLabel: label })).id);
    for (const label of LABELS) {
      const named = (await match({ labels: [labelKey(label)] })).named;
      // 'P-20417' and 'p 20417' are two labels with one key: each finds both.
      const want = LABELS.filter((l) => labelKey(l) === labelKey(label)).map((l) => byLabel.get(l)!);
      expect(ids(named), label).toEqual(ascending(want));
      for (const id of want) expect(named.get(id)?.label).toBe(LABELS.find((l) => byLabel.get(l) === id));
    }
    expect([...(await match({ labels: [labelKey('zoë ng')] })).named.values()]).toMatchObject([{ label: 'Zoë Ng' }]);
  });

  it('finds words in captions, in OCR text and in an entity’s descriptions, scored against the best match', async () => {
    const parts = await collection('parts');
    const captioned = await add(parts, { caption: 'brass elbow fitting' });
    const read = await add(parts);
    await store().putOcr(read.id, reading(['BRASS VALVE 15MM']));
    const [c, d] = [await add(parts, { entityLabel: 'P-7' }), await add(parts, { entityLabel: 'P-7' })];
    await store().addText({ entityId: c.entityId, body: 'zinc plated washer', source: 'describe' }, embedding(Y));
    const unrelated = await add(parts, { caption: 'steel hex bolt' });
    // Filler, so no query word is on a large share of the texts.
    for (let i = 0; i < 8; i++) await add(parts, { caption: `filler text number ${i}` });

    const brass = await match({ words: queryTerms('brass').words });
    expect(ids(brass.words)).toEqual(ascending([captioned.id, read.id]));
    expect(brass.words.get(captioned.id)?.text).toBe('brass elbow fitting');
    expect(brass.words.get(read.id)?.text).toBe('BRASS VALVE 15MM');
    await expectItemsCover(brass);

    const washer = await match({ words: queryTerms('a zinc washer').words });
    expect(washer.words).toEqual(
      new Map([
        [c.id, { score: 1, text: 'zinc plated washer' }],
        [d.id, { score: 1, text: 'zinc plated washer' }],
      ]),
    );
    expect(washer.items.get(c.id)).toEqual({ entityId: c.entityId, collectionId: parts });

    const both = await match({ words: queryTerms('brass elbow or zinc washer').words });
    expect(ids(both.words)).toEqual(ascending([captioned.id, read.id, c.id, d.id]));
    expect(both.words.has(unrelated.id)).toBe(false);
    const scores = [...both.words.values()].map((w) => w.score);
    for (const s of scores) expect(s > 0 && s <= 1, `score ${s}`).toBe(true);
    expect(Math.max(...scores)).toBeCloseTo(1, 6);
    // Two of the query's words beat one.
    expect(both.words.get(captioned.id)!.score).toBeGreaterThan(both.words.get(read.id)!.score);
    await expectItemsCover(both);

    expect((await match({ words: ['nothing', 'matches'] })).words.size).toBe(0);
    expect((await match({ words: [] })).words.size).toBe(0);
  });

  it('keeps the collection filter exact, for identifiers, labels and words alike', async () => {
    const parts = await collection('parts');
    const spares = await collection('spares');
    const empty = await collection('empty');
    const inParts = await add(parts, { entityLabel: 'P-20417', caption: 'copper gasket' });
    const inSpares = await add(spares, { entityLabel: 'P-20417', caption: 'copper gasket' });
    await store().putOcr(inParts.id, reading(['P-20417']));
    await store().putOcr(inSpares.id, reading(['XX P-20417YY'], []));
    const query = { identifiers: ['P20417'], labels: ['P20417'], words: ['copper'] };

    const all = await match(query);
    for (const m of [all.identifiers, all.named, all.words, all.items]) expect(ids(m)).toEqual(ascending([inParts.id, inSpares.id]));
    const onlySpares = await match({ ...query, collectionIds: new Set([spares]) });
    expect(ids(onlySpares.identifiers)).toEqual([inSpares.id]);
    expect(onlySpares.named).toEqual(new Map([[inSpares.id, { entityId: inSpares.entityId, label: 'P-20417' }]]));
    expect(ids(onlySpares.words)).toEqual([inSpares.id]);
    expect(onlySpares.items).toEqual(new Map([[inSpares.id, { entityId: inSpares.entityId, collectionId: spares }]]));
    for (const collectionIds of [new Set([empty]), new Set<number>()]) {
      const none = await match({ ...query, collectionIds });
      expect([none.identifiers.size, none.named.size, none.words.size, none.items.size]).toEqual([0, 0, 0, 0]);
    }
  });

  it('never returns a removed item', async () => {
    const parts = await collection('parts');
    const kept = await add(parts, { entityLabel: 'P-20417', caption: 'copper gasket' });
    const gone = await add(parts, { entityLabel: 'P-20417', caption: 'copper gasket' });
    await store().putOcr(kept.id, reading(['P-20417']));
    await store().putOcr(gone.id, reading(['P-20417']));
    const query = { identifiers: ['P20417'], labels: ['P20417'], words: ['copper'] };
    expect((await match(query)).identifiers.size).toBe(2);
    await store().removeItem(gone.id);
    const found = await match(query);
    for (const m of [found.identifiers, found.named, found.words, found.items]) expect(ids(m)).toEqual([kept.id]);
  });

  it('keeps the reading queue: images not read yet by id, counts, and a reset that reads everything again', async () => {
    const parts = await collection('parts');
    const items: Item[] = [];
    for (let i = 0; i < 5; i++) items.push(await add(parts));
    const [a, b, c, d, e] = items as [Item, Item, Item, Item, Item];
    expect(await store().countOcr()).toEqual({ read: 0, withText: 0, pending: 5 });
    expect(await store().itemsWithoutOcr(10)).toEqual(items);

    await store().putOcr(b.id, reading(['HEX BOLT M8']));
    // An image with no text on it is read all the same.
    await store().putOcr(c.id, reading([]));
    await store().removeItem(d.id);
    expect(await store().itemsWithoutOcr(10)).toEqual([a, e]);
    expect(await store().itemsWithoutOcr(1)).toEqual([a]);
    expect(await store().itemsWithoutOcr(10, a.id)).toEqual([e]);
    expect(await store().itemsWithoutOcr(10, e.id)).toEqual([]);
    expect(await store().countOcr()).toEqual({ read: 2, withText: 1, pending: 2 });
    expect(await store().ocrOf(c.id)).toMatchObject({ lines: [], identifiers: [] });

    expect(await store().resetOcr()).toBe(2);
    expect(await store().countOcr()).toEqual({ read: 0, withText: 0, pending: 4 });
    expect(await store().itemsWithoutOcr(10)).toEqual([a, b, c, e]);
    expect(await store().ocrOf(b.id)).toBeNull();
    expect((await match({ identifiers: ['M8'] })).identifiers.size).toBe(0);
    expect((await match({ words: ['hex'] })).words.size).toBe(0);
    expect(await store().resetOcr()).toBe(0);
  });

  it('shows another process the readings one stored', async () => {
    const parts = await collection('parts');
    const item = await add(parts);
    const other = await fixture().another();
    expect(await other.putOcr(item.id, reading(['P-31552 GASKET']))).toBe(true);
    expect(await store().ocrOf(item.id)).toMatchObject({ identifiers: ['P31552'] });
    expect(ids((await match({ identifiers: ['P31552'], words: ['gasket'] })).identifiers)).toEqual([item.id]);
    expect(await store().countOcr()).toEqual({ read: 1, withText: 1, pending: 0 });
    expect(await other.resetOcr()).toBe(1);
    expect(await store().itemsWithoutOcr(10)).toEqual([item]);
  });
}
