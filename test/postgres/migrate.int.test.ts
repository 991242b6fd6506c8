/**
 * `referent migrate --to postgres://…`: a data folder whose catalogue has rows in every table, written
 * through the product's own paths, moved into PostgreSQL by the real CLI (child processes) and by the
 * core it runs. Afterwards PgCatalog answers every read as the SQLite catalogue did, new rows get ids
 * past the copied ones, the data folder has not changed by a byte, a run killed with SIGKILL goes on
 * where it stopped, a difference is found and named, and a schema holding another catalogue is
 * refused. Runs on PGlite, and on the real server when REFERENT_TEST_DATABASE_URL is set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncCatalog } from '../../src/catalog/async-catalog.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { importSqlite } from '../../src/catalog/postgres/pg-import.js';
import { DERIVED_PG_TABLES, IMPORT_TABLES, isDerivedSqliteTable } from '../../src/catalog/postgres/pg-import-tables.js';
import { openPgDb } from '../../src/catalog/postgres/pg-pool.js';
import { openSqliteSnapshot, SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { ErrorCode, isReferentError } from '../../src/errors.js';
import type { Progress } from '../../src/progress.js';
import { tempDir } from '../support/fixtures.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';
import { runCli, spawnCli } from '../support/run-cli.js';
import { catalogueReads, folderDigest, makeSourceFolder, type SourceFacts } from './migrate-source.js';

const TABLES = IMPORT_TABLES.map((t) => t.name);

/** The verification table the CLI prints: table → rows, checksum, ok. */
function printedChecks(stdout: string): Map<string, { rows: string; digest: string; ok: boolean }> {
  return new Map([...stdout.matchAll(/^(\w+) +(\d+(?:\/\d+)?) +(\S+) +(ok|DIFFERS)$/gm)].map((m) => [m[1]!, { rows: m[2]!, digest: m[3]!, ok: m[4] === 'ok' }]));
}

async function expectCode(run: Promise<unknown>, code: string): Promise<void> {
  const err = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isReferentError(err) ? err.code : err).toBe(code);
}

/** Audit entries added to a copy of the source for the resume test: enough one-row batches that a run is still copying when it is killed. */
const EXTRA_AUDIT = 1500;

let root: string;
let facts: SourceFacts;
/** The source folder with EXTRA_AUDIT more audit entries. */
let bigDir: string;

/** The catalogue copies migrate runs left in a temporary folder. */
const copiesIn = (dir: string) => fs.readdirSync(dir).filter((n) => n.startsWith('referent-migrate-'));

beforeAll(async () => {
  root = tempDir('referent-migrate-test-');
  facts = await makeSourceFolder(root);
  bigDir = path.join(root, 'big');
  fs.cpSync(facts.dataDir, bigDir, { recursive: true });
  const big = SqliteCatalog.open(path.join(bigDir, 'catalog.sqlite'));
  for (let i = 0; i < EXTRA_AUDIT; i++) big.addAudit({ user: 'U7', platform: 'slack', scope: 'T1/C1', collectionId: 1, query: `query ${i}` });
  big.close();
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('referent migrate: the data folder side', () => {
  it('knows every table of the SQLite catalogue: each is copied, or is an index of what is', () => {
    expect(fs.existsSync(`${path.join(facts.dataDir, 'catalog.sqlite')}-wal`)).toBe(false);
    const copy = path.join(root, 'tables-copy.sqlite');
    fs.copyFileSync(path.join(facts.dataDir, 'catalog.sqlite'), copy);
    const snapshot = openSqliteSnapshot(copy);
    try {
      const tables = snapshot.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`).map((r) => r.name);
      const read = new Set(IMPORT_TABLES.flatMap((t) => t.reads));
      expect(tables.filter((t) => !read.has(t) && !isDerivedSqliteTable(t))).toEqual([]);
      expect([...read].filter((t) => !tables.includes(t))).toEqual([]);
    } finally {
      snapshot.close();
      for (const f of fs.readdirSync(root).filter((n) => n.startsWith('tables-copy'))) fs.rmSync(path.join(root, f));
    }
  });

  it('says so when the data folder holds no catalogue, and creates nothing', async () => {
    const empty = path.join(root, 'no-catalogue');
    const result = await runCli(['migrate', '--to', 'postgres://postgres@127.0.0.1:1/none'], { REFERENT_DATA_DIR: empty });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^referent: There is no catalogue to move: .*no-catalogue.catalog\.sqlite does not exist/m);
    expect(fs.existsSync(empty)).toBe(false);
  }, 60_000);
});

for (const engine of postgresEngines()) {
  describe(`referent migrate into PostgreSQL (${engine.name})`, () => {
    let pg: PgEngine;
    let tmp: string;
    const schemas: string[] = [];
    const schema = (prefix: string) => {
      const name = freshSchema(prefix);
      schemas.push(name);
      return name;
    };
    const main = schema('referent_migrate');
    const resumed = schema('referent_resume');
    const cli = (args: string[]) => runCli(['migrate', '--to', pg.url, ...args], { REFERENT_DATA_DIR: facts.dataDir, TMPDIR: tmp });
    let mainChecks: ReturnType<typeof printedChecks>;

    beforeAll(async () => {
      pg = await engine.start();
      tmp = tempDir('referent-migrate-tmp-');
    }, 60_000);

    afterAll(async () => {
      if (pg) {
        for (const s of schemas) await dropSchema(pg.url, s);
        await pg.stop();
      }
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }, 60_000);

    it('copies every table, verifies each, says what to do next, and leaves the data folder as it was', async () => {
      const before = folderDigest(facts.dataDir);
      const result = await cli(['--schema', main]);
      expect(result.code, result.stderr).toBe(0);
      mainChecks = printedChecks(result.stdout);
      expect([...mainChecks.keys()]).toEqual(TABLES);
      for (const [table, check] of mainChecks) {
        expect(check.ok, table).toBe(true);
        expect(Number(check.rows), `${table} has rows`).toBeGreaterThan(0);
      }
      expect(result.stderr).toMatch(/Copying to PostgreSQL: \d+ rows/);
      expect(result.stdout).toContain(`REFERENT_DATABASE_SCHEMA=${main}`);
      expect(result.stdout).toContain(`REFERENT_DATA_DIR=${facts.dataDir}`);
      expect(result.stdout).toMatch(/REFERENT_DATABASE_URL=postgres:\/\//);
      expect(folderDigest(facts.dataDir)).toEqual(before);
      // Its copy of the catalogue is gone with it.
      expect(copiesIn(tmp)).toEqual([]);
    }, 120_000);

    it('holds the catalogue in the tables PgCatalog reads, and nothing else but its bookkeeping', async () => {
      const db = openPgDb(pg.url, { max: 1 });
      try {
        const tables = await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, [main]);
        expect(tables.map((t) => t.name).sort()).toEqual([...TABLES, ...DERIVED_PG_TABLES, 'schema_version', 'import_source', 'import_progress'].sort());
        const [stamps] = await db.query<{ copied: boolean; verified: boolean }>(`SELECT copied_at IS NOT NULL AS copied, verified_at IS NOT NULL AS verified FROM "${main}".import_source`);
        expect(stamps).toEqual({ copied: true, verified: true });
      } finally {
        await db.close();
      }
    });

    it('answers every read as the SQLite catalogue did', async () => {
      // The original is read on a copy of the folder: opening it writable is a change of its own.
      const copy = path.join(tmp, 'compare');
      fs.cpSync(facts.dataDir, copy, { recursive: true });
      const sqlite = asyncCatalog(SqliteCatalog.open(path.join(copy, 'catalog.sqlite')));
      const postgres = await PgCatalog.open(pg.url, { schema: main, listen: false });
      try {
        const expected = await catalogueReads(sqlite, facts);
        expect(await catalogueReads(postgres, facts)).toEqual(expected);
        // The reads are not empty: they saw the identifier, the label, the verdicts and the forgotten entity.
        expect((expected.byIdentifier as { identifiers: Map<number, unknown> }).identifiers.size).toBe(1);
        expect((expected.byLabel as { named: Map<number, unknown> }).named.size).toBeGreaterThan(0);
        expect((expected.verdictsOn as unknown[]).length).toBeGreaterThan(0);
        expect((expected.audit as unknown[]).length).toBe(1);
      } finally {
        await sqlite.close();
        await postgres.close();
        fs.rmSync(copy, { recursive: true, force: true });
      }
    }, 60_000);

    it('gives new rows ids past the copied ones', async () => {
      const db = openPgDb(pg.url, { max: 1 });
      const catalog = await PgCatalog.open(pg.url, { schema: main, listen: false });
      try {
        const max = async (table: string, column = 'id') => (await db.query<{ n: number }>(`SELECT COALESCE(MAX(${column}), 0) AS n FROM "${main}".${table}`))[0]!.n;
        const before = { collections: await max('collections'), items: await max('items'), entities: await max('entities'), texts: await max('texts'), audit: await max('audit') };
        const seqs = { log: await catalog.lastLogSeq(), entityLog: await catalog.lastEntitySeq() };
        const model = (await catalog.getModel())!;
        const collection = await catalog.ensureCollection('after-the-move');
        const item = await catalog.addItem(
          { collectionId: collection.id, hash: 'after-the-move', mediaKey: 'after-the-move', width: 1, height: 1, entityLabel: 'NEW-1' },
          { modelId: model.modelId, data: Float32Array.from({ length: model.dim }, (_, i) => (i === 0 ? 1 : 0)) },
        );
        const textId = await catalog.addText({ entityId: item.entityId!, body: 'added after the move', source: 'describe' }, null);
        await catalog.addAudit({ user: 'U9', platform: 'slack', scope: 'T1', collectionId: collection.id, query: 'after the move' });
        expect(collection.id).toBeGreaterThan(before.collections);
        expect(item.id).toBeGreaterThan(before.items);
        expect(item.entityId!).toBeGreaterThan(before.entities);
        expect(textId).toBeGreaterThan(before.texts);
        expect((await catalog.listAudit(1))[0]!.id).toBeGreaterThan(before.audit);
        expect(await catalog.lastLogSeq()).toBe(seqs.log + 1);
        expect(await catalog.lastEntitySeq()).toBeGreaterThan(seqs.entityLog);
      } finally {
        await catalog.close();
        await db.close();
      }
    }, 60_000);

    it('stops cleanly on Ctrl-C, goes on where a run killed with SIGKILL stopped, and copies no row twice', async () => {
      const env = { REFERENT_DATA_DIR: bigDir, TMPDIR: tmp };
      /**
       * Runs migrate with one row per transaction and sends `signal` once its progress shows rows past
       * `past` committed by this run (a tenth of the rest, with over a thousand transactions to go).
       */
      const interrupt = async (signal: NodeJS.Signals, past: number) => {
        const child = spawnCli(['migrate', '--to', pg.url, '--schema', resumed, '--batch', '1'], env);
        let stderr = '';
        const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
          child.stderr!.on('data', (d: Buffer) => {
            stderr += d.toString();
            const shown = [...stderr.matchAll(/Copying to PostgreSQL: (\d+)\/\d+ rows/g)].map((m) => Number(m[1]));
            if (shown.some((n) => n > past) && !child.killed) child.kill(signal);
          });
          child.on('exit', (code, sig) => resolve({ code, signal: sig }));
        });
        return { ...exit, stderr };
      };
      /** The bookkeeping, checked against the tables: each batch committed with it, so they hold exactly what it says. */
      const copiedSoFar = async (): Promise<number> => {
        const db = openPgDb(pg.url, { max: 1 });
        try {
          const [source] = await db.query<{ copied_at: unknown }>(`SELECT copied_at FROM "${resumed}".import_source`);
          expect(source!.copied_at).toBeNull();
          const progress = await db.query<{ table_name: string; copied: number; done: boolean }>(`SELECT table_name, copied, done FROM "${resumed}".import_progress`);
          expect(progress.some((p) => !p.done)).toBe(true);
          for (const p of progress) {
            const [row] = await db.query<{ n: number }>(`SELECT count(*) AS n FROM "${resumed}"."${p.table_name}"`);
            expect(row!.n, p.table_name).toBe(p.copied);
          }
          return progress.reduce((n, p) => n + p.copied, 0);
        } finally {
          await db.close();
        }
      };

      const stopped = await interrupt('SIGINT', 0);
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.stderr).toMatch(/Interrupted: \d+ rows are in PostgreSQL\. Run the same command again to go on\./);
      const afterStop = await copiedSoFar();
      expect(afterStop).toBeGreaterThan(0);
      // A clean stop removes its copy of the catalogue.
      expect(copiesIn(tmp)).toEqual([]);

      const killed = await interrupt('SIGKILL', afterStop);
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect(killed.stderr).toMatch(/Resuming: \d+ of \d+ rows were copied by an earlier run/);
      expect(await copiedSoFar()).toBeGreaterThan(afterStop);
      // The killed run left its copy behind; the next run removes it.
      expect(copiesIn(tmp).length).toBe(1);

      const again = await runCli(['migrate', '--to', pg.url, '--schema', resumed], env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/Resuming: \d+ of \d+ rows were copied by an earlier run/);
      const checks = printedChecks(again.stdout);
      expect([...checks.values()].every((c) => c.ok)).toBe(true);
      expect(checks.get('audit')!.rows).toBe(String(1 + EXTRA_AUDIT));
      // Every other table is the same as the uninterrupted copy, checksum for checksum.
      checks.delete('audit');
      expect(checks).toEqual(new Map([...mainChecks].filter(([t]) => t !== 'audit')));
      expect(copiesIn(tmp)).toEqual([]);
    }, 240_000);

    it('finds a row that differs, names it, and exits 1', async () => {
      const db = openPgDb(pg.url, { max: 1 });
      try {
        await db.query(`UPDATE "${resumed}".items SET caption = 'not what the data folder says' WHERE id = 1`);
      } finally {
        await db.close();
      }
      const result = await runCli(['migrate', '--to', pg.url, '--schema', resumed], { REFERENT_DATA_DIR: bigDir, TMPDIR: tmp });
      expect(result.code, result.stderr).toBe(1);
      const checks = printedChecks(result.stdout);
      expect([...checks].filter(([, c]) => !c.ok).map(([t]) => t)).toEqual(['items']);
      // The ten parts and the staff photo with faces.
      expect(result.stdout).toMatch(/items: 11 rows in the data folder, 11 in PostgreSQL; first difference: the row at id=1/);
    }, 60_000);

    it('refuses a schema that holds a catalogue of its own, and leaves nothing there', async () => {
      const taken = schema('referent_taken');
      const other = await PgCatalog.open(pg.url, { schema: taken, listen: false });
      await other.ensureCollection('already-here');
      await other.close();
      const result = await cli(['--schema', taken]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^referent: PostgreSQL at .* \(schema referent_taken_\w+\) already holds a catalogue \(rows in collections\)\. Use another --schema, or empty this one/m);
      const db = openPgDb(pg.url, { max: 1 });
      try {
        const [found] = await db.query<{ t: string | null }>(`SELECT to_regclass($1) AS t`, [`"${taken}".import_progress`]);
        expect(found!.t).toBeNull();
      } finally {
        await db.close();
      }
    }, 60_000);

    it('refuses a schema filled from another catalogue', async () => {
      const otherDir = path.join(tmp, 'other');
      const other = SqliteCatalog.open(path.join(otherDir, 'catalog.sqlite'));
      other.ensureCollection('another-gallery');
      other.close();
      try {
        await expectCode(importSqlite({ catalogFile: path.join(otherDir, 'catalog.sqlite'), url: pg.url, schema: main }), ErrorCode.UsageInvalid);
      } finally {
        fs.rmSync(otherDir, { recursive: true, force: true });
      }
    }, 60_000);

    it('copies a catalogue a server has open from one snapshot, leaving out what is written meanwhile', async () => {
      const copy = path.join(tmp, 'in-use');
      fs.cpSync(facts.dataDir, copy, { recursive: true });
      const file = path.join(copy, 'catalog.sqlite');
      const server = SqliteCatalog.open(file);
      const target = schema('referent_live');
      let wrote = false;
      // The first committed batch is the moment the "server" writes: after the snapshot was taken.
      const progress: Progress = {
        start() {},
        tick() {
          if (wrote) return;
          wrote = true;
          server.addAudit({ user: 'U8', platform: 'slack', scope: 'T1', collectionId: 1, query: 'written during the move' });
          server.ensureCollection('written-during-the-move');
        },
        stop() {},
      };
      try {
        expect(fs.existsSync(`${file}-wal`)).toBe(true);
        const report = await importSqlite({ catalogFile: file, url: pg.url, schema: target, batchSize: 4, progress });
        expect(wrote).toBe(true);
        expect(report.mode).toBe('live');
        expect(report.ok).toBe(true);
        const counts = new Map(report.checks.map((c) => [c.table, c.targetRows]));
        expect(counts.get('audit')).toBe(1);
        // parts and staff (the person collection with faces): not the one written meanwhile.
        expect(counts.get('collections')).toBe(2);
        expect(server.listAudit(10).length).toBe(2);
      } finally {
        server.close();
        fs.rmSync(copy, { recursive: true, force: true });
      }
    }, 60_000);

    it('gives the one-line errors of a database it cannot use', async () => {
      const file = path.join(facts.dataDir, 'catalog.sqlite');
      await expectCode(importSqlite({ catalogFile: file, url: 'mysql://root@127.0.0.1/referent', schema: schema('referent_bad') }), ErrorCode.ConfigInvalid);
      await expectCode(importSqlite({ catalogFile: file, url: pg.refused[0]!.url, schema: schema('referent_bad') }), ErrorCode.DatabaseUnavailable);
      if (pg.withoutVector) {
        const bare = await pg.withoutVector();
        try {
          await expectCode(importSqlite({ catalogFile: file, url: bare.url, schema: 'referent_novector' }), ErrorCode.DatabaseUnsupported);
        } finally {
          await bare.stop();
        }
      }
    }, 60_000);
  });
}
