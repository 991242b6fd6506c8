/**
 * Reads on a read replica (REFERENT_DATABASE_READ_URL; src/catalog/postgres/pg-replica.ts): the heavy
 * reads go to the replica, and never answer with less than the primary had committed when the read
 * began, whichever process committed it; a replica that is down, behind or no replica of the primary
 * costs a line in the log, never a wrong answer.
 *
 * - PGlite (every run): a read URL that leads to the primary itself (a second socket server on the
 *   same database), another server that is no replica, and a closed port; the catalogue contracts
 *   through a catalogue with a read URL.
 * - A real streaming replica (pg_basebackup -R, pg_ctl start: test/support/postgres-replica.ts) of
 *   the server in REFERENT_TEST_DATABASE_URL, when that is set and PostgreSQL's binaries are here:
 *   reads seen on the replica in pg_stat_activity; read-your-writes with replay paused, across two
 *   catalogues and across two `npm start` servers; the replica stopped and started again.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { openPgDb } from '../../src/catalog/postgres/pg-pool.js';
import type { Reply } from '../../src/chat/reply.js';
import { parseConfig } from '../../src/config.js';
import { labelKey } from '../../src/ocr/identifiers.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import type { CatalogFixture } from '../catalog/catalog-engines.js';
import { embedding, MODEL, newItem, vector, X, Y } from '../catalog/contract-support.js';
import { entityCatalogContract } from '../catalog/entity-catalog.contract.js';
import { itemCatalogContract } from '../catalog/item-catalog.contract.js';
import { lexicalCatalogContract } from '../catalog/lexical-catalog.contract.js';
import { accessCatalogContract } from '../catalog/access-catalog.contract.js';
import { makeColourGallery, tempDir, tinyModelDir } from '../support/fixtures.js';
import { closedPort, dropSchema, freshSchema, startPglite, TEST_DATABASE_URL_ENV } from '../support/postgres.js';
import { type Replica, replicaUnavailable, startPgliteTwoDoors, startReplica } from '../support/postgres-replica.js';
import { runCli } from '../support/run-cli.js';
import { type ServerProcess, startServerProcess } from '../support/server-process.js';
import { waitUntil } from '../support/wait.js';

/** A catalogue with a read URL, its log lines, and the schema to drop. */
async function openWithReplica(url: string, readUrl: string, schema: string, lines: string[] = []): Promise<PgCatalog> {
  return PgCatalog.open(url, { schema, readUrl, readRetryMs: 100, log: (line) => lines.push(line) });
}

/** A collection with one item (and its entity), written through `catalog`. */
async function teach(catalog: Catalog, label: string, data = X) {
  const collection = await catalog.ensureCollection(`parts-${label.toLowerCase()}`, 'part');
  const item = await catalog.addItem(newItem(collection.id, { entityLabel: label, caption: `${label} caption` }), vector(data), embedding(data));
  return { collection, item };
}

/** The catalogue contracts, each test on a fresh schema, through catalogues that read from `readUrl`. */
function contractsThroughReadUrl(name: string, urls: () => { url: string; readUrl: string }): void {
  const contracts = { ItemCatalog: itemCatalogContract, EntityCatalog: entityCatalogContract, AccessCatalog: accessCatalogContract, LexicalCatalog: lexicalCatalogContract };
  for (const [role, contract] of Object.entries(contracts)) {
    describe(`${role} contract through a read URL (${name})`, () => {
      let fixture: CatalogFixture | undefined;
      beforeEach(async () => {
        const { url, readUrl } = urls();
        const schema = freshSchema('referent_replica');
        const opened: PgCatalog[] = [];
        const open = async () => {
          const c = await openWithReplica(url, readUrl, schema);
          opened.push(c);
          return c;
        };
        fixture = {
          catalog: await open(),
          another: open,
          async close() {
            await Promise.allSettled(opened.map((c) => c.close()));
            await dropSchema(url, schema);
          },
        };
      });
      afterEach(async () => {
        await fixture?.close();
        fixture = undefined;
      });
      contract(() => fixture!);
    });
  }
}

describe('REFERENT_DATABASE_READ_URL in the configuration', () => {
  const base = { REFERENT_DATABASE_URL: 'postgres://referent:pw@db:5432/referent' };

  it('is passed on with the database, and needs REFERENT_DATABASE_URL', () => {
    expect(parseConfig({ env: { ...base, REFERENT_DATABASE_READ_URL: 'postgres://referent:pw@replica:5432/referent' } }).database?.readUrl).toBe('postgres://referent:pw@replica:5432/referent');
    expect(parseConfig({ env: base }).database).not.toHaveProperty('readUrl');
    const alone = () => parseConfig({ env: { REFERENT_DATABASE_READ_URL: 'postgres://referent:pw@replica:5432/referent' } });
    expect(alone).toThrow(/REFERENT_DATABASE_READ_URL: set, but REFERENT_DATABASE_URL is not/);
  });

  it('a URL that is not PostgreSQL\'s is a configuration error that hides its credentials', () => {
    let caught: unknown;
    try {
      parseConfig({ env: { ...base, REFERENT_DATABASE_READ_URL: 'mysql://root:s3cret-pw@replica/referent' } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ReferentError);
    expect((caught as ReferentError).code).toBe(ErrorCode.ConfigInvalid);
    expect((caught as ReferentError).message).toMatch(/REFERENT_DATABASE_READ_URL: a PostgreSQL URL/);
    expect((caught as ReferentError).message).not.toContain('s3cret-pw');
  });
});

describe('a read URL on PGlite', () => {
  it('leading to the primary itself: reads go through it, answer what was just written, and survive it closing', async () => {
    const pg = await startPgliteTwoDoors();
    const schema = freshSchema('referent_replica');
    const lines: string[] = [];
    const catalog = await openWithReplica(pg.url, pg.readUrl, schema, lines);
    try {
      expect(catalog.location).toMatch(/^postgres@127\.0\.0\.1:\d+\/postgres with reads on the replica postgres@127\.0\.0\.1:\d+\/postgres$/);
      const { collection, item } = await teach(catalog, 'P-1');
      expect((await catalog.getItem(item.id))?.hash).toBe(item.hash);
      expect(await catalog.countItems(collection.id)).toBe(1);
      expect((await catalog.entityMaterial(item.entityId!, MODEL.modelId))?.images.map((i) => i.itemId)).toEqual([item.id]);
      expect((await catalog.searchImages(MODEL.modelId, X, 1)).map((h) => h.itemId)).toEqual([item.id]);
      expect(catalog.replicaReads).toEqual({ replica: 4, primary: 0 });

      // A read that must write first (labels stored before they were keyed get their key) is the primary's.
      const db = openPgDb(pg.url, { max: 1 });
      await db.query(`UPDATE "${schema}".entities SET label_key = NULL`).finally(() => db.close());
      const named = async () => [...(await catalog.lexicalMatches({ words: [], identifiers: [], labels: [labelKey('P-1')] })).named.keys()];
      expect(await named()).toEqual([item.id]);
      expect(catalog.replicaReads).toEqual({ replica: 4, primary: 1 });
      expect(await named()).toEqual([item.id]);
      expect(catalog.replicaReads).toEqual({ replica: 5, primary: 1 });

      await pg.closeRead();
      const second = await catalog.addItem(newItem(collection.id, { entityLabel: 'P-1' }), vector(Y));
      expect(await catalog.countItems(collection.id)).toBe(2);
      expect((await catalog.entityItems(item.entityId!)).map((i) => i.id)).toEqual([item.id, second.id]);
      expect(lines).toEqual([expect.stringMatching(/^Reads go to the primary: Lost the connection to PostgreSQL at postgres@127\.0\.0\.1:\d+\/postgres|^Reads go to the primary: Cannot reach PostgreSQL at postgres@127\.0\.0\.1:\d+\/postgres/)]);
      expect(catalog.replicaReads.primary).toBeGreaterThanOrEqual(1);

      await pg.openRead();
      const before = catalog.replicaReads.replica;
      expect(await waitUntil(async () => (await catalog.countItems(collection.id)) === 2 && catalog.replicaReads.replica > before, 10_000, 20)).toBe(true);
      expect(lines.at(-1)).toMatch(/^Reads go to the read replica at postgres@127\.0\.0\.1:\d+\/postgres again\.$/);
    } finally {
      await catalog.close();
      await pg.stop();
    }
  });

  it('leading to a server that is no replica of the primary: every read is the primary\'s, with one line in the log', async () => {
    const [primary, stranger] = [await startPglite(), await startPglite()];
    const schema = freshSchema('referent_replica');
    const lines: string[] = [];
    // The same schema on both, with other rows: an answer from the wrong server would show.
    const other = await PgCatalog.open(stranger.url, { schema });
    const catalog = await openWithReplica(primary.url, stranger.url, schema, lines);
    try {
      await teach(other, 'ELSEWHERE-1');
      await teach(other, 'ELSEWHERE-2', Y);
      const { item } = await teach(catalog, 'HERE-1');
      for (let i = 0; i < 3; i++) expect(await catalog.countItems()).toBe(1);
      expect((await catalog.getItems([item.id, item.id + 1])).size).toBe(1);
      expect(lines).toEqual([expect.stringMatching(/^Reads go to the primary: the read server at postgres@127\.0\.0\.1:\d+\/postgres is not a standby of the primary/)]);
      expect(catalog.replicaReads.replica).toBe(0);
    } finally {
      await catalog.close();
      await other.close();
      await primary.stop();
      await stranger.stop();
    }
  });

  it('where nothing listens: the catalogue opens and answers from the primary, with one line in the log', async () => {
    const primary = await startPglite();
    const lines: string[] = [];
    const catalog = await openWithReplica(primary.url, `postgres://referent:s3cret-pw@127.0.0.1:${await closedPort()}/referent`, freshSchema('referent_replica'), lines);
    try {
      const { item } = await teach(catalog, 'P-2');
      expect((await catalog.getItem(item.id))?.id).toBe(item.id);
      expect(await catalog.countItems()).toBe(1);
      expect(lines).toEqual([expect.stringMatching(/^Reads go to the primary: Cannot reach PostgreSQL at referent@127\.0\.0\.1:\d+\/referent \(ECONNREFUSED\)/)]);
      expect(lines.join('\n')).not.toContain('s3cret-pw');
      expect(catalog.location).not.toContain('s3cret-pw');
    } finally {
      await catalog.close();
      await primary.stop();
    }
  });

  it('that is not a PostgreSQL URL: CONFIG_INVALID, naming the read URL', async () => {
    await expect(PgCatalog.open('postgres://postgres@127.0.0.1:1/x', { readUrl: 'mysql://root:pw@h/x' })).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid, message: /^The read replica URL is not a PostgreSQL URL/ });
  });
});

describe('the catalogue contracts through a read URL on PGlite', () => {
  let pg: Awaited<ReturnType<typeof startPgliteTwoDoors>> | undefined;
  beforeAll(async () => {
    pg = await startPgliteTwoDoors();
  });
  afterAll(async () => {
    await pg?.stop();
  });
  contractsThroughReadUrl('pglite, the primary itself', () => ({ url: pg!.url, readUrl: pg!.readUrl }));
});

const noReplica = replicaUnavailable();

describe.skipIf(noReplica !== null)(`a real streaming replica${noReplica ? ` (skipped: ${noReplica})` : ''}`, () => {
  const primaryUrl = process.env[TEST_DATABASE_URL_ENV]!;
  let replica: Replica;
  const schemas: string[] = [];
  const opened: PgCatalog[] = [];
  const lines: string[] = [];
  const open = async (readUrl?: string) => {
    const schema = schemas[0]!;
    const c = readUrl ? await openWithReplica(primaryUrl, readUrl, schema, lines) : await PgCatalog.open(primaryUrl, { schema });
    opened.push(c);
    return c;
  };
  /** Sessions of Referent on the replica whose last statement holds `marker`. */
  const seenOnReplica = async (marker: string) =>
    Number((await replica.query<{ n: number }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'referent' AND query LIKE '%${marker.replace(/'/g, "''")}%'`))[0]?.n);

  beforeAll(async () => {
    replica = await startReplica(primaryUrl);
    schemas.push(freshSchema('referent_replica'));
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(opened.map((c) => c.close()));
    for (const schema of schemas) await dropSchema(primaryUrl, schema);
    await replica?.destroy();
  }, 60_000);

  it('is a standby of the test server, and answers the heavy reads', async () => {
    expect((await replica.query<{ standby: boolean }>(`SELECT pg_is_in_recovery() AS standby`))[0]?.standby).toBe(true);
    const catalog = await open(replica.url);
    expect(catalog.location).toContain(`with reads on the replica postgres@127.0.0.1:${new URL(replica.url).port}/`);
    const { collection } = await teach(catalog, 'R-1');
    // A collection id no other statement names: the count's statement is found by it on the replica.
    const marker = 900_000_000 + collection.id;
    expect(await waitUntil(async () => (await catalog.countItems(marker)) === 0 && (await seenOnReplica(`collection_id = '${marker}'`)) > 0, 15_000, 20)).toBe(true);
    expect(catalog.replicaReads.replica).toBeGreaterThan(0);
  });

  it('reads what another catalogue just wrote while the replica replays nothing', async () => {
    const reader = await open(replica.url);
    const writer = await open(); // another server, writing to the primary
    await replica.caughtUp();
    await replica.pause();
    try {
      const { collection, item } = await teach(writer, 'R-2');
      await writer.addText({ entityId: item.entityId!, body: 'taught while the replica slept', source: 'describe' }, embedding(Y));
      // The replica has not got them: an answer from it would miss them.
      expect(await replica.query(`SELECT id FROM "${schemas[0]}".items WHERE id = ${item.id}`)).toEqual([]);
      const primaryBefore = reader.replicaReads.primary;

      expect((await reader.getItem(item.id))?.hash).toBe(item.hash);
      expect([...(await reader.getItems([item.id])).keys()]).toEqual([item.id]);
      expect(await reader.countItems(collection.id)).toBe(1);
      expect((await reader.entityItems(item.entityId!)).map((i) => i.id)).toEqual([item.id]);
      expect((await reader.entityMaterial(item.entityId!, MODEL.modelId))?.texts.map((t) => t.body)).toEqual(['R-2 caption', 'taught while the replica slept']);
      expect((await reader.searchImages(MODEL.modelId, X, 10, new Set([collection.id]))).map((h) => h.itemId)).toEqual([item.id]);
      expect([...(await reader.lexicalMatches({ words: [], identifiers: [], labels: [labelKey('R-2')], collectionIds: new Set([collection.id]) })).named.keys()]).toEqual([item.id]);
      expect(reader.replicaReads.primary).toBeGreaterThanOrEqual(primaryBefore + 7);
    } finally {
      await replica.resume();
    }
    await replica.caughtUp();
    const marker = 910_000_000 + (await reader.countItems());
    expect(await waitUntil(async () => (await reader.countItems(marker)) === 0 && (await seenOnReplica(`collection_id = '${marker}'`)) > 0, 15_000, 20)).toBe(true);
  });

  it('stopped mid-run: reads are answered by the primary, with one line in the log, and go back to it once it is up', async () => {
    const catalog = await open(replica.url);
    const { collection, item } = await teach(catalog, 'R-3');
    lines.length = 0;
    await replica.stop();
    try {
      for (let i = 0; i < 3; i++) expect((await catalog.getItem(item.id))?.id).toBe(item.id);
      expect(await catalog.countItems(collection.id)).toBe(1);
      expect(lines).toEqual([expect.stringMatching(/^Reads go to the primary: (Lost the connection to|Cannot reach) PostgreSQL at postgres@127\.0\.0\.1:\d+\//)]);
    } finally {
      await replica.start();
    }
    const marker = 920_000_000 + collection.id;
    expect(await waitUntil(async () => (await catalog.countItems(marker)) === 0 && (await seenOnReplica(`collection_id = '${marker}'`)) > 0, 30_000, 50)).toBe(true);
    expect(lines.at(-1)).toMatch(/^Reads go to the read replica at .* again\.$/);
  });

  contractsThroughReadUrl('a real streaming replica', () => ({ url: primaryUrl, readUrl: replica.url }));

  describe('two `npm start` servers, the asking one reading from the replica', () => {
    const children: ChildProcess[] = [];
    let dir: string;
    let teacher: ServerProcess;
    let asker: ServerProcess;

    beforeAll(async () => {
      dir = tempDir();
      const schema = freshSchema('referent_replica');
      schemas.push(schema);
      const env = { REFERENT_DATABASE_URL: primaryUrl, REFERENT_DATABASE_SCHEMA: schema, REFERENT_DATA_DIR: path.join(dir, 'data'), REFERENT_MODEL: tinyModelDir, REFERENT_OCR: 'false' };
      const ingest = await runCli(['ingest', await makeColourGallery(path.join(dir, 'img'), 2, ['red', 'blue']), '--collection', 'parts'], { ...env, REFERENT_INDEX_DIR: path.join(dir, 'index-cli') });
      expect(ingest.code, ingest.stderr).toBe(0);
      // A password in the read URL (the test server trusts local connections and ignores it): never printed.
      const readUrl = Object.assign(new URL(replica.url), { password: 's3cret-pw' }).href;
      teacher = await startServerProcess({ ...env, REFERENT_INDEX_DIR: path.join(dir, 'index-a') }, { children });
      asker = await startServerProcess({ ...env, REFERENT_DATABASE_READ_URL: readUrl, REFERENT_INDEX_DIR: path.join(dir, 'index-b') }, { children });
    }, 120_000);

    afterAll(async () => {
      await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((resolve) => (c.once('exit', resolve), c.kill('SIGTERM'))) : undefined)));
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('the banner says where reads go, without the password', () => {
      expect(asker.log()).toMatch(/catalogue: PostgreSQL postgres@127\.0\.0\.1:\d+\/referent with reads on the replica postgres@127\.0\.0\.1:\d+\/referent/);
      expect(asker.log()).not.toContain('s3cret-pw');
    });

    it('what a person teaches through one server, they find through the other while the replica replays nothing', async () => {
      await replica.caughtUp();
      await replica.pause();
      try {
        const teal = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 0, g: 128, b: 128 } } }).png().toBuffer();
        const taught = await say(teacher.base, 'add TEAL-9 in parts: a teal widget', [teal]);
        expect(taught.text).toMatch(/TEAL-9/);
        expect((await say(asker.base, 'TEAL-9')).cards[0]?.title).toBe('TEAL-9');
        expect((await say(asker.base, 'show TEAL-9')).text).toMatch(/a teal widget/);
      } finally {
        await replica.resume();
      }
    });
  });
});

async function say(base: string, text: string, images: Buffer[] = []): Promise<Reply> {
  const body = { text, images: images.map((b) => ({ name: 'photo.png', type: 'image/png', data: b.toString('base64') })) };
  const res = await fetch(`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { replies: Reply[] }).replies[0]!;
}
