/**
 * The OCR-and-labels slice on every engine: the same contract against SQLite, PGlite (always) and a
 * real PostgreSQL (when REFERENT_TEST_DATABASE_URL is set), then what only the Postgres side has: the
 * pg_trgm index, and label keys that agree with labelKey() where no SQL expression does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAccessStore } from '../../src/catalog/postgres/pg-access-store.js';
import { PgItemStore } from '../../src/catalog/postgres/pg-item-store.js';
import { PgLexicalStore } from '../../src/catalog/postgres/pg-lexical-store.js';
import { migratePg } from '../../src/catalog/postgres/pg-migrations.js';
import { openPgDb } from '../../src/catalog/postgres/pg-pool.js';
import { sqliteItemStore } from '../../src/catalog/roles/sqlite-item-store.js';
import { sqliteLexicalStore } from '../../src/catalog/roles/sqlite-lexical-store.js';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { labelKey } from '../../src/ocr/identifiers.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';
import { LEXICAL_MODEL, lexicalStoreContract } from './lexical-store.contract.js';

lexicalStoreContract('sqlite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-lexical-'));
  const catalog = SqliteCatalog.open(path.join(dir, 'catalog.sqlite'));
  return {
    store: sqliteLexicalStore(catalog),
    items: sqliteItemStore(catalog, LEXICAL_MODEL),
    collection: async (name) => catalog.ensureCollection(name, 'part').id,
    async close() {
      catalog.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** Labels people give entities: ASCII part numbers with the usual separators, and names. */
const LABELS = ['P-20417', 'p 20417', 'PCB_1001/A', 'M8.5-x', 'X9 -220B', 'Zoë Ng', 'José Álvarez', 'Øyvind Ås', 'Straße 7', 'L0T 12', 'M10×40', 'ﬁle-Ⅸ'];

for (const engine of postgresEngines()) {
  describe(`PostgreSQL engine: ${engine.name}`, () => {
    let server: PgEngine;
    beforeAll(async () => {
      server = await engine.start();
    });
    afterAll(async () => {
      await server?.stop();
    });

    lexicalStoreContract(engine.name, async () => {
      const schema = freshSchema();
      const db = openPgDb(server.url);
      await migratePg(db, schema);
      const collections = new PgAccessStore(db, schema);
      return {
        store: new PgLexicalStore(db, schema),
        items: await PgItemStore.open(db, { schema, ...LEXICAL_MODEL }),
        collection: async (name) => (await collections.ensureCollection(name, 'part')).id,
        async close() {
          await db.close();
          await dropSchema(server.url, schema);
        },
      };
    });

    it('finds every label by its labelKey, accented names included, where the SQL expression would not', async () => {
      const schema = freshSchema();
      const db = openPgDb(server.url);
      try {
        await migratePg(db, schema);
        const parts = (await new PgAccessStore(db, schema).ensureCollection('parts')).id;
        const items = await PgItemStore.open(db, { schema, ...LEXICAL_MODEL });
        const store = new PgLexicalStore(db, schema);
        const byLabel = new Map<string, number>();
        for (const [i, label] of LABELS.entries()) {
          const item = await items.addItem({ collectionId: parts, hash: `h${i}`, mediaKey: 'm', width: 1, height: 1, entityLabel: label }, new Float32Array([1, 0, 0, 0]));
          byLabel.set(label, item.id);
        }
        for (const label of LABELS) {
          const named = (await store.matchLabels({ identifiers: [], labels: [labelKey(label)] })).named;
          // 'P-20417' and 'p 20417' are two labels with one key: each finds both.
          const want = LABELS.filter((l) => labelKey(l) === labelKey(label)).map((l) => byLabel.get(l));
          expect([...named.keys()].sort((a, b) => a - b), label).toEqual(want.sort((a, b) => a! - b!));
        }
        expect([...(await store.matchLabels({ identifiers: [], labels: [labelKey('zoë ng')] })).named.values()]).toMatchObject([{ label: 'Zoë Ng' }]);

        // Why the key is written by the store: the closest SQL agrees on ASCII part numbers only.
        const [row] = await db.query<{ keys: string[] }>(
          `SELECT ARRAY(SELECT upper(regexp_replace(normalize(l, NFKC), '[^[:alnum:]]', '', 'g')) FROM unnest($1::text[]) WITH ORDINALITY AS t(l, n) ORDER BY n) AS keys`,
          [`{${LABELS.map((l) => `"${l}"`).join(',')}}`],
        );
        const disagree = LABELS.filter((l, i) => row!.keys[i] !== labelKey(l));
        expect(disagree.filter((l) => /^[\x20-\x7e]*$/.test(l) && l !== 'L0T 12')).toEqual([]);
        expect(disagree).toEqual(expect.arrayContaining(['Straße 7', 'L0T 12', 'M10×40']));
      } finally {
        await db.close();
        await dropSchema(server.url, schema);
      }
    });

    it('searches run-together OCR text through the pg_trgm index', async () => {
      const schema = freshSchema();
      const db = openPgDb(server.url, { max: 1 });
      try {
        await migratePg(db, schema);
        const [ext] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_trgm'`);
        expect(ext!.n).toBe(1);
        // An empty table is scanned whatever the index: only the planner's choice with scans off is tested.
        await db.query('SET enable_seqscan = off');
        const rows = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT item_id FROM "${schema}".item_ocr WHERE chars LIKE '%P31552%'`);
        expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/item_ocr_chars_trgm/);
      } finally {
        await db.close();
        await dropSchema(server.url, schema);
      }
    });
  });
}
