/**
 * The reference index in PostgreSQL (DatabaseReferenceGraphs over PgCatalog): references are found
 * through pgvector, per collection; a second process opening the same database rewrites nothing; a
 * change made through another process moves the stored reference; an older computation never
 * replaces a newer one; and forgetting an entity deletes its rows in the forget itself.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { openPgDb, type PgDb } from '../../src/catalog/postgres/pg-pool.js';
import { DEFAULT_FUSION_OPTIONS } from '../../src/method/defaults.js';
import { DatabaseReferenceGraphs } from '../../src/references/reference-graphs.js';
import { References } from '../../src/references/references.js';
import { normalize } from '../../src/vectors.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));
const model = 'test/model';

for (const engine of postgresEngines()) {
  describe(`References in PostgreSQL (${engine.name})`, () => {
    let server: PgEngine;
    let schema: string;
    let catalog: PgCatalog;
    let db: PgDb;
    const others: Catalog[] = [];

    beforeAll(async () => {
      server = await engine.start();
    }, 60_000);
    afterAll(async () => server?.stop());
    beforeEach(async () => {
      schema = freshSchema('refs');
      catalog = await PgCatalog.open(server.url, { schema });
      db = openPgDb(server.url, { max: 1 });
    });
    afterEach(async () => {
      for (const c of others.splice(0)) await c.close();
      await catalog.close();
      await db.close();
      await dropSchema(server.url, schema);
    });

    const open = (on: PgCatalog = catalog) =>
      References.open({ catalog: on, modelId: model, dim: 4, fusion: DEFAULT_FUSION_OPTIONS, hnsw: { efConstruction: 50 }, graphs: (seq) => DatabaseReferenceGraphs.open(on, model, seq) });
    const add = async (on: Catalog, collection: string, hash: string, vector: Float32Array, entityLabel?: string) =>
      on.addItem({ collectionId: (await on.ensureCollection(collection)).id, hash, mediaKey: hash, width: 1, height: 1, ...(entityLabel ? { entityLabel } : {}) }, { modelId: model, data: vector });
    const rows = () =>
      db.query<{ entity_id: number; modality: string; based_on: number; version: string }>(
        `SELECT entity_id, modality, based_on, xmin::text AS version FROM "${schema}".entity_references ORDER BY entity_id, modality`,
      );
    const another = async () => {
      const other = await PgCatalog.open(server.url, { schema });
      others.push(other);
      return other;
    };

    it('stores each reference once and finds entities through it, within collections', async () => {
      await add(catalog, 'parts', 'a', v(1, 0, 0, 0), 'P-1');
      await add(catalog, 'secret', 'b', v(1, 0.05, 0, 0), 'S-1');
      await add(catalog, 'parts', 'c', v(0, 0, 1, 0), 'P-2');
      const refs = await open();
      const [p1, s1, p2] = [(await catalog.findEntities('P-1'))[0]!.id, (await catalog.findEntities('S-1'))[0]!.id, (await catalog.findEntities('P-2'))[0]!.id];
      expect((await rows()).map((r) => [r.entity_id, r.modality])).toEqual([[p1, 'image'], [s1, 'image'], [p2, 'image']]);
      expect((await refs.search(v(1, 0, 0, 0), 2)).sort()).toEqual([p1, s1].sort());
      const parts = (await catalog.findCollection('parts'))!.id;
      expect(await refs.search(v(1, 0, 0, 0), 5, new Set([parts]))).toEqual([p1, p2]);
      expect(await refs.search(v(1, 0, 0, 0), 5, new Set())).toEqual([]);
    });

    it('a second process opening the same database rewrites nothing', async () => {
      await add(catalog, 'parts', 'a', v(1, 0, 0, 0), 'P-1');
      await catalog.addText({ entityId: (await catalog.findEntities('P-1'))[0]!.id, body: 'red', source: 'describe' }, { modelId: model, vector: v(0, 1, 0, 0), phrases: [] });
      await open();
      const before = await rows();
      expect(before).toHaveLength(2);
      const second = await open(await another());
      expect(second.size()).toBe(1);
      expect(await rows()).toEqual(before);
    });

    it('what another process changes moves the stored reference on the next catch-up', async () => {
      await add(catalog, 'parts', 'a', v(1, 0, 0, 0), 'P-1');
      const refs = await open();
      const p1 = (await catalog.findEntities('P-1'))[0]!.id;
      expect(await refs.search(v(0, 1, 0, 0), 1, undefined)).toEqual([p1]);
      const other = await another();
      await other.addText({ entityId: p1, body: 'green', source: 'describe' }, { modelId: model, vector: v(0, 1, 0, 0), phrases: [] });
      expect((await rows()).map((r) => r.modality)).toEqual(['image']);
      expect(await refs.catchUp()).toBe(1);
      const after = await rows();
      expect(after.map((r) => r.modality)).toEqual(['image', 'text']);
      expect(after[1]!.based_on).toBe(await catalog.lastEntitySeq());
    });

    it('an older computation never replaces a newer one', async () => {
      await add(catalog, 'parts', 'a', v(1, 0, 0, 0), 'P-1');
      await open();
      const p1 = (await catalog.findEntities('P-1'))[0]!.id;
      const collectionId = (await catalog.findCollection('parts'))!.id;
      await catalog.putReferences(model, [{ entityId: p1, collectionId, modality: 'image', vector: v(0, 0, 0, 1), basedOn: 100 }]);
      await catalog.putReferences(model, [{ entityId: p1, collectionId, modality: 'image', vector: v(1, 0, 0, 0), basedOn: 99 }]);
      await catalog.putReferences(model, [{ entityId: p1, collectionId, modality: 'image', vector: null, basedOn: 98 }]);
      const stored = await catalog.storedReferences(model);
      expect(stored).toHaveLength(1);
      expect(Array.from(stored[0]!.vector)).toEqual(Array.from(v(0, 0, 0, 1)));
      await catalog.putReferences(model, [{ entityId: p1, collectionId, modality: 'image', vector: null, basedOn: 101 }]);
      expect(await catalog.storedReferences(model)).toEqual([]);
    });

    it('forgetting an entity deletes its stored references with it', async () => {
      await add(catalog, 'parts', 'a', v(1, 0, 0, 0), 'P-1');
      await add(catalog, 'parts', 'b', v(0, 1, 0, 0), 'P-2');
      const refs = await open();
      const [p1, p2] = [(await catalog.findEntities('P-1'))[0]!.id, (await catalog.findEntities('P-2'))[0]!.id];
      await catalog.forgetEntity(p1);
      // Before any process catches up: the forget's own transaction took the rows.
      expect((await rows()).map((r) => r.entity_id)).toEqual([p2]);
      await refs.catchUp();
      expect(await refs.search(v(1, 0, 0, 0), 5)).toEqual([p2]);
    });
  });
}
