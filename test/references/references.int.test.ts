/** References built from a real catalogue, kept current through its entity log, searched per collection. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asyncCatalog } from '../../src/catalog/async-catalog.js';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { DEFAULT_FUSION_OPTIONS } from '../../src/method/defaults.js';
import { References } from '../../src/references/references.js';
import { normalize } from '../../src/vectors.js';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));
const model = 'test/model';

describe('References', () => {
  let dir: string;
  let catalog: SqliteCatalog;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-refs-'));
    catalog = SqliteCatalog.open(path.join(dir, 'catalog.sqlite'));
  });
  afterEach(() => {
    catalog.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const open = (snapshots?: string) =>
    References.open({ catalog: asyncCatalog(catalog), modelId: model, dim: 4, fusion: DEFAULT_FUSION_OPTIONS, hnsw: { efConstruction: 50 }, ...(snapshots ? { dir: snapshots } : {}) });
  const add = (collection: string, hash: string, vector: Float32Array, entityLabel?: string) =>
    catalog.addItem({ collectionId: catalog.ensureCollection(collection).id, hash, mediaKey: hash, width: 1, height: 1, ...(entityLabel ? { entityLabel } : {}) }, { modelId: model, data: vector });

  it('builds a reference per entity with material, and maps photos to their entity', async () => {
    const a = add('parts', 'a', v(1, 0, 0, 0), 'P-1');
    add('parts', 'b', v(1, 0.1, 0, 0), 'P-1');
    const c = add('parts', 'c', v(0, 1, 0, 0));
    const refs = await open();
    const p1 = catalog.findEntities('P-1')[0]!;
    expect(refs.size()).toBe(1);
    expect(refs.get(p1.id)!.ref.image).not.toBeNull();
    expect(refs.get(p1.id)!.ref.text).toBeNull();
    expect(refs.entityOf(a.id)).toBe(p1.id);
    expect(refs.entityOf(c.id)).toBeNull();
    expect(refs.imagesOf(p1.id, 10).length).toBe(2);
  });

  it('follows links, unlinks and removals through catchUp', async () => {
    const a = add('parts', 'a', v(1, 0, 0, 0), 'P-1');
    const b = add('parts', 'b', v(0, 1, 0, 0));
    const refs = await open();
    const p1 = catalog.findEntities('P-1')[0]!;
    catalog.linkItem(b.id, p1.id);
    expect(refs.entityOf(b.id)).toBeNull();
    expect(await refs.catchUp()).toBe(1);
    expect(refs.entityOf(b.id)).toBe(p1.id);
    catalog.linkItem(a.id, null);
    catalog.removeItem(b.id);
    await refs.catchUp();
    expect(refs.entityOf(a.id)).toBeNull();
    expect(refs.get(p1.id)).toBeUndefined(); // nothing left to build a reference from
    expect(await refs.search(v(0, 1, 0, 0), 5)).toEqual([]);
  });

  it('only finds entities in the collections asked for', async () => {
    add('parts', 'a', v(1, 0, 0, 0), 'P-1');
    add('secret', 'b', v(1, 0.05, 0, 0), 'S-1');
    const refs = await open();
    const parts = catalog.findCollection('parts')!.id;
    const secret = catalog.findCollection('secret')!.id;
    const [p1, s1] = [catalog.findEntities('P-1')[0]!.id, catalog.findEntities('S-1')[0]!.id];
    expect((await refs.search(v(1, 0, 0, 0), 5)).sort()).toEqual([p1, s1].sort());
    expect(await refs.search(v(1, 0, 0, 0), 5, new Set([parts]))).toEqual([p1]);
    expect(await refs.search(v(1, 0, 0, 0), 5, new Set([secret]))).toEqual([s1]);
  });

  it('saves its graphs, reuses them unchanged, and corrects a stale or damaged snapshot', async () => {
    const snapshots = path.join(dir, 'index');
    add('parts', 'a', v(1, 0, 0, 0), 'P-1');
    add('parts', 'b', v(0, 1, 0, 0), 'P-2');
    await open(snapshots);
    const files = fs.readdirSync(snapshots, { recursive: true }).map(String).filter((f) => f.endsWith('.hnsw'));
    expect(files.map((f) => path.basename(f)).sort()).toEqual(['references-image.hnsw', 'references-text.hnsw']);
    const graph = path.join(snapshots, files.find((f) => f.endsWith('references-image.hnsw'))!);
    const written = fs.statSync(graph).mtimeMs;

    // Nothing changed: the snapshot is used as it is and not written again.
    await open(snapshots);
    expect(fs.statSync(graph).mtimeMs).toBe(written);

    // Changed while no process held it: the stale snapshot is corrected at open.
    catalog.forgetEntity(catalog.findEntities('P-1')[0]!.id);
    const p2 = catalog.findEntities('P-2')[0]!.id;
    expect(await (await open(snapshots)).search(v(1, 0, 0, 0), 5)).toEqual([p2]);

    // Damaged: rebuilt from the catalogue.
    fs.writeFileSync(graph, 'garbage');
    expect(await (await open(snapshots)).search(v(0, 1, 0, 0), 5)).toEqual([p2]);
  });
});
