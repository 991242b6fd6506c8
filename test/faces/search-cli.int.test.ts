/**
 * `referent search --image` over person collections with faces on ranks by face too, says so in its
 * `why` line and its JSON, audits every search that reaches a person collection, and loads the face models only for a photo.
 *
 * - As a person runs it: the real CLI in a child process, the real face engine on the face-api
 *   package's demo photos (portraits cut out of a group photo are the labelled people's photos; the
 *   query is one of them mirrored and framed tighter), a SQLite data folder. The child process ending
 *   shows that the face worker was let go.
 * - When the runtime is made: runSearch in this process with a runtime of fixed faces injected (what
 *   is under test is when the command makes and closes one, not the engine), on synthetic stored faces.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runSearch, type SearchFaceRuntime } from '../../adapters/cli/cmd-search.js';
import type { CliValues } from '../../adapters/cli/main.js';
import type { FaceBox } from '../../src/catalog/catalog.js';
import type { Config } from '../../src/config.js';
import { ErrorCode } from '../../src/errors.js';
import { FACE_MODEL_ID, SAME_FACE_COSINE } from '../../src/faces/face-engine.js';
import { FaceQueue } from '../../src/faces/face-queue.js';
import { FaceRuntime } from '../../src/faces/face-runtime.js';
import { ingest } from '../../src/ingest/ingest.js';
import { openReferent, openStores } from '../../src/open.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';
import { runCli } from '../support/run-cli.js';
import { syntheticDescriptor, syntheticFace } from './synthetic-faces.js';
import { portrait } from './portrait.js';

const demo = path.resolve(import.meta.dirname, '../../node_modules/@vladmandic/face-api/demo');
const photo = (i: number) => fs.readFileSync(path.join(demo, `sample${i}.jpg`));
const limits = { batchSize: 4, maxImageBytes: 8 << 20, maxTextChars: 500 };
const operator = `cli:${os.userInfo().username}`;

async function auditLog(config: Config) {
  const stores = await openStores(config);
  try {
    return await stores.catalog.listAudit(100);
  } finally {
    await stores.close();
  }
}

interface JsonHit {
  itemId: number;
  why?: { carriedBy: string; summary: string; face?: { cosine: number; queryFace: number | null; itemFace: FaceBox } | null };
}

describe('referent search --image with faces (real CLI, real engine)', () => {
  let dir: string;
  let env: Record<string, string>;
  let query: string;
  const ids: Record<string, number> = {};
  const cli = (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    dir = tempDir('referent-search-faces-cli-');
    const dataDir = path.join(dir, 'data');
    env = { REFERENT_DATA_DIR: dataDir, REFERENT_MODEL: testConfig(dataDir).model, REFERENT_OCR: 'false' };
    const runtime = new FaceRuntime();
    const referent = await openReferent(testConfig(dataDir, env));
    try {
      const { catalog } = referent;
      const staff = (await catalog.ensureCollection('staff', 'person')).id;
      await catalog.setFacesEnabled(staff, true);
      const group = (await runtime.detect(photo(1))).faces;
      const sources = [
        { name: 'ana', bytes: await portrait(photo(1), group[0]!.box), entity: 'Ana' },
        { name: 'bo', bytes: await portrait(photo(1), group[1]!.box), entity: 'Bo' },
      ];
      const list = { sources: sources.map((s) => ({ path: '', bytes: s.bytes, origin: s.name, caption: s.name, collection: 'staff', entity: s.entity })), problems: [] };
      expect((await ingest(referent, list, { collection: 'staff', ...limits })).added).toBe(2);
      await makeColourGallery(path.join(dir, 'parts'), 1, ['red']);
      const part = { path: '', bytes: fs.readFileSync(path.join(dir, 'parts', 'red-1.png')), origin: 'red', caption: 'red', collection: 'parts' };
      expect((await ingest(referent, { sources: [part], problems: [] }, { collection: 'parts', ...limits })).added).toBe(1);
      const queue = new FaceQueue(referent, runtime, { log: () => {} });
      expect((await queue.drain()).processed).toBe(2);
      await queue.close();
      const items = await catalog.getItems([1, 2, 3, 4, 5]);
      for (const item of items.values()) if (item.caption) ids[item.caption] = item.id;
      // Ana's face, mirrored and framed tighter than her stored photo.
      query = path.join(dir, 'who.jpg');
      fs.writeFileSync(query, await sharp(await portrait(photo(1), group[0]!.box, 0.35)).flop().jpeg({ quality: 85 }).toBuffer());
    } finally {
      await runtime.close();
      await referent.shutdown();
    }
  }, 240_000);
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ranks the photo of the same face first, says "face matches" in the why line and the JSON, and ends', async () => {
    const run = await cli('search', '--image', query);
    expect(run.code, run.stderr).toBe(0);
    const [first] = run.stdout.split(/\n(?=\s*\d+\. )/);
    expect(first).toMatch(new RegExp(`^\\s+1\\. \\S+\\s+#${ids.ana}\\s+\\[Ana\\]`));
    expect(first).toMatch(/why: face matches \((0\.9\d|1\.00)\)/);
    // Bo and the red part are no face match.
    expect(run.stdout.match(/face matches/g)).toHaveLength(1);

    const json = await cli('search', '--image', query, '--collection', 'staff', '--json');
    expect(json.code, json.stderr).toBe(0);
    const { hits } = JSON.parse(json.stdout) as { hits: JsonHit[] };
    expect(hits[0]!.itemId).toBe(ids.ana);
    expect(hits[0]!.why!.carriedBy).toBe('face');
    expect(hits[0]!.why!.face!.cosine).toBeGreaterThanOrEqual(SAME_FACE_COSINE);
    expect(hits[0]!.why!.face!.queryFace).toBe(0);
    expect(hits.find((h) => h.itemId === ids.bo)?.why?.face ?? null).toBeNull();

    // Both searches compared faces of staff: each is in the audit log, as the operator.
    const staff = (await auditLog(testConfig(env.REFERENT_DATA_DIR!, env))).filter((e) => e.query.endsWith('(faces compared)'));
    expect(staff.map((e) => ({ user: e.user, platform: e.platform, scope: e.scope, query: e.query }))).toEqual([
      { user: operator, platform: 'cli', scope: 'cli', query: 'search --image who.jpg (faces compared)' },
      { user: operator, platform: 'cli', scope: 'cli', query: 'search --image who.jpg (faces compared)' },
    ]);
  }, 120_000);

  it('compares no face where faces are off or not searched; audits what reaches the person collection, without "(faces compared)"', async () => {
    const log = async () => (await auditLog(testConfig(env.REFERENT_DATA_DIR!, env))).map((e) => e.query);
    const audited = (await log()).length;
    const parts = await cli('search', '--image', query, '--collection', 'parts');
    expect(parts.code, parts.stderr).toBe(0);
    expect(parts.stdout).not.toContain('face matches');
    const refused = await cli('search', '--image', query, '--limit', '0');
    expect(refused.code).toBe(2);
    // Neither reached a person collection.
    expect(await log()).toHaveLength(audited);
    const text = await cli('search', 'red', '--collection', 'staff');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toContain('face matches');
    expect((await log()).slice(0, -audited)).toEqual(['search "red"']);

    expect((await cli('faces', 'off', 'staff', '--yes')).code).toBe(0);
    const off = await cli('search', '--image', query);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).not.toContain('face matches');
    expect((await log()).slice(0, -audited)).toEqual(['search --image who.jpg', 'search "red"']);
  }, 120_000);
});

describe('referent search makes a face runtime only when a photo searches faces', () => {
  let dir: string;
  let config: ReturnType<typeof testConfig>;
  let query: string;
  const ids: Record<string, number> = {};
  const made: Array<{ detections: number; closed: boolean }> = [];
  /** Ana's face (person 0 of the synthetic faces), wherever the photo is. */
  const faceRuntime = (): SearchFaceRuntime => {
    const state = { detections: 0, closed: false };
    made.push(state);
    return {
      detect: async () => {
        state.detections++;
        return { width: 48, height: 40, faces: [{ box: { x: 4, y: 4, width: 30, height: 30 }, score: 0.9, descriptor: syntheticDescriptor(0, 9) }], truncated: false };
      },
      close: async () => {
        state.closed = true;
      },
    };
  };
  let out = '';
  const search = async (args: string[], values: Partial<CliValues>): Promise<string> => {
    out = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    // What it says on stderr (the demo encoder's note) is not under test here.
    const note = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await runSearch(args, values as CliValues, () => config, { faceRuntime });
    } finally {
      write.mockRestore();
      note.mockRestore();
    }
    return out;
  };

  beforeAll(async () => {
    dir = tempDir('referent-search-faces-runtime-');
    config = testConfig(path.join(dir, 'data'), { REFERENT_OCR: 'false' });
    // Colour photos (what the demo encoder tells apart): by look the red query finds Bo first; by face it is Ana.
    const gallery = path.join(dir, 'gallery');
    await makeColourGallery(gallery, 2, ['red', 'blue']);
    query = path.join(gallery, 'red-1.png');
    const referent = await openReferent(config);
    try {
      const { catalog } = referent;
      const staff = (await catalog.ensureCollection('staff', 'person')).id;
      await catalog.setFacesEnabled(staff, true);
      const photos = [
        { name: 'ana', file: 'blue-1.png', collection: 'staff', entity: 'Ana', person: 0 },
        { name: 'bo', file: 'red-2.png', collection: 'staff', entity: 'Bo', person: 1 },
        { name: 'part', file: 'red-1.png', collection: 'parts', entity: undefined, person: null },
      ];
      for (const p of photos) {
        const source = { path: '', bytes: fs.readFileSync(path.join(gallery, p.file)), origin: p.name, caption: p.name, collection: p.collection, ...(p.entity ? { entity: p.entity } : {}) };
        expect((await ingest(referent, { sources: [source], problems: [] }, { collection: p.collection, ...limits })).added).toBe(1);
      }
      for (const item of (await catalog.getItems([1, 2, 3, 4])).values()) ids[item.caption!] = item.id;
      for (const p of photos) if (p.person !== null) expect(await catalog.putFaces(ids[p.name]!, FACE_MODEL_ID, [syntheticFace(p.person, 0)])).toBe(true);
    } finally {
      await referent.shutdown();
    }
  }, 120_000);
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('makes one for a photo searched in a person collection with faces on, uses it, and closes it', async () => {
    const hits = (JSON.parse(await search([], { image: [query], json: true })) as { hits: JsonHit[] }).hits;
    expect(made).toEqual([{ detections: 1, closed: true }]);
    expect(hits[0]!.itemId).toBe(ids.ana);
    expect(hits[0]!.why!.summary).toMatch(/^face matches \(0\.99\)/);
    const table = await search(['a', 'photo'], { image: [query] });
    expect(table).toMatch(new RegExp(`1\\. \\S+\\s+#${ids.ana}\\s+\\[Ana\\].*\\n.*\\n\\s+why: face matches \\(0\\.99\\)`));
    expect(made).toHaveLength(2);
    expect(made[1]).toEqual({ detections: 1, closed: true });
    const log = await auditLog(config);
    expect(log.map((e) => e.query)).toEqual(['search "a photo" --image red-1.png (faces compared)', 'search --image red-1.png (faces compared)']);
  });

  it('makes none for a text, a part collection, a refused query, or a person collection with faces off', async () => {
    await search(['red'], { json: true });
    await search([], { image: [query], collection: ['parts'], json: true });
    await expect(search([], { image: [query], limit: '0' })).rejects.toMatchObject({ code: ErrorCode.UsageInvalid });
    await expect(search([], { image: [query], collection: ['nowhere'] })).rejects.toMatchObject({ code: ErrorCode.NotFound });
    const stores = await openStores(config);
    try {
      await stores.catalog.setFacesEnabled((await stores.catalog.findCollection('staff'))!.id, false);
    } finally {
      await stores.close();
    }
    const hits = (JSON.parse(await search([], { image: [query], json: true })) as { hits: JsonHit[] }).hits;
    expect(hits.some((h) => h.why?.face)).toBe(false);
    // By look alone a red photo leads, not Ana's blue one.
    expect(hits[0]!.itemId).not.toBe(ids.ana);
    expect(made).toHaveLength(2);
    // The searches that reached staff are person queries all the same, without faces compared.
    expect((await auditLog(config)).map((e) => e.query)).toEqual([
      'search --image red-1.png',
      'search "red"',
      'search "a photo" --image red-1.png (faces compared)',
      'search --image red-1.png (faces compared)',
    ]);
  });
});
