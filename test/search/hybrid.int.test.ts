/**
 * Hybrid search on the real catalogue, index and demo encoder. What the labels read comes from a
 * stand-in TextReader (which image reads what is the fixture here; the real engine has its own
 * tests in test/ocr), so the fusion, the lexical index and the why line are tested exactly.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { describe as describeEntity, forget, show } from '../../src/entities/entities.js';
import { solidPng } from '../../src/image/image-io.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { OcrQueue } from '../../src/ocr/ocr-queue.js';
import type { OcrLine, TextReader } from '../../src/ocr/ocr.js';
import { dataPaths, openReferent, type Referent } from '../../src/open.js';
import { searchItems } from '../../src/search/search.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';

/** Reads whatever the test says each image (by caption) carries. */
async function standInReader(referent: Referent, labels: Record<string, string[]>): Promise<TextReader> {
  const byHash = new Map<string, OcrLine[]>();
  for (const { itemId } of await referent.catalog.itemVectors(referent.encoder.modelId, 0, 1_000_000)) {
    const item = (await referent.catalog.getItem(itemId))!;
    const lines = labels[item.caption ?? ''] ?? [];
    byHash.set(item.mediaKey, lines.map((text) => ({ text, confidence: 0.98, box: [[0, 0], [10, 0], [10, 10], [0, 10]] })));
  }
  return { modelId: 'stand-in', read: async (bytes) => byHash.get(referent.media.hash(bytes)) ?? [], close: async () => {} };
}

describe('hybrid search: identifiers on labels, fused with vectors and references', () => {
  let dir: string;
  let referent: Referent;
  /** Rankings taken before any label was read. */
  const before = new Map<string, number[]>();
  const noIdentifier = ['green', 'zinc washer', 'hex bolt'];
  const limits = { maxTextChars: 500 };
  const search = (text: string, limit = 5) => searchItems(referent, { text, limit }, limits);
  const captionOf = async (itemId: number) => (await referent.catalog.getItem(itemId))?.caption;

  beforeAll(async () => {
    dir = tempDir();
    referent = await openReferent(testConfig(path.join(dir, 'data')));
    const list = await readSources(await makeColourGallery(path.join(dir, 'g'), 3, ['red', 'blue', 'green', 'yellow']));
    await ingest(referent, list, { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
    // A photo nobody labelled, whose tag reads the name of a part that so far has only a description.
    list.sources = [{ path: '', bytes: await solidPng(60, 40, [240, 200, 40]), origin: 'tagged', caption: 'a tagged photo' }];
    await ingest(referent, list, { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
    await describeEntity(referent, { label: 'P-77001', text: 'a yellow pump', collection: 'parts' }, { maxTextChars: 500 });
    await referent.references.catchUp();
    for (const q of noIdentifier) before.set(q, (await search(q, 8)).map((h) => h.itemId));
    // One blue photo of BLUE-washer carries the zinc lot label; a green one reads P-20417, run together as engines do.
    const labels = { 'a blue washer': ['ZINC LOT 4471-B', 'HEX BOLT M8'], 'a green hex bolt': ['P-20417HEXBOLTM8'], 'a tagged photo': ['P-77001'] };
    const queue = new OcrQueue(referent, async () => standInReader(referent, labels), { minConfidence: 0.6, log: () => {} });
    const summary = await queue.drain();
    expect(summary).toMatchObject({ read: 13, withText: 3, failed: 0 });
    await queue.close();
  });
  afterAll(async () => {
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('puts the image whose label carries the identifier first, however it is written, and says so', async () => {
    for (const query of ['P-20417', 'p20417', 'P 20417', 'red P-20417']) {
      const [first] = await search(query);
      expect(await captionOf(first!.itemId), query).toBe('a green hex bolt');
      expect(first!.why!.summary, query).toMatch(/^label reads "P-20417HEXBOLTM8"/);
    }
  });

  it('finds the entity by text on one of its photos that no description mentions', async () => {
    const hits = await search('the zinc M8 from lot 4471');
    expect(await captionOf(hits[0]!.itemId)).toBe('a blue washer');
    expect(hits[0]!.why!.summary).toMatch(/^label reads "(ZINC LOT 4471-B|HEX BOLT M8)"/);
    expect((await referent.catalog.getItem(hits[0]!.itemId))!.entityLabel).toBe('BLUE-washer');
    // What its photo's label reads is part of what Referent shows of the entity.
    const view = await show(referent, 'BLUE-washer');
    expect(view.labels.flatMap((l) => l.lines)).toEqual(['ZINC LOT 4471-B', 'HEX BOLT M8']);
    expect(view.labels[0]!.identifiers).toEqual(expect.arrayContaining(['LOT4471B', 'M8']));
  });

  it('ranks a query without an identifier exactly as before the labels were read, even when its words are on them', async () => {
    for (const q of noIdentifier) {
      const hits = await search(q, 8);
      expect(hits.map((h) => h.itemId), q).toEqual(before.get(q));
      expect(hits.every((h) => !h.why?.summary.startsWith('label reads'))).toBe(true);
    }
  });

  it('takes an unlabelled photo whose tag reads a part name to show that part (so That\'s it can link it)', async () => {
    const [first] = await search('P-77001');
    expect(await captionOf(first!.itemId)).toBe('a tagged photo');
    expect((await referent.catalog.getItem(first!.itemId))!.entityId).toBeNull();
    expect(first!.why!.entity).toMatchObject({ label: 'P-77001', linked: false });
    expect(first!.why!.summary).toMatch(/^label reads "P-77001"; looks like P-77001/);
  });

  it('leaves a query alone when its identifier is on no label (no word matching either)', async () => {
    const none = await referent.catalog.lexicalMatches({ words: ['zinc', 'washer'], identifiers: ['P99999'] });
    expect(none.items.size).toBe(0);
    const some = await referent.catalog.lexicalMatches({ words: ['zinc', 'washer'], identifiers: ['M8'] });
    expect(some.identifiers.size).toBeGreaterThan(0);
    expect(some.words.size).toBeGreaterThan(0);
  });

  it('works without refinement too', async () => {
    const [first] = await searchItems(referent, { text: 'P-20417', limit: 3, refine: false }, limits);
    expect(await captionOf(first!.itemId)).toBe('a green hex bolt');
    expect(first!.why!.summary).toMatch(/^label reads/);
  });

  it('stays within the collections asked for', async () => {
    const other = await referent.catalog.ensureCollection('elsewhere', 'part');
    const hits = await searchItems(referent, { text: 'P-20417', limit: 5, collectionIds: new Set([other.id]) }, limits);
    expect(hits).toEqual([]);
  });

  it('forgets what a label read with its image, and keeps the FTS tables consistent', async () => {
    const before = await search('P-20417');
    expect(await captionOf(before[0]!.itemId)).toBe('a green hex bolt');
    await forget(referent, 'GREEN-hex-bolt');
    const after = await search('P-20417');
    expect(after.some((h) => h.why?.summary.startsWith('label reads'))).toBe(false);
    const db = new Database(dataPaths(path.join(dir, 'data')).catalog, { readonly: true });
    try {
      expect(db.prepare(`SELECT COUNT(*) AS n FROM item_identifiers WHERE ident = 'P20417'`).get()).toEqual({ n: 0 });
      const rows = db.prepare(`SELECT (SELECT COUNT(*) FROM lexicon) AS lex, (SELECT COUNT(*) FROM texts) + (SELECT COUNT(*) FROM item_ocr) AS expected`).get() as { lex: number; expected: number };
      expect(rows.lex).toBe(rows.expected);
    } finally {
      db.close();
    }
  });
});

describe('the lexical index through a crash', () => {
  it('matches its rows after a writer is killed mid-way (kill -9), and passes FTS5 integrity checks', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'catalog.sqlite');
    const catalog = SqliteCatalog.open(file);
    const c = catalog.ensureCollection('parts', 'part');
    for (let i = 1; i <= 40; i++) {
      catalog.addItem({ collectionId: c.id, hash: `h${i}`, mediaKey: `k${i}`, width: 1, height: 1, caption: `part ${i}`, entityLabel: `P-${i}` }, { modelId: 'm', data: new Float32Array([1, 0]) }, null);
    }
    catalog.close();
    // A child writes readings (and forgets some images) in a loop until it is killed.
    const script = path.join(dir, 'writer.mjs');
    fs.writeFileSync(
      script,
      `const { SqliteCatalog } = await import(${JSON.stringify(path.resolve('src/catalog/sqlite-catalog.ts'))});
       const catalog = SqliteCatalog.open(${JSON.stringify(file)});
       process.send('ready');
       for (let n = 0; ; n++) {
         const id = 1 + (n % 40);
         catalog.putOcr(id, { modelId: 'x', lines: [{ text: 'LOT ' + n + '-B', confidence: 0.9, box: [] }], identifiers: ['LOT' + n + 'B'] });
         if (n % 7 === 0) catalog.removeItem(1 + ((n * 3) % 40));
       }`,
    );
    const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    // Let it write for a while, then kill it without warning.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        const n = (db.prepare(`SELECT COUNT(*) AS n FROM item_ocr`).get() as { n: number }).n;
        db.close();
        if (n >= 20) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const reopened = SqliteCatalog.open(file);
    reopened.close();
    const db = new Database(file);
    try {
      db.exec(`INSERT INTO lexicon (lexicon) VALUES ('integrity-check'); INSERT INTO ocr_chars (ocr_chars) VALUES ('integrity-check');`);
      const counts = db
        .prepare(
          `SELECT (SELECT COUNT(*) FROM lexicon) AS lex, (SELECT COUNT(*) FROM texts) + (SELECT COUNT(*) FROM item_ocr) AS expected,
                  (SELECT COUNT(*) FROM ocr_chars) AS chars, (SELECT COUNT(*) FROM item_ocr) AS ocr,
                  (SELECT COUNT(*) FROM item_ocr o JOIN items i ON i.id = o.item_id WHERE i.deleted_at IS NOT NULL) AS orphans,
                  (SELECT COUNT(*) FROM item_identifiers d WHERE NOT EXISTS (SELECT 1 FROM item_ocr o WHERE o.item_id = d.item_id)) AS strays`,
        )
        .get() as Record<string, number>;
      expect(counts.lex).toBe(counts.expected);
      expect(counts.chars).toBe(counts.ocr);
      expect(counts.orphans).toBe(0);
      expect(counts.strays).toBe(0);
      expect(counts.ocr).toBeGreaterThan(0);
    } finally {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the OCR queue when its engine cannot start', () => {
  it('says so once and stops, instead of failing on every kick', async () => {
    const dir = tempDir();
    const referent = await openReferent(testConfig(path.join(dir, 'data')));
    try {
      await ingest(referent, await readSources(await makeColourGallery(path.join(dir, 'g'), 1, ['red'])), { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
      const logged: string[] = [];
      let attempts = 0;
      const queue = new OcrQueue(referent, async () => { attempts++; throw new Error('no models here'); }, { minConfidence: 0.6, log: (l) => logged.push(l) });
      expect(await queue.drain()).toEqual({ read: 0, withText: 0, failed: 0 });
      queue.kick();
      expect(await queue.drain()).toEqual({ read: 0, withText: 0, failed: 0 });
      expect(attempts).toBe(1);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatch(/could not start.*no models here.*REFERENT_OCR=false/);
      await queue.close();
    } finally {
      await referent.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
