/**
 * The items-and-vectors slice on every engine: the same contract against SQLite (exact scan), PGlite
 * (always) and a real PostgreSQL (when REFERENT_TEST_DATABASE_URL is set), both with pgvector's HNSW
 * index, then what only the Postgres side has: one HNSW index per model, on that model's dimension.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusteredVectors } from '../../bench/clustered.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAccessStore } from '../../src/catalog/postgres/pg-access-store.js';
import { PgItemStore } from '../../src/catalog/postgres/pg-item-store.js';
import { migratePg } from '../../src/catalog/postgres/pg-migrations.js';
import { openPgDb } from '../../src/catalog/postgres/pg-pool.js';
import { sqliteItemStore } from '../../src/catalog/roles/sqlite-item-store.js';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';
import { itemStoreContract } from './item-store.contract.js';

itemStoreContract('sqlite', async (model) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-items-'));
  const file = path.join(dir, 'catalog.sqlite');
  const catalog = SqliteCatalog.open(file);
  // The second store has a connection of its own, as another process would.
  const others: SqliteCatalog[] = [];
  return {
    store: sqliteItemStore(catalog, model),
    collection: async (name) => catalog.ensureCollection(name, 'part').id,
    async reopen(dim) {
      const other = SqliteCatalog.open(file);
      others.push(other);
      return sqliteItemStore(other, { modelId: model.modelId, dim });
    },
    async close() {
      for (const other of others) other.close();
      catalog.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

for (const engine of postgresEngines()) {
  describe(`PostgreSQL engine: ${engine.name}`, () => {
    let server: PgEngine;
    beforeAll(async () => {
      server = await engine.start();
    });
    afterAll(async () => {
      await server?.stop();
    });

    itemStoreContract(engine.name, async (model) => {
      const schema = freshSchema();
      const db = openPgDb(server.url);
      await migratePg(db, schema);
      const collections = new PgAccessStore(db, schema);
      // The second store has a pool of its own, as another process would.
      const other = openPgDb(server.url);
      return {
        store: await PgItemStore.open(db, { schema, ...model }),
        collection: async (name) => (await collections.ensureCollection(name, 'part')).id,
        reopen: (dim) => PgItemStore.open(other, { schema, modelId: model.modelId, dim }),
        async close() {
          await Promise.all([db.close(), other.close()]);
          await dropSchema(server.url, schema);
        },
      };
    });

    it('makes one HNSW index per model, on its dimension, once however often a store opens', async () => {
      const schema = freshSchema();
      const db = openPgDb(server.url);
      try {
        await migratePg(db, schema);
        await Promise.all([PgItemStore.open(db, { schema, modelId: 'a', dim: 8 }), PgItemStore.open(db, { schema, modelId: 'a', dim: 8 })]);
        const b = await PgItemStore.open(db, { schema, modelId: "b's", dim: 4 });
        const indexes = await db.query<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = '${schema}' AND indexdef LIKE '%USING hnsw%' ORDER BY indexdef`);
        expect(indexes).toHaveLength(2);
        expect(indexes.map((i) => i.def).join('\n')).toMatch(/vector\(4\).*vector_cosine_ops.*model_id = 'b''s'/);
        expect(indexes.map((i) => i.def).join('\n')).toMatch(/vector\(8\).*vector_cosine_ops.*model_id = 'a'/);

        // Models of different dimensions share the table and do not see each other's vectors.
        const parts = (await new PgAccessStore(db, schema).ensureCollection('parts')).id;
        const item = await b.addItem({ collectionId: parts, hash: 'h', mediaKey: 'm', width: 1, height: 1 }, new Float32Array([1, 0, 0, 0]));
        expect(await b.searchImages(new Float32Array([0, 1, 0, 0]), 3)).toEqual([{ itemId: item.id, score: expect.closeTo(0, 5) }]);
        const a = await PgItemStore.open(db, { schema, modelId: 'a', dim: 8 });
        expect(await a.searchImages(new Float32Array(8).fill(Math.SQRT1_2 / 2), 3)).toEqual([]);
      } finally {
        await db.close();
        await dropSchema(server.url, schema);
      }
    });

    it('keeps a filtered search complete when the planner takes the HNSW index (iterative scan)', async () => {
      const schema = freshSchema();
      // One connection, so the planner settings below hold for the store's own search transaction.
      const db = openPgDb(server.url, { max: 1 });
      try {
        await migratePg(db, schema);
        const access = new PgAccessStore(db, schema);
        const [big, small] = [(await access.ensureCollection('big')).id, (await access.ensureCollection('small')).id];
        const store = await PgItemStore.open(db, { schema, modelId: 'm', dim: 16 });
        const { vectors, queries } = clusteredVectors({ n: 400, dim: 16, clusters: 8, queries: 3, seed: 11 });
        const inSmall = new Set<number>();
        for (let i = 0; i < 400; i++) {
          const item = await store.addItem({ collectionId: i % 80 === 13 ? small : big, hash: `h${i}`, mediaKey: 'm', width: 1, height: 1 }, vectors[i]!);
          if (item.collectionId === small) inSmall.add(item.id);
        }
        // Left to itself the planner may answer a small filtered set exactly (sort by distance);
        // here it must walk the graph, where ef_search alone would stop after 40 mostly-filtered rows.
        await db.query('SET enable_seqscan = off; SET enable_sort = off');
        const scans = async () => {
          await db.query('SELECT pg_stat_force_next_flush()');
          const [row] = await db.query<{ n: number }>(
            `SELECT coalesce(sum(idx_scan), 0)::int AS n FROM pg_stat_user_indexes WHERE schemaname = '${schema}' AND indexrelname LIKE 'item_vectors_hnsw%'`,
          );
          return row!.n;
        };
        const before = await scans();
        for (const q of queries) expect(new Set((await store.searchImages(q, 5, new Set([small]))).map((h) => h.itemId))).toEqual(inSmall);
        expect(await scans()).toBeGreaterThan(before);
      } finally {
        await db.close();
        await dropSchema(server.url, schema);
      }
    });
  });
}
