/**
 * Name this person, the button on each card `faces` answers, through the assistant on a real
 * catalogue with synthetic faces (face-people.ts): its value is untrusted (what it names is checked
 * against the pressing conversation, gone and elsewhere answered alike), it asks for a label as That's
 * it does on a photo nobody labelled, and then names the group as `faces name` does, audited.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Assistant } from '../../src/chat/assistant.js';
import { decodeAction } from '../../src/chat/cards.js';
import type { ChatScope, ChatUser } from '../../src/chat/message.js';
import type { Card, Reply } from '../../src/chat/reply.js';
import { openReferent, type Referent } from '../../src/open.js';
import { addFacePeople } from '../faces/face-people.js';
import { tempDir, testConfig } from '../support/fixtures.js';

const alice: ChatUser = { platform: 'slack', id: 'U-ALICE', name: 'Alice' };
const general: ChatScope = { platform: 'slack', workspace: 'T1', channel: 'C-GENERAL' };
const vault: ChatScope = { platform: 'slack', workspace: 'T1', channel: 'C-VAULT' };
const stranger: ChatScope = { platform: 'slack', workspace: 'T-OTHER', channel: 'C1' };

describe('Name this person on an unknown face group', () => {
  let dir: string;
  let referent: Referent;
  let assistant: Assistant;
  let people: Awaited<ReturnType<typeof addFacePeople<'bo1' | 'bo2' | 'cy' | 'party' | 'gil' | 'hal' | 'duo'>>>;
  let vip: Awaited<ReturnType<typeof addFacePeople<'fay'>>>;

  const ask = async (text: string, scope = general): Promise<Reply> => {
    const replies = await assistant.handle({ text, images: [], user: alice, scope });
    expect(replies).toHaveLength(1);
    return replies[0]!;
  };
  const nameButton = (card: Card) => card.actions.find((a) => a.kind === 'name');
  const groupOf = (card: Card) => Number(/^Unknown face group (\d+)$/.exec(card.title)![1]);
  const cardShowing = async (itemId: number, scope = general) => (await ask('faces', scope)).cards.find((c) => c.itemId === itemId)!;
  const audits = () => referent.catalog.listAudit(1000);

  beforeAll(async () => {
    dir = tempDir();
    referent = await openReferent(testConfig(path.join(dir, 'data')));
    // Bo on two photos, Cy on one, Dee and Eve only together on one group photo, and Gil and Hal on a
    // photo of their own each and together on a third (the surest face of each: its sample).
    people = await addFacePeople(
      referent,
      'people',
      [
        { name: 'bo1', people: [1] },
        { name: 'bo2', people: [1] },
        { name: 'cy', people: [2] },
        { name: 'party', people: [3, 4] },
        { name: 'gil', people: [6] },
        { name: 'hal', people: [7] },
        { name: 'duo', people: [6, 7] },
      ],
      [{ platform: 'slack', workspace: 'T1' }],
    );
    vip = await addFacePeople(referent, 'vip', [{ name: 'fay', people: [5] }], [{ platform: 'slack', workspace: 'T1', channel: 'C-VAULT' }]);
    assistant = new Assistant(referent, {
      policy: { admins: new Set(), webCollections: '*' },
      limits: { maxTextChars: 500, maxImageBytes: 1 << 20, batchSize: 4 },
      results: 8,
      log: () => {},
    });
  });
  afterAll(async () => {
    await referent?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('puts the button on each card of `faces`, naming its group, with one photo per card', async () => {
    const reply = await ask('faces');
    expect(reply.text).toContain('Name one with its Name this person button, or "faces name <group> <label>"');
    const cards = reply.cards;
    expect(cards).toHaveLength(6);
    // No two buttons on one photo: adapters redraw the pressed card by its photo.
    const withButton = cards.filter((c) => nameButton(c));
    expect(withButton).toHaveLength(5);
    expect(new Set(withButton.map((c) => c.itemId)).size).toBe(5);
    // Gil's and Hal's samples are both on the duo photo: the first card shows it, the second the other photo of its group.
    expect(cards.slice(1, 3).map((c) => c.itemId)).toEqual([people.ids.duo, people.ids.hal]);
    const bo = cards[0]!;
    expect(bo.itemId).toBe(people.ids.bo2);
    expect(nameButton(bo)).toMatchObject({ label: 'Name this person' });
    expect(decodeAction(nameButton(bo)!.value)).toEqual({ v: 1, a: 'name', c: people.collectionId, g: groupOf(bo), i: people.ids.bo2 });
    // Dee and Eve are only on the party photo: the first of their cards shows it with the button; the
    // other has no photo of its own, so it comes after, without a button (its typed form still names it).
    const party = cards.filter((c) => c.itemId === people.ids.party);
    expect(party.map((c) => Boolean(nameButton(c)))).toEqual([true, false]);
    // On a photo of several faces the card says which face is the group's; on a photo of one, nothing.
    for (const c of party) expect(c.why).toMatch(/^1 photo, not named yet \(the face at (left|centre|right)\): "faces name \d+ <label>" names them$/);
    expect(bo.why).toMatch(/^2 photos, not named yet: /);
  });

  it('answers a press from a conversation that cannot see the group as one for a group that does not exist, and records nothing', async () => {
    const fay = await cardShowing(vip.ids.fay, vault);
    const value = nameButton(fay)!.value;
    const before = (await audits()).length;
    const elsewhere = await assistant.act(value, alice, general, { label: 'Fay' });
    const outside = await assistant.act(value, alice, stranger);
    const gone = await assistant.act(JSON.stringify({ v: 1, a: 'name', c: vip.collectionId, g: groupOf(fay) + 1000, i: vip.ids.fay }), alice, vault);
    const noCollection = await assistant.act(JSON.stringify({ v: 1, a: 'name', c: 9999, g: groupOf(fay), i: vip.ids.fay }), alice, vault);
    const notFound = (groupId: number) => `There is no unknown face group ${groupId} here now (named already, or its photos changed): say "faces" to list them again.`;
    for (const result of [elsewhere, outside, noCollection]) expect(result).toEqual({ replies: [{ kind: 'error', text: notFound(groupOf(fay)), cards: [] }], card: null });
    expect(gone).toEqual({ replies: [{ kind: 'error', text: notFound(groupOf(fay) + 1000), cards: [] }], card: null });
    // Only the press from the vault read vip (audited); the others read nothing.
    expect((await audits()).length).toBe(before + 1);
    expect(await referent.catalog.findEntities('Fay')).toEqual([]);
  });

  it('refuses a value whose photo is not one of the group, and one for a collection with faces off', async () => {
    const bo = await cardShowing(people.ids.bo2);
    const { g } = decodeAction(nameButton(bo)!.value) as { g: number };
    const otherPhoto = await assistant.act(JSON.stringify({ v: 1, a: 'name', c: people.collectionId, g, i: people.ids.cy }), alice, general, { label: 'Bo' });
    expect(otherPhoto.replies[0]).toMatchObject({ kind: 'error', text: expect.stringContaining(`There is no unknown face group ${g} here now`) });
    const parts = (await referent.catalog.ensureCollection('parts', 'other')).id;
    await referent.catalog.grant({ collectionId: parts, platform: 'slack', workspace: 'T1' });
    const notPeople = await assistant.act(JSON.stringify({ v: 1, a: 'name', c: parts, g, i: people.ids.bo2 }), alice, general, { label: 'Bo' });
    expect(notPeople.replies[0]).toMatchObject({ kind: 'error', text: expect.stringContaining(`There is no unknown face group ${g} here now`) });
    expect(await referent.catalog.findEntities('Bo')).toEqual([]);
    expect(await assistant.act('{"v":1,"a":"name","c":1,"g":2,"i":3,"q":"x"}', alice, general)).toMatchObject({ replies: [{ kind: 'error', text: expect.stringContaining('not one of mine') }], card: null });
  });

  it('asks for the label, refuses a bad one, then names the group: the card says so, the group leaves `faces`, and the audit has it', async () => {
    const bo = await cardShowing(people.ids.bo2);
    const group = groupOf(bo);
    const before = (await audits()).length;
    const asked = await assistant.act(nameButton(bo)!.value, alice, general);
    expect(asked.replies).toEqual([]);
    expect(asked.card).toBeNull();
    expect(asked.askLabel).toEqual({ itemId: people.ids.bo2, title: `Unknown face group ${group}`, prompt: expect.stringMatching(/^Who is this\? 2 photos in people show this face\./), value: nameButton(bo)!.value, submit: 'Name' });
    const refused = await assistant.act(asked.askLabel!.value, alice, general, { label: 'Bo: the tall one' });
    expect(refused.replies[0]).toMatchObject({ kind: 'error', text: expect.stringContaining('without a colon') });
    expect(refused.card).toBeNull();

    const named = await assistant.act(asked.askLabel!.value, alice, general, { label: ' Bo Brown ' });
    expect(named.replies).toEqual([{ kind: 'info', text: 'Named: 2 photos in people are now Bo Brown.', cards: [] }]);
    expect(named.card).toMatchObject({ itemId: people.ids.bo2, mediaKey: bo.mediaKey, title: 'Bo Brown', collection: 'people', actions: [], verdict: 'Named Bo Brown by Alice' });
    const [entity] = await referent.catalog.findEntities('Bo Brown');
    expect(entity!.collectionId).toBe(people.collectionId);
    expect((await referent.catalog.entityItems(entity!.id)).map((i) => i.id).sort()).toEqual([people.ids.bo1, people.ids.bo2].sort());

    // Each press read the collection: audited before, as the person query it is, and nothing else was.
    const entries = await audits();
    expect(entries.length).toBe(before + 2);
    expect(entries.slice(0, 2)).toEqual([
      expect.objectContaining({ user: 'slack:U-ALICE', platform: 'slack', collectionId: people.collectionId, query: `faces name ${group} Bo Brown` }),
      expect.objectContaining({ user: 'slack:U-ALICE', collectionId: people.collectionId, query: `Name this person on face group ${group}` }),
    ]);

    const after = await ask('faces');
    expect(after.cards.map((c) => c.title)).not.toContain(`Unknown face group ${group}`);
    expect(after.cards.some((c) => c.itemId === people.ids.bo1 || c.itemId === people.ids.bo2)).toBe(false);
    // Pressed again (another person's copy of the card): the group is gone.
    const again = await assistant.act(asked.askLabel!.value, alice, general, { label: 'Bo B' });
    expect(again.replies[0]).toMatchObject({ kind: 'error', text: expect.stringContaining(`There is no unknown face group ${group} here now`) });
    expect(await referent.catalog.findEntities('Bo B')).toEqual([]);
  });
});
