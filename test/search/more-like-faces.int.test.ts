/**
 * More like this on an image of a person collection with faces on searches with the image's faces
 * as the catalogue stores them: images showing the same face come first, with face evidence, and no
 * face engine runs (the runtime given here fails if it is asked). On SQLite and on PostgreSQL
 * (PGlite always; the real server with REFERENT_TEST_DATABASE_URL), through a real Referent with the
 * demo encoder. The faces are synthetic, written through catalog.putFaces: what is under test is the
 * ranking, not the engine (test/faces/face-search.int.test.ts runs the engine).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaceBox, NewFace } from '../../src/catalog/catalog.js';
import type { Config } from '../../src/config.js';
import { FACE_MODEL_ID, SAME_FACE_COSINE } from '../../src/faces/face-engine.js';
import { openReferent, type Referent } from '../../src/open.js';
import type { FaceSearchDeps } from '../../src/search/face-search.js';
import { search, type SearchHit } from '../../src/search/search.js';
import { syntheticFace } from '../faces/synthetic-faces.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';

interface Engine {
  name: string;
  config(dataDir: string): Promise<Config>;
  stop(): Promise<void>;
}

const sqlite: Engine = { name: 'sqlite', config: async (dataDir) => testConfig(dataDir), stop: async () => {} };
const postgres = postgresEngines().map((e): Engine => {
  let pg: PgEngine | undefined;
  const schema = freshSchema('referent_more_like_faces');
  return {
    name: e.name,
    async config(dataDir) {
      pg = await e.start();
      return { ...testConfig(dataDir), database: { url: pg.url, schema } };
    },
    async stop() {
      if (!pg) return;
      await dropSchema(pg.url, schema);
      await pg.stop();
    },
  };
});

const limits = { maxTextChars: 500 };
const face = (person: number, n: number, box?: FaceBox): NewFace => ({ ...syntheticFace(person, n), ...(box ? { box } : {}) });

for (const engine of [sqlite, ...postgres]) {
  describe(`More like this by stored faces (${engine.name})`, () => {
    let dir: string;
    let referent: Referent;
    let detections = 0;
    /** A face runtime that must not be used: More like this reads stored faces. */
    const faces: FaceSearchDeps = {
      runtime: {
        detect: async () => {
          detections++;
          throw new Error('More like this ran the face engine');
        },
      },
    };
    const ids: Record<string, number> = {};
    const stored: Record<string, NewFace[]> = {};
    const like = (name: string, withFaces: boolean, extra: { collections?: string[] } = {}) =>
      search(withFaces ? { ...referent, faces } : referent, { likeItem: ids[name]!, limit: 8, ...extra }, limits).then((r) => r.hits);
    const faceMatched = (hits: SearchHit[]) => hits.filter((h) => h.why?.face && h.why.face.queryFace !== null).map((h) => h.itemId);

    beforeAll(async () => {
      dir = tempDir('referent-more-like-faces-');
      referent = await openReferent(await engine.config(path.join(dir, 'data')));
      const { catalog, encoder } = referent;
      const staff = (await catalog.ensureCollection('staff', 'person')).id;
      const parts = (await catalog.ensureCollection('parts', 'part')).id;
      await catalog.setFacesEnabled(staff, true);
      const add = async (name: string, collectionId: number, colour: string, entityLabel: string | null, its: NewFace[] | null) => {
        // The demo encoder understands colours: each image's look is a colour, far from its face.
        const [vector] = await encoder.encodeTexts([`a ${colour} photo`]);
        const item = await catalog.addItem({ collectionId, hash: `h-${name}`, mediaKey: `key-${name}`, width: 400, height: 300, caption: name, entityLabel }, { modelId: encoder.modelId, data: vector! });
        ids[name] = item.id;
        if (its) {
          stored[name] = its;
          expect(await catalog.putFaces(item.id, FACE_MODEL_ID, its)).toBe(true);
        }
      };
      // The liked photo is Ana's (person 0); crimson Bo looks like it, Ana's other photos do not.
      await add('liked', staff, 'red', 'Ana', [face(0, 0, { x: 150, y: 60, width: 90, height: 90 })]);
      await add('bo', staff, 'crimson', 'Bo', [face(1, 0)]);
      await add('ana2', staff, 'navy', 'Ana', [face(0, 1)]);
      await add('stray', staff, 'green', null, [face(0, 2)]);
      // Bo at left and Ana at right on one photo nobody labelled.
      await add('group', staff, 'blue', null, [face(1, 1, { x: 10, y: 40, width: 80, height: 80 }), face(0, 3, { x: 300, y: 40, width: 80, height: 80 })]);
      await add('part-red', parts, 'red', null, null);
      await add('part-orange', parts, 'orange', null, null);
      await referent.references.catchUp();
    }, 120_000);
    afterAll(async () => {
      await referent?.shutdown();
      await engine.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("puts the images showing the liked photo's face first, with face evidence, without the engine", async () => {
      const before = await like('liked', false);
      expect(faceMatched(before)).toEqual([]);
      // By look alone, another person's photo leads.
      expect([ids.bo, ids['part-red']]).toContain(before[0]!.itemId);

      const hits = await like('liked', true);
      expect(detections).toBe(0);
      const expected = [ids.ana2!, ids.stray!, ids.group!].sort((a, b) => a - b);
      expect(faceMatched(hits).sort((a, b) => a - b)).toEqual(expected);
      expect(hits.slice(0, 3).map((h) => h.itemId).sort((a, b) => a - b)).toEqual(expected);
      // Synthetic faces of one person sit at cosine 0.995² ≈ 0.990 from each other.
      const liked = stored.liked![0]!;
      for (const h of hits.slice(0, 3)) {
        expect(h.why!.carriedBy).toBe('face');
        expect(h.why!.face!.cosine).toBeGreaterThanOrEqual(SAME_FACE_COSINE);
        expect(h.why!.summary).toMatch(/^face matches \(0\.99\)/);
        expect(h.why!.face!.queryFace).toBe(0);
        expect(h.why!.face!.queryBox).toEqual(liked.box);
      }
      // On the group photo the face that matched is Ana's, at right, and the card says so.
      const group = hits.find((h) => h.itemId === ids.group)!;
      expect(group.why!.face!.itemFace).toEqual(stored.group![1]!.box);
      expect(group.why!.summary).toContain('the face at right');
      expect(group.why!.summary).not.toContain('looks like');
      // The photo nobody labelled is Ana's by face: she is suggested on it.
      expect(hits.find((h) => h.itemId === ids.stray)!.why!.summary).toMatch(/^face matches \(0\.99\); looks like Ana by face \(0\.99\)/);
      // Bo is not Ana: still there, by look, with no face evidence.
      const bo = hits.find((h) => h.itemId === ids.bo);
      expect(bo?.why?.face ?? null).toBeNull();
      // The liked photo is not among its own results, not even folded into a card.
      expect(hits.map((h) => h.itemId)).not.toContain(ids.liked);
      expect(hits.flatMap((h) => h.more)).not.toContain(ids.liked);
      expect(new Set(hits.map((h) => h.itemId)).size).toBe(hits.length);
    });

    it('leaves More like this on a part as it was', async () => {
      for (const collections of [['parts'], undefined]) {
        const extra = collections ? { collections } : {};
        const before = await like('part-red', false, extra);
        const hits = await like('part-red', true, extra);
        expect(hits.map((h) => h.itemId)).toEqual(before.map((h) => h.itemId));
        expect(faceMatched(hits)).toEqual([]);
        expect(hits.map((h) => h.itemId)).not.toContain(ids['part-red']);
      }
      const inParts = await like('part-red', true, { collections: ['parts'] });
      expect(inParts.map((h) => h.why?.summary)).toEqual((await like('part-red', false, { collections: ['parts'] })).map((h) => h.why?.summary));
      expect(detections).toBe(0);
    });

    it('matches no face once faces are off, and the face records are gone', async () => {
      const staff = (await referent.catalog.findCollection('staff'))!.id;
      await referent.catalog.setFacesEnabled(staff, false);
      const hits = await like('liked', true);
      expect(hits.some((h) => h.why?.face)).toBe(false);
      expect(await referent.catalog.facesOf(ids.liked!)).toEqual([]);
    });
  });
}
