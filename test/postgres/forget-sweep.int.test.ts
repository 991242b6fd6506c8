/**
 * Forgetting on the shared engine: after `forget`, nothing of the entity is left in any table of the
 * PostgreSQL schema: not its label, its descriptions, the words of a verdict on it, what was read
 * off its photo, its photos' hashes or media keys. Every table is read whole, as text, so a table
 * added later is swept too. Runs on PGlite, and on the real server when REFERENT_TEST_DATABASE_URL is set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgDb } from '../../src/catalog/postgres/pg-pool.js';
import { describe as describeEntity, forget, review } from '../../src/entities/entities.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, type Referent } from '../../src/open.js';
import { searchItems } from '../../src/search/search.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';

const MARKER = 'XQ77310Z';
const limits = { maxTextChars: 500 };

/** Every row of every table in the schema as text, with the rows that carry one of the needles. */
async function sweep(url: string, schema: string, needles: readonly string[]): Promise<{ tables: number; rows: number; found: string[] }> {
  const db = openPgDb(url, { max: 1 });
  try {
    const tables = await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1`, [schema]);
    const found: string[] = [];
    let rows = 0;
    for (const { name } of tables) {
      const texts = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${schema}"."${name.replace(/"/g, '""')}" t`);
      rows += texts.length;
      for (const { row } of texts) for (const needle of needles) if (row.includes(needle)) found.push(`${name}: ${needle} in ${row.slice(0, 160)}`);
    }
    return { tables: tables.length, rows, found };
  } finally {
    await db.close();
  }
}

for (const engine of postgresEngines()) {
  describe(`forget leaves nothing in PostgreSQL (${engine.name})`, () => {
    let pg: PgEngine;
    let dir: string;
    let referent: Referent;
    const schema = freshSchema('referent_forget');

    beforeAll(async () => {
      pg = await engine.start();
      dir = tempDir();
      referent = await openReferent(testConfig(path.join(dir, 'data'), { REFERENT_DATABASE_URL: pg.url, REFERENT_DATABASE_SCHEMA: schema }));
      const manifest = await makeColourGallery(path.join(dir, 'img'), 2, ['red', 'blue', 'green']);
      await ingest(referent, await readSources(manifest), { collection: 'parts', batchSize: 8, maxImageBytes: 1 << 20, maxTextChars: 500 });
    }, 60_000);
    afterAll(async () => {
      await referent?.shutdown();
      if (pg) {
        await dropSchema(pg.url, schema);
        await pg.stop();
      }
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('sweeps every table and finds no trace of a forgotten entity, while the others stay', async () => {
      const label = 'RED-hex-bolt';
      const items = await referent.catalog.entityItems((await referent.catalog.findEntities(label))[0]!.id);
      expect(items.length).toBeGreaterThan(0);
      await describeEntity(referent, { label, text: `a bolt with the ${MARKER} stamp`, author: 'U1' }, limits);
      await review(referent, { query: `red ${MARKER} confirmed`, itemId: items[0]!.id, verdict: 'confirm', user: 'U2' }, limits);
      await review(referent, { query: `${MARKER} is not it`, itemId: items.at(-1)!.id, verdict: 'reject', user: 'U3' }, limits);
      await referent.catalog.putOcr(items[0]!.id, { modelId: 'test-ocr', lines: [{ text: `LOT ${MARKER}`, confidence: 0.9, box: [[0, 0], [10, 0], [10, 5], [0, 5]] }], identifiers: [MARKER] });
      const needles = [MARKER, label, ...items.flatMap((i) => [i.hash, i.mediaKey])];

      const before = await sweep(pg.url, schema, needles);
      expect(before.found.length).toBeGreaterThan(0);

      const forgotten = await forget(referent, label, 'parts');
      expect(forgotten.items).toBe(items.length);
      const after = await sweep(pg.url, schema, needles);
      expect(after.found).toEqual([]);
      expect(after.tables).toBeGreaterThanOrEqual(10);
      // Only its rows went: the other entities and their photos are all there.
      expect(await referent.catalog.countItems()).toBe(6 - items.length);
      expect((await searchItems(referent, { text: 'blue', limit: 1 }, limits))[0]!.item.entityLabel).toMatch(/^BLUE-/);
      for (const item of items) expect(await referent.media.has(item.mediaKey)).toBe(false);
    }, 60_000);
  });
}
