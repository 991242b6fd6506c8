/**
 * The image index on PostgreSQL is pgvector's, in the database: DatabaseImageIndex answers from it,
 * exactly as the exact scan would on a small gallery, within collections, with the vectors re-ranking
 * needs; what another process commits is found at once (nothing to follow); and a Referent opened on
 * PostgreSQL searches through it and writes no image index files of its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { DatabaseImageIndex } from '../../src/index/database-image-index.js';
import { openReferent } from '../../src/open.js';
import { searchItems } from '../../src/search/search.js';
import { dot, normalize } from '../../src/vectors.js';
import { tempDir, testConfig, tinyModelDir } from '../support/fixtures.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';

const DIM = 8;

/** A deterministic unit vector per seed (no Math.random: the same gallery every run). */
function unit(seed: number): Float32Array {
  let x = seed * 2654435761 >>> 0;
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    v[i] = (x / 2 ** 32) * 2 - 1;
  }
  return normalize(v);
}

async function addItems(catalog: Catalog, collectionId: number, seeds: number[]): Promise<Map<number, Float32Array>> {
  const vectors = new Map<number, Float32Array>();
  for (const seed of seeds) {
    const v = unit(seed);
    const item = await catalog.addItem({ collectionId, hash: `h${seed}`, mediaKey: `m${seed}`, width: 1, height: 1 }, { modelId: 'm', data: v });
    vectors.set(item.id, v);
  }
  return vectors;
}

/** The exact top-k of these vectors by cosine. */
function exact(vectors: Map<number, Float32Array>, q: Float32Array, k: number): number[] {
  return [...vectors].map(([id, v]) => ({ id, s: dot(q, v) })).sort((a, b) => b.s - a.s).slice(0, k).map((h) => h.id);
}

for (const engine of postgresEngines()) {
  describe(`DatabaseImageIndex (${engine.name})`, () => {
    let server: PgEngine;
    let catalog: PgCatalog;
    const schema = freshSchema('image_index');
    let index: DatabaseImageIndex;
    let all: Map<number, Float32Array>;
    let inB: Map<number, Float32Array>;
    let bId: number;

    beforeAll(async () => {
      server = await engine.start();
      catalog = await PgCatalog.open(server.url, { schema });
      await catalog.setModel({ modelId: 'm', dim: DIM });
      const a = await catalog.ensureCollection('a');
      bId = (await catalog.ensureCollection('b')).id;
      all = await addItems(catalog, a.id, Array.from({ length: 40 }, (_, i) => i + 1));
      inB = await addItems(catalog, bId, Array.from({ length: 12 }, (_, i) => i + 100));
      for (const [id, v] of inB) all.set(id, v);
      index = new DatabaseImageIndex(catalog, catalog, 'm');
    }, 60_000);

    afterAll(async () => {
      await catalog?.close();
      if (server) {
        await dropSchema(server.url, schema);
        await server.stop();
      }
    });

    it('finds what the exact scan finds, best first, with the cosine as score', async () => {
      for (const seed of [7, 55, 1000, 31337]) {
        const q = unit(seed);
        const hits = await index.search(q, 5);
        expect(hits.map((h) => h.itemId)).toEqual(exact(all, q, 5));
        for (const h of hits) expect(h.score).toBeCloseTo(dot(q, all.get(h.itemId)!), 5);
      }
    });

    it('searches within collections: only their images, still the exact ones', async () => {
      const q = unit(99);
      const hits = await index.search(q, 5, new Set([bId]));
      expect(hits.map((h) => h.itemId)).toEqual(exact(inB, q, 5));
      expect(await index.search(q, 5, new Set())).toEqual([]);
    });

    it('hands out the vectors re-ranking needs, and only of live images', async () => {
      const ids = [...inB.keys()].slice(0, 3);
      const columns = [unit(5), unit(6)];
      const batch = await index.vectorsOf([...ids, 999_999]);
      expect(batch.has(999_999)).toBe(false);
      const dots = batch.dots(ids, columns);
      ids.forEach((id, r) => columns.forEach((c, k) => expect(dots[r * columns.length + k]).toBeCloseTo(dot(all.get(id)!, c), 5)));
      expect(Array.from((await index.itemVector(ids[0]!))!)).toEqual(Array.from(all.get(ids[0]!)!));
      expect(await index.count()).toBe(all.size);

      const gone = ids[0]!;
      await catalog.removeItem(gone);
      all.delete(gone);
      inB.delete(gone);
      expect(await index.holds(gone)).toBe(false);
      expect(await index.itemVector(gone)).toBeUndefined();
      expect((await index.vectorsOf([gone])).has(gone)).toBe(false);
      expect((await index.search(unit(100 + 0), 60)).map((h) => h.itemId)).not.toContain(gone);
      expect(await index.count()).toBe(all.size);
    });

    it('finds what another process committed at once, with nothing to catch up', async () => {
      const other = await PgCatalog.open(server.url, { schema, listen: false });
      try {
        const q = unit(424242);
        const [added] = await addItems(other, bId, [424242]);
        expect(await index.catchUp()).toBe(0);
        expect((await index.search(q, 1))[0]).toEqual({ itemId: added![0], score: expect.closeTo(1, 5) });
        expect(await index.holds(added![0])).toBe(true);
      } finally {
        await other.close();
      }
    });
  });

  describe(`a Referent on PostgreSQL searches through the database's index (${engine.name})`, () => {
    let server: PgEngine;
    const schema = freshSchema('image_index_app');

    beforeAll(async () => {
      server = await engine.start();
    }, 60_000);

    afterAll(async () => {
      if (server) {
        await dropSchema(server.url, schema);
        await server.stop();
      }
    });

    it('opens no HNSW cache, writes no image index files, and plain and refined search find the nearest images', async () => {
      const dir = tempDir();
      const config = { ...testConfig(path.join(dir, 'data'), { REFERENT_MODEL: tinyModelDir }), database: { url: server.url, schema } };
      const referent = await openReferent(config);
      try {
        expect(referent.index).toBeInstanceOf(DatabaseImageIndex);
        expect(referent.indexReport.source).toBe('database');
        const collection = await referent.catalog.ensureCollection('parts', 'part');
        const { encoder } = referent;
        const vectors = new Map<number, Float32Array>();
        for (const [i, colour] of ['red', 'crimson', 'navy', 'blue', 'green'].entries()) {
          const [vector] = await encoder.encodeTexts([`a ${colour} part`]);
          const item = await referent.catalog.addItem({ collectionId: collection.id, hash: `c${i}`, mediaKey: `k${i}`, width: 1, height: 1 }, { modelId: encoder.modelId, data: vector! });
          vectors.set(item.id, vector!);
        }
        const [first, ...others] = [...vectors.keys()];
        const expected = exact(new Map(others.map((id) => [id, vectors.get(id)!])), vectors.get(first!)!, 3);
        const plain = await searchItems(referent, { likeItem: first!, limit: 3, refine: false }, config);
        expect(plain.map((h) => h.itemId)).toEqual(expected);
        const refined = await searchItems(referent, { likeItem: first!, limit: 3, refine: true }, config);
        expect(refined.map((h) => h.itemId).sort()).toEqual([...expected].sort());
      } finally {
        await referent.shutdown();
      }
      try {
        // The image index and the reference index are the database's: no snapshot files here.
        const written = fs.existsSync(config.indexDir) ? fs.readdirSync(config.indexDir, { recursive: true }).map(String) : [];
        expect(written.filter((f) => /\.(hnsw|json)$/.test(f))).toEqual([]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  });
}
