import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asyncCatalog } from '../../src/catalog/async-catalog.js';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { ItemIndex, modelSlug, type ItemIndexOptions } from '../../src/index/item-index.js';
import { normalize } from '../../src/vectors.js';
import { tempDir } from '../support/fixtures.js';

const DIM = 8;
const MODEL = 'test/model';

function unit(seed: number): Float32Array {
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = Math.sin(seed * 12.9898 + i * 78.233) + (i === seed % DIM ? 2 : 0);
  return normalize(v);
}

describe('ItemIndex (HNSW cache of the catalogue)', () => {
  let dir: string;
  let catalog: SqliteCatalog;
  let options: ItemIndexOptions;
  const snapshot = () => path.join(dir, 'index', modelSlug(MODEL), 'items');

  const add = (n: number, collection = 'c') => {
    const c = catalog.ensureCollection(collection);
    return Array.from({ length: n }, () => {
      const seed = catalog.lastLogSeq() + 1;
      return catalog.addItem({ collectionId: c.id, hash: `h${seed}-${collection}`, mediaKey: 'k', width: 1, height: 1 }, { modelId: MODEL, data: unit(seed) }).id;
    });
  };

  beforeEach(() => {
    dir = tempDir();
    catalog = SqliteCatalog.open(path.join(dir, 'catalog.sqlite'));
    options = { catalog: asyncCatalog(catalog), dir: path.join(dir, 'index'), modelId: MODEL, dim: DIM, hnsw: { m: 16, efConstruction: 100, efSearch: 50 } };
  });
  afterEach(() => {
    catalog.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('builds from the catalogue when there is no snapshot, then loads the snapshot', async () => {
    add(20);
    const first = await ItemIndex.open(options);
    expect(first.report).toMatchObject({ source: 'rebuilt', count: 20 });
    const second = await ItemIndex.open(options);
    expect(second.report).toMatchObject({ source: 'snapshot', replayed: 0, count: 20 });
    const q = unit(5);
    expect((await second.index.search(q, 1))[0]!.itemId).toBe(5);
  });

  it('replays additions and deletions committed after the snapshot', async () => {
    const ids = add(10);
    const { index } = await ItemIndex.open(options);
    await index.save();
    add(5);
    catalog.removeItem(ids[0]!);
    const { index: reopened, report } = await ItemIndex.open(options);
    expect(report).toMatchObject({ source: 'snapshot', replayed: 6, count: 14 });
    expect(reopened.has(ids[0]!)).toBe(false);
    expect((await reopened.search(unit(1), 14)).map((h) => h.itemId)).not.toContain(ids[0]);
    expect((await reopened.search(unit(13), 1))[0]!.itemId).toBe(13);
  });

  it('follows writes made through another connection (another process) with catchUp', async () => {
    add(3);
    const { index } = await ItemIndex.open(options);
    const other = SqliteCatalog.open(catalog.path);
    const c = other.ensureCollection('c');
    const id = other.addItem({ collectionId: c.id, hash: 'other', mediaKey: 'k', width: 1, height: 1 }, { modelId: MODEL, data: unit(99) }).id;
    expect(index.has(id)).toBe(false);
    expect(await index.catchUp()).toBe(1);
    expect((await index.search(unit(99), 1))[0]!.itemId).toBe(id);
    // Nothing new: the log is not read again. A later write is.
    expect(await index.catchUp()).toBe(0);
    other.removeItem(id);
    other.close();
    expect(await index.catchUp()).toBe(1);
    expect(index.has(id)).toBe(false);
  });

  it.each([
    ['a truncated graph file', (base: string) => fs.truncateSync(`${base}.hnsw`, 100)],
    ['a deleted graph file', (base: string) => fs.rmSync(`${base}.hnsw`)],
    ['a deleted sidecar', (base: string) => fs.rmSync(`${base}.json`)],
    ['garbage in the sidecar', (base: string) => fs.writeFileSync(`${base}.json`, '{"nope":')],
  ])('detects %s and rebuilds from the catalogue', async (_name, damage) => {
    add(12);
    await ItemIndex.open(options);
    damage(snapshot());
    const { index, report } = await ItemIndex.open(options);
    expect(report.source).toBe('rebuilt');
    expect(report.reason).toBeTruthy();
    expect(index.size()).toBe(12);
    expect((await index.search(unit(7), 1))[0]!.itemId).toBe(7);
  });

  it('rebuilds when the snapshot claims more than the catalogue holds (catalogue restored from an older backup)', async () => {
    add(5);
    const { index } = await ItemIndex.open(options);
    await index.save(true);
    const fresh = path.join(dir, 'other.sqlite');
    catalog.close();
    catalog = SqliteCatalog.open(fresh);
    options = { ...options, catalog: asyncCatalog(catalog) };
    add(2);
    const { report } = await ItemIndex.open(options);
    expect(report).toMatchObject({ source: 'rebuilt', count: 2 });
  });

  it('filters by collection', async () => {
    add(5, 'a');
    const inB = add(5, 'b');
    const { index } = await ItemIndex.open(options);
    const bId = catalog.findCollection('b')!.id;
    const hits = await index.search(unit(1), 10, new Set([bId]));
    expect(hits.map((h) => h.itemId).sort((x, y) => x - y)).toEqual(inB);
  });
});
