/** The entity half of the catalogue: texts with phrases, the entity log, verdicts and forgetting. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrations, SCHEMA_VERSION } from '../../src/catalog/migrations.js';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';

const vec = (...xs: number[]) => new Float32Array(xs);
const model = 'test/model';
const embedding = (v: Float32Array, phrases: string[] = []) => ({ modelId: model, vector: v, phrases: phrases.map((body) => ({ body, vector: v })) });

describe('SqliteCatalog entities', () => {
  let dir: string;
  let catalog: SqliteCatalog;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-entities-'));
    catalog = SqliteCatalog.open(path.join(dir, 'catalog.sqlite'));
  });
  afterEach(() => {
    catalog.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const parts = () => catalog.ensureCollection('parts', 'part');
  const addItem = (hash: string, entityLabel?: string, caption?: string) =>
    catalog.addItem(
      { collectionId: parts().id, hash, mediaKey: `m-${hash}`, width: 1, height: 1, ...(entityLabel ? { entityLabel } : {}), ...(caption ? { caption } : {}) },
      { modelId: model, data: vec(1, 0) },
      caption ? embedding(vec(0, 1), [caption]) : null,
    );

  it('migrates a version 1 catalogue to the current version and keeps its vectors', () => {
    const file = path.join(dir, 'old.sqlite');
    const db = new Database(file);
    db.exec(migrations[0]!);
    db.pragma('user_version = 1');
    db.prepare(`INSERT INTO collections (name, kind, created_at) VALUES ('c', 'part', 0)`).run();
    db.prepare(`INSERT INTO items (collection_id, hash, media_key, width, height, created_at) VALUES (1, 'h', 'k', 1, 1, 0)`).run();
    db.prepare(`INSERT INTO vectors (owner_kind, owner_id, model_id, dim, data) VALUES ('item', 1, ?, 2, ?)`).run(model, Buffer.from(vec(0.6, 0.8).buffer));
    db.close();
    const migrated = SqliteCatalog.open(file);
    try {
      expect(migrated.schemaVersion()).toBe(SCHEMA_VERSION);
      expect(migrated.platformFile({ platform: 'slack', workspace: 'T1', mediaKey: 'k' })).toBeNull();
      expect([...migrated.itemVectors(model, 0, 1000)[0]!.vector]).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
      expect(migrated.lastEntitySeq()).toBe(0);
    } finally {
      migrated.close();
    }
  });

  it('gathers an entity’s material: linked photos, its texts, captions of its photos and their phrases', () => {
    const a = addItem('a', 'P-1', 'hex bolt, zinc');
    addItem('b');
    const entity = catalog.findEntities('P-1')[0]!;
    catalog.addText({ entityId: entity.id, body: 'M8', source: 'describe' }, embedding(vec(0, 1), ['M8']));
    catalog.addText({ entityId: entity.id, body: 'no vector yet', source: 'import' }, null);
    const m = catalog.entityMaterial(entity.id, model)!;
    expect(m.images.map((i) => i.itemId)).toEqual([a.id]);
    expect(m.texts.map((t) => [t.body, t.source])).toEqual([
      ['hex bolt, zinc', 'caption'],
      ['M8', 'describe'],
    ]);
    expect(m.phrases.map((p) => p.body)).toEqual(['hex bolt, zinc', 'M8']);
    expect(catalog.entityMaterial(entity.id, 'other/model')!.images).toEqual([]);
    expect(catalog.textsWithoutVector(model, 10)).toEqual([{ kind: 'text', id: expect.any(Number), body: 'no vector yet' }]);
  });

  it('logs every change that touches an entity, so references can follow', () => {
    const start = catalog.lastEntitySeq();
    const item = addItem('a', 'P-1');
    const other = addItem('b');
    const p1 = catalog.findEntities('P-1')[0]!;
    const p2 = catalog.ensureEntity(parts().id, 'P-2');
    catalog.linkItem(other.id, p2.id);
    catalog.linkItem(item.id, p2.id);
    const changes = catalog.entityChangesSince(start);
    expect(changes.entityIds.sort()).toEqual([p1.id, p2.id].sort());
    expect(changes.seq).toBe(catalog.lastEntitySeq());
    expect(catalog.entityChangesSince(changes.seq)).toEqual({ seq: changes.seq, entityIds: [] });
    catalog.removeItem(other.id);
    expect(catalog.entityChangesSince(changes.seq).entityIds).toEqual([p2.id]);
  });

  it('a confirm links, keeps the query as a description, and undo reverts both in one step', () => {
    const item = addItem('a');
    const entity = catalog.ensureEntity(parts().id, 'P-1');
    const v = catalog.addVerdict({ query: 'zinc bolt', itemId: item.id, entityId: entity.id, verdict: 'confirm', user: 'U1' }, embedding(vec(0, 1), ['zinc bolt']));
    expect(v).toMatchObject({ linked: true, textId: expect.any(Number), undoneAt: null, user: 'U1' });
    expect(catalog.getItem(item.id)!.entityId).toBe(entity.id);
    expect(catalog.entityMaterial(entity.id, model)!.texts.map((t) => t.source)).toEqual(['review']);
    // Given on a photo of the entity it names (the link it made), the verdict speaks for the entity.
    expect(catalog.verdictsOn([item.id], model)).toEqual([{ id: v.id, itemId: item.id, entityId: entity.id, verdict: 'confirm', vector: vec(0, 1) }]);
    expect(catalog.entityVerdictsOn([entity.id], model).map((r) => r.id)).toEqual([v.id]);

    const undone = catalog.undoVerdict(v.id)!;
    expect(undone.undoneAt).not.toBeNull();
    expect(catalog.getItem(item.id)!.entityId).toBeNull();
    expect(catalog.entityMaterial(entity.id, model)!.texts).toEqual([]);
    expect(catalog.verdictsOn([item.id], model)).toEqual([]);
    expect(catalog.entityVerdictsOn([entity.id], model)).toEqual([]);
    expect(catalog.undoVerdict(v.id)).toBeNull();
  });

  it('a reject records the pair without linking anything', () => {
    const item = addItem('a');
    const v = catalog.addVerdict({ query: 'brass', itemId: item.id, entityId: null, verdict: 'reject' }, embedding(vec(1, 0)));
    expect(v).toMatchObject({ linked: false, textId: null, verdict: 'reject' });
    expect(catalog.getItem(item.id)!.entityId).toBeNull();
  });

  it('verdicts another process gives or undoes are seen on the next read (the in-memory verdict cache follows)', () => {
    const item = addItem('a');
    const other = addItem('b');
    expect(catalog.verdictsOn([item.id, other.id], model)).toEqual([]);
    const second = SqliteCatalog.open(path.join(dir, 'catalog.sqlite'));
    try {
      const v = second.addVerdict({ query: 'brass', itemId: item.id, entityId: null, verdict: 'reject' }, embedding(vec(1, 0)));
      expect(catalog.verdictsOn([item.id, other.id], model)).toEqual([{ id: v.id, itemId: item.id, entityId: null, verdict: 'reject', vector: vec(1, 0) }]);
      expect(catalog.verdictsOn([other.id], model)).toEqual([]);
      second.undoVerdict(v.id);
      expect(catalog.verdictsOn([item.id], model)).toEqual([]);
      // An add and an undo between two reads still show: the newest id moved.
      const w = second.addVerdict({ query: 'zinc', itemId: other.id, entityId: null, verdict: 'reject' }, embedding(vec(0, 1)));
      const x = second.addVerdict({ query: 'steel', itemId: item.id, entityId: null, verdict: 'reject' }, embedding(vec(1, 0)));
      second.undoVerdict(w.id);
      expect(catalog.verdictsOn([item.id, other.id], model).map((r) => r.id)).toEqual([x.id]);
      expect(catalog.verdictsOn([item.id], 'another/model')).toEqual([]);
    } finally {
      second.close();
    }
  });

  it('forgetting an entity scrubs its photos, texts, phrases, verdicts and vectors', () => {
    const a = addItem('a', 'P-1', 'secret caption');
    const b = addItem('b', 'P-1');
    const keep = addItem('c', 'P-2');
    const entity = catalog.findEntities('P-1')[0]!;
    catalog.addVerdict({ query: 'q', itemId: a.id, entityId: entity.id, verdict: 'reject' }, embedding(vec(1, 0)));
    const result = catalog.forgetEntity(entity.id);
    expect(result.itemIds.sort()).toEqual([a.id, b.id].sort());
    expect(result.orphanedMedia.sort()).toEqual(['m-a', 'm-b']);
    expect(catalog.getItem(a.id)).toBeNull();
    expect(catalog.findEntities('P-1')).toEqual([]);
    expect(catalog.entityMaterial(entity.id, model)).toBeNull();
    expect(catalog.getItem(keep.id)).not.toBeNull();
    catalog.close();
    const db = new Database(path.join(dir, 'catalog.sqlite'), { readonly: true });
    try {
      const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      expect(count(`SELECT COUNT(*) AS n FROM texts WHERE body = 'secret caption'`)).toBe(0);
      expect(count(`SELECT COUNT(*) AS n FROM items WHERE caption = 'secret caption'`)).toBe(0);
      expect(count(`SELECT COUNT(*) AS n FROM phrases`)).toBe(0);
      expect(count(`SELECT COUNT(*) AS n FROM feedback`)).toBe(0);
      expect(count(`SELECT COUNT(*) AS n FROM vectors`)).toBe(1); // only the kept item's
    } finally {
      db.close();
      catalog = SqliteCatalog.open(path.join(dir, 'catalog.sqlite'));
    }
  });

  it('does not orphan media still used by a live item in another collection', () => {
    const a = addItem('a', 'P-1');
    const other = catalog.ensureCollection('other');
    catalog.addItem({ collectionId: other.id, hash: 'a', mediaKey: a.mediaKey, width: 1, height: 1 }, { modelId: model, data: vec(1, 0) });
    expect(catalog.forgetEntity(catalog.findEntities('P-1')[0]!.id).orphanedMedia).toEqual([]);
  });
});
