/**
 * What every LexicalStore promises (src/catalog/roles/lexical-store.ts), run against each engine by
 * lexical-store.int.test.ts. The factory gives a fresh, empty store per test, with the ItemStore of
 * the same engine (items are created through it) and a way to make collections.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Item, NewOcr } from '../../src/catalog/catalog.js';
import type { ItemStore } from '../../src/catalog/roles/item-store.js';
import type { LexicalStore } from '../../src/catalog/roles/lexical-store.js';
import { identifiersIn, labelKey } from '../../src/ocr/identifiers.js';
import type { OcrLine } from '../../src/ocr/ocr.js';

export interface LexicalStoreFixture {
  store: LexicalStore;
  items: ItemStore;
  /** Creates a collection (kind "part") and returns its id. */
  collection(name: string): Promise<number>;
  close(): Promise<void>;
}

export const LEXICAL_MODEL = { modelId: 'lexical-test@1', dim: 4 };
const UNIT = new Float32Array([1, 0, 0, 0]);

const line = (text: string, y = 0): OcrLine => ({ text, confidence: 0.93, box: [[0, y], [100, y], [100, y + 10], [0, y + 10]] });
/** A reading as the OCR job stores it: identifiers from the lines, unless given. */
const reading = (texts: string[], identifiers?: string[]): NewOcr => ({
  modelId: 'ppocr-v4',
  lines: texts.map((t, i) => line(t, i * 20)),
  identifiers: identifiers ?? [...new Set(texts.flatMap(identifiersIn))],
});

export function lexicalStoreContract(engine: string, open: () => Promise<LexicalStoreFixture>): void {
  describe(`LexicalStore contract: ${engine}`, () => {
    let fixture: LexicalStoreFixture | undefined;
    let store: LexicalStore;
    let n = 0;
    const add = async (collectionId: number, entityLabel?: string): Promise<Item> =>
      fixture!.items.addItem({ collectionId, hash: `hash-${n++}`, mediaKey: `media/${n}.jpg`, width: 10, height: 10, ...(entityLabel ? { entityLabel } : {}) }, UNIT);

    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it('stores a reading and gives it back; a second reading replaces the first', async () => {
      const parts = await fixture!.collection('parts');
      const item = await add(parts);
      const before = Date.now();
      expect(await store.ocrOf(item.id)).toBeNull();
      expect(await store.putOcr(item.id, reading(['HEX BOLT M8', 'LOT 4471-B']))).toBe(true);
      const first = await store.ocrOf(item.id);
      expect(first).toEqual({ modelId: 'ppocr-v4', lines: reading(['HEX BOLT M8', 'LOT 4471-B']).lines, identifiers: ['4471B', 'LOT4471B', 'M8'], at: expect.any(Number) });
      expect(first!.at).toBeGreaterThanOrEqual(before);
      expect(first!.at).toBeLessThanOrEqual(Date.now());

      expect(await store.putOcr(item.id, { ...reading(['WASHER 10MM']), modelId: 'ppocr-v5' })).toBe(true);
      expect(await store.ocrOf(item.id)).toEqual({ modelId: 'ppocr-v5', lines: [line('WASHER 10MM')], identifiers: ['10MM'], at: expect.any(Number) });
      // The first reading's identifiers went with it.
      expect((await store.matchLabels({ identifiers: ['M8'], labels: [] })).identifiers.size).toBe(0);
      expect(await store.ocrOf(item.id + 1000)).toBeNull();
    });

    it('refuses a reading of a removed or unknown item, and forgets the reading of a removed one', async () => {
      const parts = await fixture!.collection('parts');
      const kept = await add(parts);
      const gone = await add(parts);
      expect(await store.putOcr(gone.id, reading(['P-31552']))).toBe(true);
      expect(await fixture!.items.removeItem(gone.id)).toBe(true);
      expect(await store.putOcr(gone.id, reading(['P-31553']))).toBe(false);
      expect(await store.putOcr(kept.id + 1000, reading(['P-31554']))).toBe(false);
      expect(await store.ocrOf(gone.id)).toBeNull();
      expect((await store.matchLabels({ identifiers: ['P31552', 'P31553'], labels: [] })).identifiers.size).toBe(0);
    });

    it('finds an identifier exactly, and inside text OCR ran together, but not cut out of a longer number', async () => {
      const parts = await fixture!.collection('parts');
      const [exact, runTogether, longer, other] = [await add(parts), await add(parts), await add(parts), await add(parts)];
      await store.putOcr(exact.id, reading(['P-31552', 'WASHER 10MM']));
      // The engine glued the label into one run, and the job split out no identifier from it.
      await store.putOcr(runTogether.id, reading(['ZINC', 'P-31552WASHER10MM'], []));
      await store.putOcr(longer.id, reading(['P-315520 WASHER'], []));
      await store.putOcr(other.id, reading(['HEX BOLT M8']));

      const found = await store.matchLabels({ identifiers: ['P31552'], labels: [] });
      expect(found.identifiers).toEqual(
        new Map([
          [exact.id, { identifier: 'P31552', line: 'P-31552' }],
          [runTogether.id, { identifier: 'P31552', line: 'P-31552WASHER10MM' }],
        ]),
      );
      expect(found.named.size).toBe(0);
      // Several identifiers: each image once, under the first of the query's identifiers it carries.
      const many = await store.matchLabels({ identifiers: ['10MM', 'M8', 'P31552'], labels: [] });
      expect(many.identifiers).toEqual(
        new Map([
          [exact.id, { identifier: '10MM', line: 'WASHER 10MM' }],
          [runTogether.id, { identifier: '10MM', line: 'P-31552WASHER10MM' }],
          [other.id, { identifier: 'M8', line: 'HEX BOLT M8' }],
        ]),
      );
      expect((await store.matchLabels({ identifiers: ['Q99999'], labels: [] })).identifiers.size).toBe(0);
    });

    it('finds the images of an entity by its label key, however the label was typed', async () => {
      const parts = await fixture!.collection('parts');
      const a = await add(parts, 'P-20417');
      const b = await add(parts, 'P-20417');
      await add(parts, 'P-20418');
      await add(parts);
      for (const typed of ['p20417', 'P 20417', 'P-20417', 'p.20417']) {
        const found = await store.matchLabels({ identifiers: [], labels: [labelKey(typed)] });
        expect(found.named).toEqual(
          new Map([
            [a.id, { entityId: a.entityId, label: 'P-20417' }],
            [b.id, { entityId: a.entityId, label: 'P-20417' }],
          ]),
        );
        expect(found.identifiers.size).toBe(0);
      }
      // An entity made after an earlier lookup is found too.
      const later = await add(parts, 'PCB_1001/A');
      expect((await store.matchLabels({ identifiers: [], labels: [labelKey('pcb 1001 a')] })).named).toEqual(new Map([[later.id, { entityId: later.entityId, label: 'PCB_1001/A' }]]));
      expect((await store.matchLabels({ identifiers: [], labels: ['P2041'] })).named.size).toBe(0);
      // Names in any script, as labelKey forms them.
      const zoe = await add(parts, 'Zoë Ng');
      expect((await store.matchLabels({ identifiers: [], labels: [labelKey('zoë ng')] })).named).toEqual(new Map([[zoe.id, { entityId: zoe.entityId, label: 'Zoë Ng' }]]));
    });

    it('keeps the collection filter exact', async () => {
      const parts = await fixture!.collection('parts');
      const spares = await fixture!.collection('spares');
      const empty = await fixture!.collection('empty');
      const inParts = await add(parts, 'P-20417');
      const inSpares = await add(spares, 'P-20417');
      await store.putOcr(inParts.id, reading(['P-20417']));
      await store.putOcr(inSpares.id, reading(['XX P-20417YY'], []));
      const query = { identifiers: ['P20417'], labels: ['P20417'] };

      const all = await store.matchLabels(query);
      expect([...all.identifiers.keys()].sort((x, y) => x - y)).toEqual([inParts.id, inSpares.id]);
      expect([...all.named.keys()].sort((x, y) => x - y)).toEqual([inParts.id, inSpares.id]);
      const onlySpares = await store.matchLabels({ ...query, collectionIds: new Set([spares]) });
      expect([...onlySpares.identifiers.keys()]).toEqual([inSpares.id]);
      expect(onlySpares.named).toEqual(new Map([[inSpares.id, { entityId: inSpares.entityId, label: 'P-20417' }]]));
      for (const collectionIds of [new Set([empty]), new Set<number>()]) {
        const none = await store.matchLabels({ ...query, collectionIds });
        expect([none.identifiers.size, none.named.size]).toEqual([0, 0]);
      }
    });

    it('never returns a removed item', async () => {
      const parts = await fixture!.collection('parts');
      const kept = await add(parts, 'P-20417');
      const gone = await add(parts, 'P-20417');
      await store.putOcr(kept.id, reading(['P-20417']));
      await store.putOcr(gone.id, reading(['P-20417']));
      expect((await store.matchLabels({ identifiers: ['P20417'], labels: ['P20417'] })).identifiers.size).toBe(2);
      await fixture!.items.removeItem(gone.id);
      const found = await store.matchLabels({ identifiers: ['P20417'], labels: ['P20417'] });
      expect([...found.identifiers.keys()]).toEqual([kept.id]);
      expect([...found.named.keys()]).toEqual([kept.id]);
    });
  });
}
