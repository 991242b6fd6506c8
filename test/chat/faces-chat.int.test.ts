/**
 * The chat's `faces` and `faces name <group> <label>` through the assistant, on a real catalogue with
 * synthetic faces written through catalog.putFaces (grouping and access are under test, not the
 * engine): a card per unknown group of what the conversation may see, audited, and naming a group.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Assistant } from '../../src/chat/assistant.js';
import { type ChatScope, type ChatUser, parseCommand } from '../../src/chat/message.js';
import type { Reply } from '../../src/chat/reply.js';
import { FACE_MODEL_ID } from '../../src/faces/face-engine.js';
import { openReferent, type Referent } from '../../src/open.js';
import { syntheticFace } from '../faces/synthetic-faces.js';
import { tempDir, testConfig } from '../support/fixtures.js';

const alice: ChatUser = { platform: 'slack', id: 'U-ALICE', name: 'Alice' };
const general: ChatScope = { platform: 'slack', workspace: 'T1', channel: 'C-GENERAL' };
const vault: ChatScope = { platform: 'slack', workspace: 'T1', channel: 'C-VAULT' };
const stranger: ChatScope = { platform: 'slack', workspace: 'T-OTHER', channel: 'C1' };

describe("the chat's faces", () => {
  let dir: string;
  let referent: Referent;
  let assistant: Assistant;
  const ids: Record<string, number> = {};
  const collections: Record<string, number> = {};
  const ask = async (text: string, scope = general): Promise<Reply> => {
    const replies = await assistant.handle({ text, images: [], user: alice, scope });
    expect(replies).toHaveLength(1);
    return replies[0]!;
  };

  beforeAll(async () => {
    dir = tempDir();
    referent = await openReferent(testConfig(path.join(dir, 'data')));
    const { catalog } = referent;
    const dim = referent.encoder.dim;
    for (const name of ['people', 'vip', 'quiet']) {
      const id = (await catalog.ensureCollection(name, 'person')).id;
      collections[name] = id;
      await catalog.setCollectionEnabled(id, true);
      if (name !== 'quiet') await catalog.setFacesEnabled(id, true);
    }
    await catalog.grant({ collectionId: collections.people!, platform: 'slack', workspace: 'T1' });
    await catalog.grant({ collectionId: collections.quiet!, platform: 'slack', workspace: 'T1' });
    await catalog.grant({ collectionId: collections.vip!, platform: 'slack', workspace: 'T1', channel: 'C-VAULT' });
    let n = 0;
    const add = async (name: string, collection: string, person: number) => {
      const vector = new Float32Array(dim);
      vector[0] = 1;
      const item = await catalog.addItem(
        { collectionId: collections[collection]!, hash: `h-${name}`, mediaKey: `key-${name}`, width: 400, height: 300 },
        { modelId: referent.encoder.modelId, data: vector },
      );
      ids[name] = item.id;
      expect(await catalog.putFaces(item.id, FACE_MODEL_ID, [syntheticFace(person, n++)])).toBe(true);
    };
    await add('bo1', 'people', 1);
    await add('bo2', 'people', 1);
    await add('cy', 'people', 2);
    await add('vip', 'vip', 3);
    assistant = new Assistant(referent, {
      policy: { admins: new Set(), webCollections: '*' },
      limits: { maxTextChars: 500, maxImageBytes: 1 << 20, batchSize: 4 },
      results: 5,
      log: () => {},
    });
  });
  afterAll(async () => {
    await referent?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers a card per unknown group of the collections granted here, largest first, and audits it', async () => {
    const before = (await referent.catalog.listAudit(100)).length;
    const reply = await ask('faces');
    expect(reply.kind).toBe('results');
    expect(reply.text).toContain('2 groups of faces nobody has named');
    expect(reply.cards.map((c) => c.itemId)).toEqual([ids.bo2, ids.cy]);
    expect(reply.cards.every((c) => c.collection === 'people')).toBe(true);
    expect(reply.cards[0]!.why).toMatch(/^2 photos, not named yet: "faces name \d+ <label>" names them$/);
    expect(reply.cards[0]!.mediaKey).toBe('key-bo2');
    const audit = await referent.catalog.listAudit(100);
    expect(audit.length).toBe(before + 1);
    expect(audit[0]).toMatchObject({ user: 'slack:U-ALICE', collectionId: collections.people, query: 'faces' });
  });

  it('shows a channel its own granted collection too, and a stranger nothing', async () => {
    const inVault = await ask('faces', vault);
    expect(inVault.cards.map((c) => c.itemId).sort()).toEqual([ids.bo2, ids.cy, ids.vip].sort());
    const elsewhere = await ask('faces', stranger);
    expect(elsewhere.kind).toBe('error');
    expect(elsewhere.text).toBe('No person collection with faces on is shared with this conversation.');
  });

  it('names a group from chat, and only a group this conversation can see', async () => {
    const vipGroup = Number(/faces name (\d+)/.exec((await ask('faces', vault)).cards.find((c) => c.itemId === ids.vip)!.why)![1]);
    const denied = await ask(`faces name ${vipGroup} Dee`);
    expect(denied.kind).toBe('error');
    expect(denied.text).toContain(`There is no unknown face group ${vipGroup} here now`);
    expect(await referent.catalog.findEntities('Dee')).toEqual([]);

    const bo = Number(/faces name (\d+)/.exec((await ask('faces')).cards[0]!.why)![1]);
    const named = await ask(`faces name ${bo} "Bo Brown"`);
    expect(named).toMatchObject({ kind: 'info', text: 'Named: 2 photos in people are now Bo Brown.' });
    const [entity] = await referent.catalog.findEntities('Bo Brown');
    expect(entity!.collectionId).toBe(collections.people);
    expect((await referent.catalog.entityItems(entity!.id)).map((i) => i.id).sort()).toEqual([ids.bo1, ids.bo2].sort());
    expect((await ask('faces')).cards.map((c) => c.itemId)).toEqual([ids.cy]);
  });

  it('reads "faces" followed by other words as a search, and a malformed naming as usage', async () => {
    expect((await ask('faces name Bo')).text).toContain('Usage: `faces`');
    expect(parseCommand('faces at the summer party', false)).toEqual({ kind: 'find', text: 'faces at the summer party' });
    expect(parseCommand('Faces name #12 Ana', false)).toEqual({ kind: 'name-faces', group: 12, label: 'Ana' });
  });
});
