/**
 * unknownFaceGroups over a real SQLite catalogue: it reads every page of a collection's faces (more
 * than one page of 500 here), leaves out labelled photos and the faces of labelled people, and says
 * when it grouped only the first faces. Synthetic faces through catalog.putFaces.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_MODEL_ID } from '../../src/faces/face-engine.js';
import { nameFaceGroup, unknownFaceGroups } from '../../src/faces/face-clusters.js';
import { openStores, type Stores } from '../../src/open.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { syntheticFace } from './synthetic-faces.js';

describe('unknownFaceGroups on a catalogue', () => {
  let dir: string;
  let stores: Stores;
  let staff: number;
  let other: number;

  beforeAll(async () => {
    dir = tempDir('referent-face-clusters-');
    stores = await openStores(testConfig(path.join(dir, 'data')));
    const { catalog } = stores;
    await catalog.setModel({ modelId: 'clusters-test', dim: 4 });
    staff = (await catalog.ensureCollection('staff', 'person')).id;
    other = (await catalog.ensureCollection('guests', 'person')).id;
    await catalog.setFacesEnabled(staff, true);
    await catalog.setFacesEnabled(other, true);
    const add = async (collectionId: number, n: number, person: number, entityLabel?: string) => {
      const item = await catalog.addItem(
        { collectionId, hash: `h-${collectionId}-${n}`, mediaKey: `k-${collectionId}-${n}`, width: 10, height: 10, ...(entityLabel ? { entityLabel } : {}) },
        { modelId: 'clusters-test', data: new Float32Array([1, 0, 0, 0]) },
      );
      expect(await catalog.putFaces(item.id, FACE_MODEL_ID, [syntheticFace(person, n)])).toBe(true);
    };
    // 520 unlabelled photos of 8 people (65 each); person 0 also has a labelled photo; person 9 is in another collection.
    for (let n = 0; n < 520; n++) await add(staff, n, n % 8);
    await add(staff, 520, 0, 'Ana');
    await add(other, 0, 9);
  }, 120_000);
  afterAll(async () => {
    await stores?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('groups every unknown face of the collection, across pages, without the labelled person', async () => {
    const { groups, faces, truncated } = await unknownFaceGroups(stores.catalog, staff);
    expect(truncated).toBe(false);
    expect(groups).toHaveLength(7);
    expect(faces).toBe(7 * 65);
    expect(groups.every((g) => g.itemIds.length === 65 && g.collectionId === staff)).toBe(true);
    // Ids are each group's smallest face id: person 1's first face is the second face stored.
    expect(groups.map((g) => g.id)).toEqual([...groups.map((g) => g.id)].sort((a, b) => a - b));
  });

  it('groups only the first faces when asked for fewer, and says so', async () => {
    const { faces, truncated, groups } = await unknownFaceGroups(stores.catalog, staff, { maxFaces: 40 });
    expect(truncated).toBe(true);
    // The first 40 faces of unlabelled photos: 5 of each of the 8 people, then person 0's left out as Ana's.
    expect(faces).toBe(35);
    expect(groups.map((g) => g.faces.length)).toEqual([5, 5, 5, 5, 5, 5, 5]);
  });

  it("names a group in its own collection only, and not twice", async () => {
    const [guest] = (await unknownFaceGroups(stores.catalog, other)).groups;
    await expect(nameFaceGroup(stores.catalog, staff, guest!.id, 'Gus')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const { group, entityId } = await nameFaceGroup(stores.catalog, other, guest!.id, 'Gus');
    expect((await stores.catalog.entityItems(entityId)).map((i) => i.id)).toEqual(group.itemIds);
    await expect(nameFaceGroup(stores.catalog, other, guest!.id, 'Gus')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
