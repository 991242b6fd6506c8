/**
 * `referent faces unknown` and `referent faces name` as a person runs them (the real CLI in a child
 * process), on SQLite and on PostgreSQL (PGlite always; the real server with
 * REFERENT_TEST_DATABASE_URL). The faces are synthetic, written through catalog.putFaces: what is
 * under test is grouping, naming and the checks around them, not the face engine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_MODEL_ID } from '../../src/faces/face-engine.js';
import { openStores } from '../../src/open.js';
import { tempDir, testConfig, tinyModelDir } from '../support/fixtures.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';
import { runCli } from '../support/run-cli.js';
import { syntheticFace } from './synthetic-faces.js';

interface Engine {
  name: string;
  env(dir: string): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

const sqlite: Engine = { name: 'sqlite', env: async () => ({}), stop: async () => {} };
const postgres = postgresEngines().map((e): Engine => {
  let pg: PgEngine | undefined;
  const schema = freshSchema('referent_faces_unknown');
  return {
    name: e.name,
    env: async () => {
      pg = await e.start();
      return { REFERENT_DATABASE_URL: pg.url, REFERENT_DATABASE_SCHEMA: schema };
    },
    stop: async () => {
      if (!pg) return;
      await dropSchema(pg.url, schema);
      await pg.stop();
    },
  };
});

for (const engine of [sqlite, ...postgres]) {
  describe(`referent faces unknown / name (${engine.name})`, () => {
    let dir: string;
    let env: Record<string, string>;
    const ids: Record<string, number> = {};
    const cli = (...args: string[]) => runCli(args, env);

    beforeAll(async () => {
      dir = tempDir('referent-faces-unknown-');
      env = { REFERENT_DATA_DIR: path.join(dir, 'data'), REFERENT_MODEL: tinyModelDir, REFERENT_OCR: 'false', ...(await engine.env(dir)) };
      const stores = await openStores(testConfig(env.REFERENT_DATA_DIR!, env));
      try {
        const { catalog } = stores;
        await catalog.setModel({ modelId: 'faces-unknown-test', dim: 4 });
        const staff = (await catalog.ensureCollection('staff', 'person')).id;
        await catalog.ensureCollection('parts', 'other');
        await catalog.ensureCollection('guests', 'person');
        await catalog.setFacesEnabled(staff, true);
        let n = 0;
        const add = async (name: string, person: number, entityLabel?: string) => {
          const item = await catalog.addItem(
            { collectionId: staff, hash: `h-${name}`, mediaKey: `key-${name}`, width: 400, height: 300, ...(entityLabel ? { entityLabel } : {}) },
            { modelId: 'faces-unknown-test', data: new Float32Array([1, 0, 0, 0]) },
          );
          ids[name] = item.id;
          expect(await catalog.putFaces(item.id, FACE_MODEL_ID, [syntheticFace(person, n++)])).toBe(true);
        };
        // Ana is labelled; one unlabelled photo of her; Bo twice and Cy once, nobody named.
        await add('ana', 0, 'Ana');
        await add('ana2', 0);
        await add('bo1', 1);
        await add('bo2', 1);
        await add('cy', 2);
      } finally {
        await stores.close();
      }
    }, 120_000);
    afterAll(async () => {
      await engine.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('lists the unknown groups largest first, leaves out a labelled person, and audits the look', async () => {
      const run = await cli('faces', 'unknown', '--json');
      expect(run.code, run.stderr).toBe(0);
      const { collections } = JSON.parse(run.stdout) as { collections: Array<{ collection: string; groups: Array<{ id: number; photos: number; sample: { itemId: number }; itemIds: number[] }> }> };
      expect(collections.map((c) => c.collection)).toEqual(['staff']);
      const groups = collections[0]!.groups;
      expect(groups.map((g) => g.itemIds)).toEqual([[ids.bo1, ids.bo2], [ids.cy]]);
      expect(groups[0]!.photos).toBe(2);
      // The sample is the surer face of the two (syntheticFace scores rise with n).
      expect(groups[0]!.sample.itemId).toBe(ids.bo2);

      const text = await cli('faces', 'unknown', 'staff');
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain('staff: 2 unknown face groups');
      expect(text.stdout).toMatch(new RegExp(`group ${groups[0]!.id}: 2 photos, sample image #${ids.bo2} at \\d+,\\d+ \\d+x\\d+`));
      const audit = await cli('audit', '--json');
      expect(audit.code, audit.stderr).toBe(0);
      expect(audit.stdout).toContain('faces unknown');
    }, 60_000);

    it('refuses a collection that is not of people, has faces off, or is not there', async () => {
      const parts = await cli('faces', 'unknown', 'parts');
      expect(parts.code).toBe(2);
      expect(parts.stderr).toContain('parts is not a person collection');
      const off = await cli('faces', 'unknown', 'guests');
      expect(off.code).toBe(2);
      expect(off.stderr).toContain('Faces are off for guests: `referent faces on guests` switches them on.');
      const missing = await cli('faces', 'unknown', 'nowhere');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('There is no collection named "nowhere"');
      expect((await cli('faces', 'name', '12')).code).toBe(2);
    }, 60_000);

    it('names a group: its photos become the person, and the group is no longer unknown', async () => {
      const list = JSON.parse((await cli('faces', 'unknown', '--json')).stdout) as { collections: Array<{ groups: Array<{ id: number }> }> };
      const bo = list.collections[0]!.groups[0]!.id;
      const named = await cli('faces', 'name', String(bo), 'Bo');
      expect(named.code, named.stderr).toBe(0);
      expect(named.stdout).toBe('Named 2 photos in staff as Bo.\n');
      const stores = await openStores(testConfig(env.REFERENT_DATA_DIR!, env));
      try {
        const [entity] = await stores.catalog.findEntities('Bo');
        expect((await stores.catalog.entityItems(entity!.id)).map((i) => i.id).sort((a, b) => a - b)).toEqual([ids.bo1, ids.bo2]);
      } finally {
        await stores.close();
      }
      const after = JSON.parse((await cli('faces', 'unknown', '--json')).stdout) as { collections: Array<{ groups: Array<{ itemIds: number[] }> }> };
      expect(after.collections[0]!.groups.map((g) => g.itemIds)).toEqual([[ids.cy]]);
      const again = await cli('faces', 'name', String(bo), 'Bo');
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`There is no unknown face group ${bo} now`);
    }, 60_000);
  });
}
