/**
 * Search by face, on real faces: the face engine on its real weights, demo photos of the face-api
 * package (portraits cut out of a group photo are the labelled people's photos; a mirrored copy of
 * the group photo gives a photo nobody labelled), the demo encoder, a SQLite catalogue, and the
 * background queue storing the faces. The chat's photo search puts the images showing the posted
 * face first, says so on the card, audits it, and suggests the person on a photo nobody labelled.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hitJson } from '../../adapters/hit-json.js';
import { Assistant } from '../../src/chat/assistant.js';
import type { ChatUser, ChatScope } from '../../src/chat/message.js';
import type { Reply } from '../../src/chat/reply.js';
import { type DetectedFace, type FaceBox, SAME_FACE_COSINE } from '../../src/faces/face-engine.js';
import { FaceQueue } from '../../src/faces/face-queue.js';
import { FaceRuntime } from '../../src/faces/face-runtime.js';
import { ingest } from '../../src/ingest/ingest.js';
import { openReferent, type Referent } from '../../src/open.js';
import { facePlace } from '../../src/search/face-search.js';
import { search } from '../../src/search/search.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { portrait } from './portrait.js';

const demo = path.resolve(import.meta.dirname, '../../node_modules/@vladmandic/face-api/demo');
const photo = (i: number) => fs.readFileSync(path.join(demo, `sample${i}.jpg`));
const web: ChatScope = { platform: 'web', workspace: 'local', channel: 'chat' };
const me: ChatUser = { platform: 'web', id: 'local', name: 'Me' };

describe('search by face (real engine, chat, audit)', () => {
  let dir: string;
  let referent: Referent;
  let assistant: Assistant;
  const runtime = new FaceRuntime();
  let group: DetectedFace[];
  let groupWidth: number;
  let staff: number;
  let query: Buffer;
  const ids: Record<string, number> = {};
  const ask = async (text: string, images: Uint8Array[] = []): Promise<Reply> => {
    const replies = await assistant.handle({ text, images, user: me, scope: web });
    expect(replies).toHaveLength(1);
    return replies[0]!;
  };

  beforeAll(async () => {
    dir = tempDir('referent-face-search-');
    referent = await openReferent(testConfig(path.join(dir, 'data')));
    const { catalog } = referent;
    staff = (await catalog.ensureCollection('staff', 'person')).id;
    await catalog.setCollectionEnabled(staff, true);
    await catalog.setFacesEnabled(staff, true);
    const found = await runtime.detect(photo(1));
    group = found.faces;
    groupWidth = found.width;
    // The mirrored group photo: the same people, another photo; its faces' boxes are mirrored too.
    const mirrored = await sharp(photo(1)).flop().jpeg({ quality: 90 }).toBuffer();
    const flip = (b: FaceBox): FaceBox => ({ ...b, x: groupWidth - b.x - b.width });
    const sources = [
      { name: 'ana', bytes: await portrait(photo(1), group[0]!.box), entity: 'Ana' },
      { name: 'bo', bytes: await portrait(photo(1), group[1]!.box), entity: 'Bo' },
      { name: 'group', bytes: photo(1) },
      { name: 'others', bytes: photo(4) },
      // Nobody labelled this one: Ana alone, cut from the mirrored photo.
      { name: 'stray', bytes: await portrait(mirrored, flip(group[0]!.box), 0.8) },
    ];
    const list = { sources: sources.map((s) => ({ path: '', bytes: s.bytes, origin: s.name, caption: s.name, collection: 'staff', ...(s.entity ? { entity: s.entity } : {}) })), problems: [] };
    const summary = await ingest(referent, list, { collection: 'staff', batchSize: 4, maxImageBytes: 8 << 20, maxTextChars: 500 });
    expect(summary.added).toBe(sources.length);
    await referent.references.catchUp();
    const queue = new FaceQueue(referent, runtime, { log: () => {} });
    expect((await queue.drain()).processed).toBe(sources.length);
    await queue.close();
    // Which item is which: their captions.
    const all = await catalog.getItems(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const item of all.values()) if (item.caption) ids[item.caption] = item.id;
    expect(Object.keys(ids).sort()).toEqual(sources.map((s) => s.name).sort());
    // The query: Ana's face mirrored and framed tighter than any stored photo of her.
    query = await sharp(await portrait(photo(1), group[0]!.box, 0.35)).flop().jpeg({ quality: 85 }).toBuffer();
    assistant = new Assistant(
      { ...referent, faces: { runtime } },
      { policy: { admins: new Set(), webCollections: '*' }, limits: { maxTextChars: 500, maxImageBytes: 8 << 20, batchSize: 4 }, results: 5, log: () => {} },
    );
  }, 240_000);
  afterAll(async () => {
    await runtime.close();
    await referent?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('puts the images showing the posted face first, each group photo through the face that matched', async () => {
    const { hits } = await search({ ...referent, faces: { runtime } }, { image: query, limit: 5 }, { maxTextChars: 500 });
    const matched = hits.filter((h) => h.why?.face && h.why.face.queryFace !== null);
    // Ana's own photo, the group photo she is on, and the photo nobody labelled: all of her, all first.
    expect(matched.map((h) => h.itemId).sort((a, b) => a - b)).toEqual([ids.ana!, ids.group!, ids.stray!].sort((a, b) => a - b));
    expect(hits.slice(0, 3).map((h) => h.itemId).sort()).toEqual(matched.map((h) => h.itemId).sort());
    for (const h of matched) {
      expect(h.why!.face!.cosine).toBeGreaterThanOrEqual(SAME_FACE_COSINE);
      expect(h.why!.summary).toMatch(/^face matches \((0\.9\d|1\.00)\)/);
      expect(h.why!.face!.queryFace).toBe(0);
    }
    expect(matched.map((h) => h.why!.face!.cosine)).toEqual([...matched.map((h) => h.why!.face!.cosine)].sort((a, b) => b - a));
    // On the group photo, the face that matched is Ana's, at her place, and the card says where.
    const onGroup = matched.find((h) => h.itemId === ids.group)!;
    expect(Math.abs(onGroup.why!.face!.itemFace.x - group[0]!.box.x)).toBeLessThan(group[0]!.box.width / 2);
    expect(onGroup.why!.summary).toContain(`the face at ${facePlace(group[0]!.box, groupWidth)}`);
    // The JSON of a hit carries the box.
    expect(hitJson(onGroup, {}).why?.face?.itemFace).toEqual(onGroup.why!.face!.itemFace);
    // Nobody else's photo is said to match.
    expect(hits.filter((h) => h.itemId === ids.bo || h.itemId === ids.others).every((h) => !h.why?.summary.includes('face matches'))).toBe(true);
  });

  it('searches every face of a posted group photo as a candidate of its own', async () => {
    // The group photo again, smaller and recompressed (mirrored, Bo's face falls below the threshold: 0.96 misses some).
    const posted = await sharp(photo(1)).resize({ width: 1440 }).jpeg({ quality: 60 }).toBuffer();
    const { hits } = await search({ ...referent, faces: { runtime } }, { image: posted, limit: 5 }, { maxTextChars: 500 });
    const face = (id: number) => hits.find((h) => h.itemId === id)?.why?.face;
    // Ana and Bo matched through two different faces of the posted photo.
    expect(face(ids.ana!)?.cosine).toBeGreaterThanOrEqual(SAME_FACE_COSINE);
    expect(face(ids.bo!)?.cosine).toBeGreaterThanOrEqual(SAME_FACE_COSINE);
    expect(face(ids.ana!)!.queryFace).not.toBe(face(ids.bo!)!.queryFace);
    expect(face(ids.others!)?.queryFace ?? null).toBeNull();
  });

  it('leaves search as it was without a face runtime', async () => {
    const { hits } = await search(referent, { image: query, limit: 5 }, { maxTextChars: 500 });
    expect(hits.some((h) => h.why?.face)).toBe(false);
  });

  it('says "face matches" on the chat cards, strong, and audits the photo search as a face query', async () => {
    const reply = await ask('', [query]);
    expect(reply.kind).toBe('results');
    const [first] = reply.cards;
    expect(first!.why).toMatch(/^face matches \((0\.9\d|1\.00)\)/);
    expect(first!.band).toBe('strong');
    expect([ids.ana, ids.group, ids.stray]).toContain(first!.itemId);
    const [entry] = await referent.catalog.listAudit(1);
    expect(entry).toMatchObject({ user: 'web:local', collectionId: staff, query: 'a posted photo (faces compared)' });
  });

  it("suggests the labelled person on a photo nobody labelled whose face is theirs, and That's it links it", async () => {
    const reply = await ask('', [query]);
    const card = reply.cards.find((c) => c.itemId === ids.stray)!;
    expect(card.title).toMatch(/Unlabelled|stray/);
    expect(card.why).toMatch(/looks like Ana by face \((0\.9\d|1\.00)\)/);
    // The group photo shows two labelled people: no one of them is suggested for it.
    const onGroup = reply.cards.find((c) => c.itemId === ids.group)!;
    expect(onGroup.why).toMatch(/^face matches/);
    expect(onGroup.why).not.toMatch(/looks like/);
    const confirm = card.actions.find((a) => a.kind === 'confirm')!;
    const result = await assistant.act(confirm.value, me, web);
    expect(result.askLabel).toBeUndefined();
    expect((await referent.catalog.getItem(ids.stray!))!.entityLabel).toBe('Ana');
    const [entry] = await referent.catalog.listAudit(1);
    expect(entry!.query).toMatch(/^confirm on image #\d+/);
  });
});
