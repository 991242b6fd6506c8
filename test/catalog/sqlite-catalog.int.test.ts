import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/catalog/migrations.js';
import { SqliteCatalog } from '../../src/catalog/sqlite-catalog.js';
import { ErrorCode } from '../../src/errors.js';

const vec = (...xs: number[]) => new Float32Array(xs);
const model = 'test/model';

describe('SqliteCatalog', () => {
  let dir: string;
  let catalog: SqliteCatalog;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-catalog-'));
    catalog = SqliteCatalog.open(path.join(dir, 'catalog.sqlite'));
  });
  afterEach(() => {
    catalog.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const addItem = (hash: string, extra: Partial<Parameters<SqliteCatalog['addItem']>[0]> = {}) => {
    const c = catalog.ensureCollection('parts', 'part');
    return catalog.addItem({ collectionId: c.id, hash, mediaKey: hash, width: 10, height: 10, ...extra }, { modelId: model, data: vec(1, 0) });
  };

  it('migrates a new file to the current schema and is idempotent on reopen', () => {
    expect(catalog.schemaVersion()).toBe(SCHEMA_VERSION);
    catalog.close();
    catalog = SqliteCatalog.open(path.join(dir, 'catalog.sqlite'));
    expect(catalog.schemaVersion()).toBe(SCHEMA_VERSION);
  });

  it('refuses a catalogue written by a newer Referent', () => {
    const file = path.join(dir, 'newer.sqlite');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => SqliteCatalog.open(file)).toThrowError(expect.objectContaining({ code: ErrorCode.CatalogNewerSchema }));
  });

  it('records the model id and dimension', () => {
    expect(catalog.getModel()).toBeNull();
    catalog.setModel({ modelId: 'a/b', dim: 512 });
    expect(catalog.getModel()).toEqual({ modelId: 'a/b', dim: 512 });
    catalog.setModel({ modelId: 'c/d', dim: 768 });
    expect(catalog.getModel()).toEqual({ modelId: 'c/d', dim: 768 });
  });

  it('creates person collections disabled and others enabled', () => {
    expect(catalog.ensureCollection('cams', 'person').enabled).toBe(false);
    expect(catalog.ensureCollection('parts', 'part').enabled).toBe(true);
    expect(catalog.ensureCollection('parts', 'other').kind).toBe('part');
    expect(catalog.listCollections().map((c) => c.name)).toEqual(['cams', 'parts']);
  });

  it('stores an item with caption, entity, vector and a log entry in one go', () => {
    const item = addItem('h1', { caption: 'brass elbow', entityLabel: 'P-1', source: { platform: 'slack', channel: 'C1', user: 'U1', ref: 'F1' } });
    expect(item).toMatchObject({ hash: 'h1', caption: 'brass elbow', entityLabel: 'P-1', source: { platform: 'slack', channel: 'C1', user: 'U1', ref: 'F1' } });
    expect(catalog.findLiveItemByHash(item.collectionId, 'h1')?.id).toBe(item.id);
    expect(catalog.countItemVectors(model)).toBe(1);
    const [change] = catalog.changesSince(0, model);
    expect(change).toMatchObject({ itemId: item.id, op: 'add', collectionId: item.collectionId });
    expect(Array.from(change!.vector!)).toEqual([1, 0]);
    expect(catalog.itemVectors(model, 0, 1000).map((v) => v.itemId)).toEqual([item.id]);
  });

  it('refuses a second live item with the same hash in a collection, atomically', () => {
    addItem('h1');
    const seq = catalog.lastLogSeq();
    expect(() => addItem('h1')).toThrowError(expect.objectContaining({ code: ErrorCode.Conflict }));
    expect(catalog.countItems()).toBe(1);
    expect(catalog.lastLogSeq()).toBe(seq);
  });

  it('removes an item: gone from reads, vectors dropped, deletion logged, hash free again', () => {
    const item = addItem('h1');
    expect(catalog.removeItem(item.id)).toBe(true);
    expect(catalog.removeItem(item.id)).toBe(false);
    expect(catalog.getItem(item.id)).toBeNull();
    expect(catalog.countItemVectors(model)).toBe(0);
    expect(catalog.changesSince(0, model).map((c) => c.op)).toEqual(['add', 'del']);
    expect(addItem('h1').id).not.toBe(item.id);
  });

  it('finds items without a vector for another model and drops other models after switching', () => {
    const a = addItem('a');
    addItem('b');
    expect(catalog.itemsWithoutVector('new/model', 10).map((i) => i.hash)).toEqual(['a', 'b']);
    catalog.putItemVector(a.id, 'new/model', vec(0, 1));
    expect(catalog.itemsWithoutVector('new/model', 10).map((i) => i.hash)).toEqual(['b']);
    expect(catalog.deleteVectorsExcept('new/model')).toBe(2);
    expect(catalog.countItemVectors(model)).toBe(0);
    expect(catalog.countItemVectors('new/model')).toBe(1);
  });

  it('returns vectors exactly as stored', () => {
    const v = new Float32Array([0.1, -0.25, 1e-7, 3.5]);
    const c = catalog.ensureCollection('x');
    const item = catalog.addItem({ collectionId: c.id, hash: 'v', mediaKey: 'v', width: 1, height: 1 }, { modelId: model, data: v });
    const [row] = catalog.itemVectors(model, 0, 1000);
    expect(row!.itemId).toBe(item.id);
    expect(Array.from(row!.vector)).toEqual(Array.from(v));
  });
});

describe('SqliteCatalog names', () => {
  it('refuses empty, over-long or control-character collection names and entity labels', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'referent-catalog-'));
    const catalog = SqliteCatalog.open(path.join(dir, 'c.sqlite'));
    try {
      for (const bad of ['', '   ', 'x'.repeat(201), 'a\nb', 'tab\there']) {
        expect(() => catalog.ensureCollection(bad)).toThrowError(expect.objectContaining({ code: ErrorCode.UsageInvalid }));
      }
      const c = catalog.ensureCollection('parts — 1/2" fittings');
      expect(() => catalog.addItem({ collectionId: c.id, hash: 'h', mediaKey: 'h', width: 1, height: 1, entityLabel: 'P\u0000' }, { modelId: model, data: vec(1) })).toThrowError(
        expect.objectContaining({ code: ErrorCode.UsageInvalid }),
      );
      expect(catalog.countItems()).toBe(0);
    } finally {
      catalog.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
