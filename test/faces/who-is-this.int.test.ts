/**
 * `who is this` with a photo, on real faces: the face engine on its real weights, demo photos of the
 * face-api package (two people on a group photo are labelled by portraits cut out of it, the third
 * is nobody's), the demo encoder and a SQLite catalogue. The answer is the labelled person whose face
 * reference matches at or above the calibrated threshold, or nobody; every question is audited.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Assistant } from '../../src/chat/assistant.js';
import { type ChatScope, type ChatUser, parseCommand } from '../../src/chat/message.js';
import type { Reply } from '../../src/chat/reply.js';
import type { DetectedFace } from '../../src/faces/face-engine.js';
import { FaceQueue } from '../../src/faces/face-queue.js';
import { FaceRuntime } from '../../src/faces/face-runtime.js';
import { ingest } from '../../src/ingest/ingest.js';
import { openReferent, type Referent } from '../../src/open.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { portrait } from './portrait.js';

const demo = path.resolve(import.meta.dirname, '../../node_modules/@vladmandic/face-api/demo');
const photo = (i: number) => fs.readFileSync(path.join(demo, `sample${i}.jpg`));
const web: ChatScope = { platform: 'web', workspace: 'local', channel: 'chat' };
const slack: ChatScope = { platform: 'slack', workspace: 'T1', channel: 'C1' };
const me: ChatUser = { platform: 'web', id: 'local', name: 'Me' };

describe('parsing who is this', () => {
  it('reads the usual ways of asking, with a photo; other "who …" is a search', () => {
    for (const text of ['who is this', 'Who is this?', "who's this", 'who is that?', 'who?', 'who']) expect(parseCommand(text, true)).toEqual({ kind: 'who' });
    expect(parseCommand('who is this', false).kind).toBe('usage');
    expect(parseCommand('who made this bracket', true)).toEqual({ kind: 'find', text: 'who made this bracket' });
  });
});

describe('who is this (real engine, chat, audit)', () => {
  let dir: string;
  let referent: Referent;
  let assistant: Assistant;
  const runtime = new FaceRuntime();
  let group: DetectedFace[];
  let staff: number;
  const ask = async (text: string, images: Uint8Array[], scope = web, on = assistant): Promise<Reply> => {
    const replies = await on.handle({ text, images, user: me, scope });
    expect(replies).toHaveLength(1);
    return replies[0]!;
  };
  const options = { policy: { admins: new Set<string>(), webCollections: '*' as const }, limits: { maxTextChars: 500, maxImageBytes: 8 << 20, batchSize: 4 }, results: 5, log: () => {} };

  beforeAll(async () => {
    dir = tempDir('referent-who-is-this-');
    referent = await openReferent(testConfig(path.join(dir, 'data')));
    const { catalog } = referent;
    staff = (await catalog.ensureCollection('staff', 'person')).id;
    await catalog.setCollectionEnabled(staff, true);
    await catalog.setFacesEnabled(staff, true);
    group = (await runtime.detect(photo(1))).faces;
    const sources = [
      { path: '', bytes: await portrait(photo(1), group[0]!.box), origin: 'ana', collection: 'staff', entity: 'Ana' },
      { path: '', bytes: await portrait(photo(1), group[1]!.box), origin: 'bo', collection: 'staff', entity: 'Bo' },
    ];
    expect((await ingest(referent, { sources, problems: [] }, { collection: 'staff', batchSize: 4, maxImageBytes: 8 << 20, maxTextChars: 500 })).added).toBe(2);
    const queue = new FaceQueue(referent, runtime, { log: () => {} });
    expect((await queue.drain()).processed).toBe(2);
    await queue.close();
    assistant = new Assistant({ ...referent, faces: { runtime } }, options);
  }, 240_000);
  afterAll(async () => {
    await runtime.close();
    await referent?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names the labelled person a mirrored, tighter photo of their face belongs to, with a card of them, audited', async () => {
    const query = await sharp(await portrait(photo(1), group[0]!.box, 0.2)).flop().jpeg({ quality: 85 }).toBuffer();
    const reply = await ask('who is this?', [query]);
    expect(reply.text).toMatch(/^This is Ana \(face matches, (0\.9\d|1\.00)\)\.$/);
    expect(reply.cards.map((c) => c.title)).toEqual(['Ana']);
    const [entry] = await referent.catalog.listAudit(1);
    expect(entry).toMatchObject({ user: 'web:local', collectionId: staff, query: 'who is this? (faces compared)' });
  });

  it('says nobody known matches a face no labelled person has, and answers every face of a group photo', async () => {
    const stranger = await ask('who is this', [await portrait(photo(1), group[2]!.box)]);
    expect(stranger.text).toMatch(/^This: nobody known matches this face/);
    expect(stranger.cards).toEqual([]);
    const all = await ask('who is this', [photo(1)]);
    const lines = all.text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.filter((l) => / is Ana \(/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => / is Bo \(/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /nobody known/.test(l))).toHaveLength(1);
    expect(lines.every((l) => /^The face at (left|centre|right)/.test(l))).toBe(true);
  });

  it('says so when the photo shows no face', async () => {
    const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 90, g: 140, b: 200 } } }).png().toBuffer();
    const reply = await ask('who is this', [blank]);
    expect(reply.text).toBe('I see no face on that photo.');
    expect((await referent.catalog.listAudit(1))[0]!.query).toBe('who is this (faces compared)');
  });

  it('refuses where faces cannot be compared: no face runtime, or no person collection with faces on here', async () => {
    const without = await ask('who is this', [photo(1)], web, new Assistant(referent, options));
    expect(without.kind).toBe('error');
    expect(without.text).toMatch(/Face recognition is not running/);
    const before = (await referent.catalog.listAudit(1000)).length;
    const elsewhere = await ask('who is this', [photo(1)], slack);
    expect(elsewhere.kind).toBe('error');
    expect(elsewhere.text).toMatch(/No person collection with faces on/);
    // Nothing was compared, so nothing is audited.
    expect((await referent.catalog.listAudit(1000)).length).toBe(before);
  });
});
