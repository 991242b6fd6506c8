/**
 * What only the PostgreSQL catalogue has, on PGlite (always) and a real server (when
 * REFERENT_TEST_DATABASE_URL is set): a round trip through every role on one PgCatalog, a forget
 * that leaves nothing in any table, the index log committing in seq order under concurrent writers,
 * the change stamp moving on this process's commits and (by NOTIFY) on another's, one HNSW index per
 * model searched with iterative scans, and one-line errors for a server that cannot be used. The
 * engine-neutral behaviour is the contracts' (*-catalog.contract.ts).
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusteredVectors } from '../../bench/clustered.js';
import type { NewItem, TextEmbedding } from '../../src/catalog/catalog.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { changeChannel, PG_SCHEMA_VERSION } from '../../src/catalog/postgres/pg-migrations.js';
import { inlineParams, openPgDb, type PgDb, type SqlValue } from '../../src/catalog/postgres/pg-pool.js';
import { labelKey } from '../../src/ocr/identifiers.js';
import type { OcrLine } from '../../src/ocr/ocr.js';
import { ErrorCode, type ReferentError } from '../../src/errors.js';
import { closedPort, dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';
import { waitUntil } from '../support/wait.js';

const MODEL = 'pg-test-model@1';

function unit(...xs: number[]): Float32Array {
  const norm = Math.hypot(...xs);
  return new Float32Array(xs.map((x) => x / norm));
}
const X = unit(1, 0, 0, 0);
const Y = unit(0, 1, 0, 0);
const Z = unit(0, 0, 1, 0);
const vector = (data: Float32Array = X) => ({ modelId: MODEL, data });
const embedding = (v: Float32Array, phrases: Array<[string, Float32Array]> = []): TextEmbedding => ({ modelId: MODEL, vector: v, phrases: phrases.map(([body, pv]) => ({ body, vector: pv })) });
let counter = 0;
const newItem = (collectionId: number, extra: Partial<NewItem> = {}): NewItem => ({ collectionId, hash: `hash-${counter++}`, mediaKey: `media/${counter}.jpg`, width: 64, height: 48, ...extra });
const BOX: Array<[number, number]> = [
  [0, 0],
  [1, 0],
  [1, 1],
  [0, 1],
];
const numbers = (v: Float32Array | null | undefined) => (v ? Array.from(v) : v);

/** Rejects with a ReferentError of this code whose message is one line and keeps the password out. */
async function expectOneLine(promise: Promise<unknown>, code: string): Promise<ReferentError> {
  const err = (await promise.then(
    () => expect.fail(`expected ${code}`),
    (e: unknown) => e,
  )) as ReferentError;
  expect(err).toMatchObject({ code });
  expect(err.message).not.toMatch(/\n/);
  expect(err.message).not.toMatch(/secret-pw/);
  return err;
}

/** Every row of every table of the schema, as text (for "nothing of it is left anywhere"). */
async function everyRow(db: PgDb, schema: string): Promise<Map<string, string[]>> {
  const tables = await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1`, [schema]);
  const out = new Map<string, string[]>();
  for (const { name } of tables) {
    const rows = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${schema}"."${name}" t`);
    out.set(
      name,
      rows.map((r) => r.row),
    );
  }
  return out;
}

for (const engine of postgresEngines()) {
  describe(`PgCatalog on ${engine.name}`, () => {
    let server: PgEngine;
    beforeAll(async () => {
      server = await engine.start();
    });
    afterAll(async () => {
      await server?.stop();
    });

    /** Opens catalogues (and raw pools) on a fresh schema, and closes and drops it all after `fn`. */
    async function withSchema(fn: (t: { schema: string; open(options?: { listen?: boolean; poolMax?: number }): Promise<PgCatalog>; raw(): PgDb }) => Promise<void>): Promise<void> {
      const schema = freshSchema();
      const catalogs: PgCatalog[] = [];
      const pools: PgDb[] = [];
      try {
        await fn({
          schema,
          async open(options = {}) {
            const c = await PgCatalog.open(server.url, { schema, ...options });
            catalogs.push(c);
            return c;
          },
          raw() {
            const db = openPgDb(server.url);
            pools.push(db);
            return db;
          },
        });
      } finally {
        await Promise.allSettled([...catalogs.map((c) => c.close()), ...pools.map((p) => p.close())]);
        await dropSchema(server.url, schema);
      }
    }

    it('goes round every role on one catalogue, as SQLite does', () =>
      withSchema(async ({ open }) => {
        const catalog = await open();
        expect(catalog.location).toMatch(/@127\.0\.0\.1:\d+\//);
        expect(await catalog.schemaVersion()).toBe(PG_SCHEMA_VERSION);

        // Access.
        const parts = await catalog.ensureCollection('parts', 'part');
        const people = await catalog.ensureCollection('people', 'person');
        expect(people.enabled).toBe(false);
        expect(await catalog.ensureCollection('parts', 'other')).toEqual(parts);
        expect((await catalog.listCollections()).map((c) => c.name)).toEqual(['parts', 'people']);
        expect(await catalog.setCollectionEnabled(people.id, true)).toBe(true);
        expect(await catalog.grant({ collectionId: parts.id, platform: 'slack', workspace: 'T1' })).toBe(true);
        expect(await catalog.grant({ collectionId: parts.id, platform: 'slack', workspace: 'T1' })).toBe(false);
        expect(await catalog.grantedCollectionIds({ platform: 'slack', workspace: 'T1', channel: 'C9' })).toEqual([parts.id]);
        await expect(catalog.grant({ collectionId: 9999, platform: 'slack', workspace: 'T1' })).rejects.toMatchObject({ code: ErrorCode.NotFound });
        await catalog.addAudit({ user: 'slack:T1:U1', platform: 'slack', scope: 'slack:T1/C1', collectionId: people.id, query: 'who', at: 1_700_000_000_123 });
        expect(await catalog.listAudit(5)).toEqual([{ id: expect.any(Number), user: 'slack:T1:U1', platform: 'slack', scope: 'slack:T1/C1', collectionId: people.id, query: 'who', at: 1_700_000_000_123 }]);
        await expect(catalog.ensureCollection('bad\nname')).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });

        // Items, with a caption, an entity and vectors that come back bit for bit.
        expect(await catalog.getModel()).toBeNull();
        await catalog.setModel({ modelId: MODEL, dim: 4 });
        expect(await catalog.getModel()).toEqual({ modelId: MODEL, dim: 4 });
        const odd = new Float32Array([0.1, -0.25, 1e-7, -0]);
        const before = Date.now();
        const a = await catalog.addItem(
          newItem(parts.id, { caption: 'brass elbow fitting', entityLabel: 'P-100', source: { platform: 'slack', channel: 'C1', user: 'U1', ref: 'F1' } }),
          vector(odd),
          embedding(Y, [['brass elbow', Z]]),
        );
        expect(a).toMatchObject({ collectionId: parts.id, caption: 'brass elbow fitting', entityLabel: 'P-100', source: { platform: 'slack', channel: 'C1', user: 'U1', ref: 'F1' } });
        expect(a.createdAt).toBeGreaterThanOrEqual(before);
        expect(await catalog.getItem(a.id)).toEqual(a);
        expect(await catalog.findLiveItemByHash(parts.id, a.hash)).toEqual(a);
        const [page] = await catalog.itemVectors(MODEL, 0, 10);
        expect(page!.vector).toEqual(odd);
        expect(Object.is(page!.vector[3], -0)).toBe(true);
        const b = await catalog.addItem(newItem(parts.id), vector(Y));
        expect([...(await catalog.getItems([b.id, 12345, a.id])).keys()]).toEqual([b.id, a.id]);
        expect(await catalog.countItems()).toBe(2);
        expect(await catalog.countItemVectors(MODEL)).toBe(2);

        // The misuses SQLite refuses, refused with the same codes, and nothing written.
        const seq = await catalog.lastLogSeq();
        await expect(catalog.addItem(newItem(parts.id, { hash: a.hash }), vector())).rejects.toMatchObject({ code: ErrorCode.Conflict });
        await expect(catalog.addItem(newItem(9999), vector())).rejects.toMatchObject({ code: ErrorCode.NotFound });
        await expect(catalog.addItem(newItem(parts.id, { entityLabel: 'P\u0000' }), vector())).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
        await expect(catalog.addItem(newItem(parts.id), vector(new Float32Array([1, 0])))).rejects.toMatchObject({ code: ErrorCode.ModelMismatch });
        await expect(catalog.addItem(newItem(parts.id), vector(new Float32Array([NaN, 0, 0, 0])))).rejects.toMatchObject({ code: ErrorCode.ModelMismatch });
        expect(await catalog.lastLogSeq()).toBe(seq);
        expect(await catalog.countItems()).toBe(2);

        // The log, in order, with the vectors of additions.
        expect((await catalog.changesSince(0, MODEL)).map((c) => [c.itemId, c.op, numbers(c.vector)])).toEqual([
          [a.id, 'add', Array.from(odd)],
          [b.id, 'add', Array.from(Y)],
        ]);

        // Entities and their material.
        const p100 = a.entityId!;
        expect(await catalog.findEntities('P-100')).toEqual([{ id: p100, collectionId: parts.id, label: 'P-100', kind: 'part', createdAt: expect.any(Number) }]);
        const description = await catalog.addText({ entityId: p100, body: 'zinc plated, M8 thread', source: 'describe', author: 'U2' }, embedding(Z, [['zinc plated', X], ['M8 thread', Y]]));
        await catalog.addText({ entityId: p100, body: 'no vector yet', source: 'import' }, null);
        const material = (await catalog.entityMaterial(p100, MODEL))!;
        expect(material.images.map((i) => i.itemId)).toEqual([a.id]);
        expect(material.texts.map((t) => [t.body, t.source])).toEqual([
          ['brass elbow fitting', 'caption'],
          ['zinc plated, M8 thread', 'describe'],
        ]);
        expect(material.phrases.map((p) => [p.textId, p.body])).toEqual([
          [material.texts[0]!.textId, 'brass elbow'],
          [description, 'zinc plated'],
          [description, 'M8 thread'],
        ]);
        expect(await catalog.textsWithoutVector(MODEL, 10)).toEqual([{ kind: 'text', id: expect.any(Number), body: 'no vector yet' }]);
        await expect(catalog.addText({ entityId: 9999, body: 'x', source: 'describe' }, null)).rejects.toMatchObject({ code: ErrorCode.NotFound });

        // A confirm links and keeps the query; undo reverts both.
        const entitySeq = await catalog.lastEntitySeq();
        const p200 = await catalog.ensureEntity(parts.id, 'P-200');
        const confirm = await catalog.addVerdict({ query: 'shiny cap', itemId: b.id, entityId: p200.id, verdict: 'confirm', user: 'U3' }, embedding(X, [['shiny cap', X]]));
        expect(confirm).toEqual({
          id: confirm.id,
          query: 'shiny cap',
          itemId: b.id,
          entityId: p200.id,
          verdict: 'confirm',
          user: 'U3',
          linked: true,
          textId: expect.any(Number),
          createdAt: expect.any(Number),
          undoneAt: null,
        });
        expect((await catalog.getItem(b.id))!.entityLabel).toBe('P-200');
        expect((await catalog.entityMaterial(p200.id, MODEL))!.texts.map((t) => t.source)).toEqual(['review']);
        expect(await catalog.verdictsOn([b.id, a.id, b.id], MODEL)).toEqual([
          { id: confirm.id, itemId: b.id, entityId: p200.id, verdict: 'confirm', vector: X },
          { id: confirm.id, itemId: b.id, entityId: p200.id, verdict: 'confirm', vector: X },
        ]);
        expect(await catalog.entityVerdictsOn([p200.id, p200.id], MODEL)).toEqual([{ id: confirm.id, itemId: b.id, entityId: p200.id, verdict: 'confirm', vector: X }]);
        expect((await catalog.entityChangesSince(entitySeq)).entityIds).toEqual([p200.id]);
        const undone = (await catalog.undoVerdict(confirm.id))!;
        expect(undone.undoneAt).toEqual(expect.any(Number));
        expect((await catalog.getItem(b.id))!.entityId).toBeNull();
        expect((await catalog.entityMaterial(p200.id, MODEL))!.texts).toEqual([]);
        expect(await catalog.verdictsOn([b.id], MODEL)).toEqual([]);
        expect(await catalog.undoVerdict(confirm.id)).toBeNull();
        const reject = await catalog.addVerdict({ query: 'brass', itemId: a.id, entityId: null, verdict: 'reject', searched: Z }, embedding(X));
        expect(reject).toMatchObject({ linked: false, textId: null });
        expect(await catalog.verdictsOn([a.id], MODEL)).toEqual([{ id: reject.id, itemId: a.id, entityId: null, verdict: 'reject', vector: Z }]);

        // OCR and lexical matching: identifiers, named entities, words of captions, OCR and descriptions.
        expect((await catalog.itemsWithoutOcr(10)).map((i) => i.id)).toEqual([a.id, b.id]);
        const line: OcrLine = { text: 'P-31552 GASKET 10MM', confidence: 0.9, box: BOX };
        expect(await catalog.putOcr(b.id, { modelId: 'ocr@1', lines: [line], identifiers: ['P31552'] })).toBe(true);
        expect(await catalog.ocrOf(b.id)).toEqual({ modelId: 'ocr@1', lines: [line], identifiers: ['P31552'], at: expect.any(Number) });
        expect(await catalog.countOcr()).toEqual({ read: 1, withText: 1, pending: 1 });
        const byIdent = await catalog.lexicalMatches({ words: ['gasket'], identifiers: ['P31552'], labels: [] });
        expect([...byIdent.identifiers]).toEqual([[b.id, { identifier: 'P31552', line: 'P-31552 GASKET 10MM' }]]);
        expect(byIdent.words.get(b.id)).toEqual({ score: 1, text: 'P-31552 GASKET 10MM' });
        const named = await catalog.lexicalMatches({ words: [], identifiers: [], labels: [labelKey('p 100')] });
        expect([...named.named]).toEqual([[a.id, { entityId: p100, label: 'P-100' }]]);
        expect(named.items.get(a.id)).toEqual({ entityId: p100, collectionId: parts.id });
        // Words: 'zinc' is only in the entity's description, which reaches its image; 'brass' in a caption.
        await catalog.putOcr(a.id, { modelId: 'ocr@1', lines: [{ ...line, text: 'P-100 ELBOW' }], identifiers: ['P100'] });
        const words = await catalog.lexicalMatches({ words: ['zinc', 'brass', 'elbow'], identifiers: ['P100'], labels: [] });
        expect([...words.words.keys()]).toEqual([a.id]);
        expect(words.words.get(a.id)!.score).toBe(1);
        expect(await catalog.lexicalMatches({ words: ['zinc'], identifiers: ['P100'], collectionIds: new Set([people.id]) })).toEqual({
          identifiers: new Map(),
          words: new Map(),
          named: new Map(),
          items: new Map(),
        });

        // Media and the platforms' copies.
        expect(await catalog.isMediaLive(a.mediaKey)).toBe(true);
        expect(await catalog.mediaCollections(a.mediaKey)).toEqual([parts.id]);
        await catalog.setPlatformFile({ platform: 'slack', workspace: 'T1', mediaKey: a.mediaKey }, 'F1');
        await catalog.setPlatformFile({ platform: 'slack', workspace: 'T1', mediaKey: a.mediaKey }, 'F2');
        expect(await catalog.platformFile({ platform: 'slack', workspace: 'T1', mediaKey: a.mediaKey })).toBe('F2');
        expect(await catalog.mediaTrash(10)).toEqual([]);
        await catalog.checkpoint();

        // Removal: soft, logged, the reading gone with it; re-embedding under another model.
        expect(await catalog.removeItem(b.id)).toBe(true);
        expect(await catalog.removeItem(b.id)).toBe(false);
        expect(await catalog.getItem(b.id)).toBeNull();
        expect(await catalog.ocrOf(b.id)).toBeNull();
        expect((await catalog.changesSince(seq, MODEL)).map((c) => [c.itemId, c.op, c.vector])).toEqual([[b.id, 'del', null]]);
        expect((await catalog.itemsWithoutVector('next@2', 10)).map((i) => i.id)).toEqual([a.id]);
        await catalog.putItemVector(a.id, 'next@2', unit(1, 1));
        await expect(catalog.putItemVector(a.id, 'next@2', X)).rejects.toMatchObject({ code: ErrorCode.ModelMismatch });
        await expect(catalog.putItemVector(9999, 'next@2', unit(1, 1))).rejects.toMatchObject({ code: ErrorCode.NotFound });
        expect(await catalog.itemsWithoutVector('next@2', 10)).toEqual([]);
        expect(await catalog.deleteVectorsExcept('next@2')).toBeGreaterThan(0);
        expect(await catalog.countItemVectors(MODEL)).toBe(0);
        expect(await catalog.countItemVectors('next@2')).toBe(1);
        expect(await catalog.resetOcr()).toBe(1);
      }));

    it('forgets an entity in one transaction and leaves nothing of it in any table', () =>
      withSchema(async ({ open, raw, schema }) => {
        const catalog = await open();
        const parts = (await catalog.ensureCollection('parts', 'part')).id;
        const other = (await catalog.ensureCollection('other', 'part')).id;
        const src = { platform: 'slack', channel: 'C-secret', user: 'U-secret', ref: 'F-secret' };
        const live = await catalog.addItem(
          newItem(parts, { hash: 'hash-secret-1', mediaKey: 'media/doomed-1.jpg', caption: 'secret caption', entityLabel: 'Secret Label', source: src }),
          vector(X),
          embedding(Y, [['secret phrase', Z]]),
        );
        const shared = await catalog.addItem(newItem(parts, { hash: 'hash-secret-2', mediaKey: 'media/shared.jpg', entityLabel: 'Secret Label' }), vector(Y));
        const removed = await catalog.addItem(newItem(parts, { hash: 'hash-secret-3', mediaKey: 'media/doomed-3.jpg', caption: 'secret removed caption', entityLabel: 'Secret Label' }), vector(Z));
        const keep = await catalog.addItem(newItem(other, { hash: 'hash-kept', mediaKey: 'media/shared.jpg', caption: 'kept caption', entityLabel: 'Kept' }), vector(Z), embedding(X));
        const entity = live.entityId!;
        await catalog.addText({ entityId: entity, body: 'secret description', source: 'describe' }, embedding(X, [['secret detail', Y]]));
        await catalog.addVerdict({ query: 'secret query', itemId: live.id, entityId: entity, verdict: 'confirm', user: 'U-secret' }, embedding(Z));
        await catalog.addVerdict({ query: 'secret reject', itemId: shared.id, entityId: null, verdict: 'reject' }, embedding(Z));
        await catalog.putOcr(live.id, { modelId: 'ocr@1', lines: [{ text: 'SECRET-OCR 4471', confidence: 1, box: BOX }], identifiers: ['SECRETOCR4471'] });
        await catalog.setPlatformFile({ platform: 'slack', workspace: 'T1', mediaKey: live.mediaKey }, 'F-secret-copy');
        await catalog.setPlatformFile({ platform: 'slack', workspace: 'T1', mediaKey: shared.mediaKey }, 'F-shared');
        await catalog.removeItem(removed.id);
        const seq = await catalog.lastLogSeq();

        const result = await catalog.forgetEntity(entity);
        expect(result).toEqual({ itemIds: [live.id, shared.id], orphanedMedia: ['media/doomed-1.jpg'] });
        expect((await catalog.changesSince(seq, MODEL)).map((c) => [c.itemId, c.op])).toEqual([
          [live.id, 'del'],
          [shared.id, 'del'],
        ]);
        expect(await catalog.getEntity(entity)).toBeNull();
        expect(await catalog.findEntities('Secret Label')).toEqual([]);
        expect(await catalog.entityMaterial(entity, MODEL)).toBeNull();
        expect(await catalog.getItem(keep.id)).toEqual(keep);
        expect(await catalog.platformFile({ platform: 'slack', workspace: 'T1', mediaKey: shared.mediaKey })).toBe('F-shared');
        expect(await catalog.mediaTrash(10)).toEqual(['media/doomed-1.jpg']);

        // Nothing anywhere says what was forgotten: no text, no key, no source, no copy.
        const rows = await everyRow(raw(), schema);
        const leaks = [...rows].flatMap(([table, texts]) => texts.filter((t) => /secret|doomed/i.test(t) && table !== 'media_trash').map((t) => `${table}: ${t}`));
        expect(leaks).toEqual([]);
        expect(rows.get('media_trash')!.join()).toMatch(/doomed-1/);
        // Only the kept image's vectors, texts and phrases remain; the forgotten rows point at nothing.
        const db = raw();
        const q = async (sql: string) => (await db.query<{ n: number }>(sql.replaceAll('$s', `"${schema}"`)))[0]!.n;
        expect(await q(`SELECT count(*) AS n FROM $s.item_vectors WHERE item_id <> ${keep.id}`)).toBe(0);
        expect(await q(`SELECT count(*) AS n FROM $s.texts WHERE item_id IS DISTINCT FROM ${keep.id}`)).toBe(0);
        expect(await q(`SELECT count(*) AS n FROM $s.text_vectors WHERE NOT (owner_kind = 'text' AND owner_id IN (SELECT id FROM $s.texts))`)).toBe(0);
        expect(await q(`SELECT count(*) AS n FROM $s.phrases`)).toBe(0);
        expect(await q(`SELECT count(*) AS n FROM $s.feedback`)).toBe(0);
        expect(await q(`SELECT count(*) AS n FROM $s.item_ocr`)).toBe(0);
        expect(await q(`SELECT count(*) AS n FROM $s.item_identifiers`)).toBe(0);
        expect(await q(`SELECT count(*) AS n FROM $s.items WHERE entity_id = ${entity} OR (id <> ${keep.id} AND (media_key <> '' OR caption IS NOT NULL OR deleted_at IS NULL))`)).toBe(0);
        expect(await q(`SELECT count(*) AS n FROM $s.entities WHERE id = ${entity} AND label = 'forgotten:${entity}' AND deleted_at IS NOT NULL`)).toBe(1);

        // The label starts a fresh entity; the photo may come back (and leaves the trash).
        const again = await catalog.addItem(newItem(parts, { hash: 'hash-secret-1', mediaKey: 'media/doomed-1.jpg', entityLabel: 'Secret Label' }), vector(X));
        expect(again.entityId).not.toBe(entity);
        expect(await catalog.mediaTrash(10)).toEqual([]);
      }));

    it('commits the index log in seq order while two processes write at once: a follower misses nothing', () =>
      withSchema(async ({ open }) => {
        const [a, b, follower] = [await open({ listen: false }), await open({ listen: false }), await open({ listen: false })];
        const parts = (await a.ensureCollection('parts', 'part')).id;
        const added = new Set<number>();
        const seen: number[] = [];
        const seqs: number[] = [];
        let watermark = 0;
        let writing = true;
        const follow = async () => {
          for (;;) {
            const done = !writing;
            for (const c of await follower.changesSince(watermark, MODEL)) {
              seqs.push(c.seq);
              seen.push(c.itemId);
              watermark = c.seq;
            }
            if (done) return;
          }
        };
        const write = async (catalog: PgCatalog, n: number) => {
          for (let i = 0; i < n; i++) {
            const item = await catalog.addItem(newItem(parts, { entityLabel: `E${i % 3}` }), vector(i % 2 ? X : Y));
            added.add(item.id);
          }
        };
        const following = follow();
        await Promise.all([write(a, 30), write(b, 30), write(a, 20), write(b, 20)]);
        writing = false;
        await following;
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(seen.sort((x, y) => x - y)).toEqual([...added].sort((x, y) => x - y));
        // The entity log too: every entity touched is there, in seq order.
        const entities = await follower.entityChangesSince(0);
        expect(entities.entityIds.length).toBe(3);
      }));

    it('lets two processes add the same photo, or photos of the same new label, at once: one photo, one entity', () =>
      withSchema(async ({ open }) => {
        const [a, b] = [await open({ listen: false }), await open({ listen: false })];
        const parts = (await a.ensureCollection('parts', 'part')).id;
        const same = newItem(parts);
        const results = await Promise.allSettled([a.addItem(same, vector(X)), b.addItem(same, vector(X))]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: ErrorCode.Conflict } });
        const [x, y] = await Promise.all([a.addItem(newItem(parts, { entityLabel: 'P-new' }), vector(X)), b.addItem(newItem(parts, { entityLabel: 'P-new' }), vector(Y))]);
        expect(x.entityId).toBe(y.entityId);
        expect((await a.findEntities('P-new')).map((e) => e.id)).toEqual([x.entityId]);
        expect(await a.countItems()).toBe(3);
      }));

    it('holds the log lock from the log insert to commit: a writer waits while another transaction holds it', async (ctx) => {
      // PGlite runs one transaction at a time across all its connections (pglite-socket's queue), and
      // all of them share one session, so a lock there never makes anyone wait: the order holds anyway.
      if (engine.name === 'pglite') return ctx.skip('PGlite serialises whole transactions: nothing to wait for');
      await withSchema(async ({ open, raw, schema }) => {
        const catalog = await open({ listen: false });
        const parts = (await catalog.ensureCollection('parts', 'part')).id;
        const holder = raw();
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holding = holder.transaction(async (tx) => {
          await tx.query(`SELECT pg_advisory_xact_lock(hashtext('referent.log'), hashtext('${schema}'))`);
          locked();
          await held;
        });
        await isLocked;
        const adding = catalog.addItem(newItem(parts), vector());
        try {
          const probe = raw();
          // The writer is seen waiting for the advisory lock (not timed: observed in pg_locks).
          const waits = async () =>
            (await probe.query<{ n: number }>(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`))[0]!.n > 0;
          expect(await waitUntil(waits)).toBe(true);
          expect(await catalog.lastLogSeq()).toBe(0);
        } finally {
          release();
          await holding;
        }
        const item = await adding;
        expect((await catalog.changesSince(0, MODEL)).map((c) => c.itemId)).toEqual([item.id]);
      });
    });

    it('moves the change stamp on its own commits at once, and on another process’s by notification', () =>
      withSchema(async ({ open, raw, schema }) => {
        const a = await open();
        const b = await open();
        const parts = (await a.ensureCollection('parts', 'part')).id;

        // Own commits: a new stamp right away, on every engine.
        let stamp = await a.changeStamp();
        await a.addItem(newItem(parts), vector());
        expect(await a.changeStamp()).not.toBe(stamp);

        if (engine.name === 'pglite') {
          // PGlite's socket connections share one backend: the notification goes out on the committing
          // connection, never the listener's. The catalogue never hears, so every stamp is new.
          expect(a.hearing).toBe(false);
          expect(await a.changeStamp()).not.toBe(await a.changeStamp());
          return;
        }
        expect(await waitUntil(() => a.hearing && b.hearing)).toBe(true);
        // Stands still while nothing commits (once the notifications in flight, b's probe among them, are in).
        expect(await waitUntil(async () => (await a.changeStamp()) === (await a.changeStamp()))).toBe(true);
        stamp = await a.changeStamp();
        const theirs = await b.addItem(newItem(parts), vector(Y));
        expect(await waitUntil(async () => (await a.changeStamp()) !== stamp)).toBe(true);
        expect((await a.changesSince(0, MODEL)).map((c) => c.itemId)).toContain(theirs.id);
        // Any write moves it, whoever makes it: here a plain SQL client, through the tables' triggers.
        stamp = await a.changeStamp();
        await raw().query(`INSERT INTO "${schema}".audit (actor, platform, scope, query, created_at) VALUES ('psql', 'cli', '-', 'by hand', now())`);
        expect(await waitUntil(async () => (await a.changeStamp()) !== stamp)).toBe(true);
        // Without a listener, every stamp is new.
        const deaf = await open({ listen: false });
        expect(await deaf.changeStamp()).not.toBe(await deaf.changeStamp());
      }));

    it('shows where a notification goes: to the listener on a server, to the committing connection on PGlite', async () => {
      const channel = changeChannel(freshSchema());
      const listening = openPgDb(server.url);
      const writer = openPgDb(server.url, { max: 1 });
      try {
        const got: string[] = [];
        const listener = listening.listen(channel, { onNotify: (p) => got.push(p) });
        expect(await waitUntil(() => listener.up)).toBe(true);
        await writer.transaction((tx) => tx.query(`SELECT pg_notify('${channel}', 'committed')`));
        // A round trip on the listening connection: what the server delivered to it has arrived.
        await listener.ping();
        const sessions = await writer.query<{ channel: string }>(`SELECT pg_listening_channels() AS channel`);
        if (engine.name === 'pglite') {
          // One session behind every socket: the writer's connection sees the listener's LISTEN as its
          // own, and the notification went out on the writer's socket, in its COMMIT's answer.
          expect(sessions.map((r) => r.channel)).toContain(channel);
          expect(got).toEqual([]);
        } else {
          expect(sessions).toEqual([]);
          expect(got).toEqual(['committed']);
        }
      } finally {
        await Promise.all([listening.close(), writer.close()]);
      }
    });

    it('listens again after the listening connection was cut, and hears again', async (ctx) => {
      if (engine.name === 'pglite') return ctx.skip('one backend for every connection: nothing to terminate (see the socket-server test below)');
      await withSchema(async ({ open, raw }) => {
        const a = await open();
        const b = await open();
        const parts = (await b.ensureCollection('parts', 'part')).id;
        expect(await waitUntil(() => a.hearing)).toBe(true);
        const admin = raw();
        const listeners = async () =>
          (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN "referent_%' ORDER BY pid`)).map((r) => r.pid);
        const before = await listeners();
        expect(before.length).toBeGreaterThanOrEqual(2);
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN "referent_%'`);
        expect(await waitUntil(async () => (await listeners()).every((pid) => !before.includes(pid)) && (await listeners()).length >= 2 && a.hearing)).toBe(true);
        const stamp = await a.changeStamp();
        await b.addItem(newItem(parts), vector());
        expect(await waitUntil(async () => (await a.changeStamp()) !== stamp)).toBe(true);
      });
    });

    it('makes one HNSW index per model, on its dimension, and searches each model apart', () =>
      withSchema(async ({ open, raw, schema }) => {
        const [a, b] = [await open(), await open()];
        const parts = (await a.ensureCollection('parts', 'part')).id;
        // Two processes meeting the same new model at once: one index.
        await Promise.all([a.addItem(newItem(parts), { modelId: 'a', data: unit(1, 0, 0, 0, 0, 0, 0, 0) }), b.addItem(newItem(parts), { modelId: 'a', data: unit(0, 1, 0, 0, 0, 0, 0, 0) })]);
        const item = await a.addItem(newItem(parts), { modelId: "b's", data: X });
        const indexes = await raw().query<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename = 'item_vectors' AND indexdef LIKE '%USING hnsw%' ORDER BY indexdef`, [schema]);
        expect(indexes).toHaveLength(2);
        expect(indexes.map((i) => i.def).join('\n')).toMatch(/vector\(4\).*vector_cosine_ops.*model_id = 'b''s'/);
        expect(indexes.map((i) => i.def).join('\n')).toMatch(/vector\(8\).*vector_cosine_ops.*model_id = 'a'/);
        expect(await a.searchImages("b's", Y, 3)).toEqual([{ itemId: item.id, score: expect.closeTo(0, 5) }]);
        expect(await a.searchImages("b's", X, 3, new Set([parts + 1]))).toEqual([]);
        expect((await b.searchImages('a', unit(1, 0, 0, 0, 0, 0, 0, 0), 5)).map((h) => h.score)).toEqual([expect.closeTo(1, 5), expect.closeTo(0, 5)]);
        expect(await a.searchImages('never-stored', X, 3)).toEqual([]);
        await expect(a.searchImages('a', X, 3)).rejects.toMatchObject({ code: ErrorCode.ModelMismatch });
        // A model's dimension is fixed by its first vector, in every process.
        await expect(b.addItem(newItem(parts), { modelId: "b's", data: unit(1, 1, 1, 1, 1, 1, 1, 1) })).rejects.toMatchObject({ code: ErrorCode.ModelMismatch });
      }));

    it('keeps a filtered search complete when the planner takes the HNSW index (iterative scan)', async () => {
      const schema = freshSchema();
      // One connection, so the planner settings below hold for the catalogue's own search transaction.
      const db = openPgDb(server.url, { max: 1 });
      const catalog = await PgCatalog.onPool(db, { schema, listen: false });
      try {
        const [big, small] = [(await catalog.ensureCollection('big')).id, (await catalog.ensureCollection('small')).id];
        const { vectors, queries } = clusteredVectors({ n: 400, dim: 16, clusters: 8, queries: 3, seed: 11 });
        const inSmall = new Set<number>();
        for (let i = 0; i < 400; i++) {
          const item = await catalog.addItem({ collectionId: i % 80 === 13 ? small : big, hash: `h${i}`, mediaKey: 'm', width: 1, height: 1 }, { modelId: 'm', data: vectors[i]! });
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
        for (const q of queries) expect(new Set((await catalog.searchImages('m', q, 5, new Set([small]))).map((h) => h.itemId))).toEqual(inSmall);
        expect(await scans()).toBeGreaterThan(before);
      } finally {
        // PGlite's connections share one session: the settings must not outlive this test there.
        await db.query('RESET enable_seqscan; RESET enable_sort').catch(() => {});
        await catalog.close();
        await dropSchema(server.url, schema);
      }
    });

    it('sends parameters as literals that come back exactly as given, whatever they hold', async () => {
      const db = openPgDb(server.url, { max: 2 });
      try {
        const nasty = ["it's", 'back\\slash', "E'x'", '$1 and $$dollars$$', '-- not a comment', '/* nor this */', '"quoted"', 'zoë 日本 🚀', ''];
        for (const text of nasty) {
          const [row] = await db.query<{ t: string; n: number; a: string[] }>(`SELECT $1::text AS t, $2::int AS n, $3::text[] AS a`, [text, 7, [text, 'x"y', null]]);
          expect(row, text).toEqual({ t: text, n: 7, a: [text, 'x"y', null] });
        }
        const [flags] = await db.query<{ yes: boolean; none: null }>(`SELECT $1::boolean AS yes, $2::text AS none`, [true, null]);
        expect(flags).toEqual({ yes: true, none: null });
      } finally {
        await db.close();
      }
    });

    it('says in one line what is wrong with a server it cannot use', async () => {
      for (const { what, url } of server.refused) {
        const err = await expectOneLine(PgCatalog.open(url, { schema: freshSchema() }), ErrorCode.DatabaseUnavailable);
        expect(err.message, what).toMatch(/PostgreSQL at \S+@127\.0\.0\.1:\d+\//);
      }
      if (server.withoutVector) {
        const bare = await server.withoutVector();
        try {
          const err = await expectOneLine(PgCatalog.open(bare.url, { schema: freshSchema() }), ErrorCode.DatabaseUnsupported);
          expect(err.message).toMatch(/pgvector/);
        } finally {
          await bare.stop();
        }
      }
      await expect(PgCatalog.open(server.url, { schema: 'Bad-Name; DROP' })).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
    });
  });
}

describe('PgCatalog outside any server', () => {
  it('writes parameters into the SQL only where they stand, never inside strings, identifiers or comments', () => {
    const params: SqlValue[] = ["o'neil", 42, ['a', null, 'b\\"c'], true, null];
    expect(inlineParams(`SELECT $1, '$2', "$3", $3::text[] -- $1\n, $4 /* $2 */, $$ $1 $$, $q$ $2 $q$, a$1, $5, $2`, params)).toBe(
      `SELECT 'o''neil', '$2', "$3", E'{"a",NULL,"b\\\\\\\\\\\\"c"}'::text[] -- $1\n, 'true' /* $2 */, $$ $1 $$, $q$ $2 $q$, a$1, NULL, '42'`,
    );
    expect(() => inlineParams('SELECT $2', [1])).toThrow(RangeError);
    expect(() => inlineParams('SELECT $1', ['nul\u0000'])).toThrow(RangeError);
  });

  it('refuses a URL that is not a PostgreSQL URL, without echoing it', async () => {
    const err = await expectOneLine(PgCatalog.open('mysql://root:secret-pw@127.0.0.1/db'), ErrorCode.ConfigInvalid);
    expect(err.message).not.toMatch(/mysql/);
  });

  it('a listener comes back by itself when the server does, and says when it was down', async () => {
    // PGlite behind a socket server that stops and starts again on the same port.
    const db = await PGlite.create();
    let socket = new PGLiteSocketServer({ db, host: '127.0.0.1', port: await closedPort(), maxConnections: 8 });
    await socket.start();
    const url = `postgres://postgres:secret-pw@${socket.getServerConn()}/postgres`;
    const port = Number(socket.getServerConn().split(':').at(-1));
    const pool = openPgDb(url);
    try {
      const events: string[] = [];
      const listener = pool.listen('referent_listen_test', { onNotify: () => {}, onUp: () => events.push('up'), onDown: () => events.push('down') });
      expect(await waitUntil(() => listener.up)).toBe(true);
      await socket.stop();
      expect(await waitUntil(() => !listener.up)).toBe(true);
      await expect(listener.ping()).rejects.toMatchObject({ code: ErrorCode.DatabaseUnavailable });
      socket = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 8 });
      await socket.start();
      expect(await waitUntil(() => listener.up)).toBe(true);
      await listener.ping();
      expect(events).toEqual(['up', 'down', 'up']);
      await listener.close();
      expect(listener.up).toBe(false);
    } finally {
      await pool.close();
      await socket.stop();
      await db.close();
    }
  });
});
