import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Assistant } from '../../src/chat/assistant.js';
import type { ChatScope, ChatUser } from '../../src/chat/message.js';
import type { Card, Reply } from '../../src/chat/reply.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, type Referent } from '../../src/open.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';

const alice: ChatUser = { platform: 'slack', id: 'U-ALICE', name: 'Alice' };
const admin: ChatUser = { platform: 'slack', id: 'U-ADMIN', name: 'Ada' };
const general: ChatScope = { platform: 'slack', workspace: 'T1', channel: 'C-GENERAL' };
const vault: ChatScope = { platform: 'slack', workspace: 'T1', channel: 'C-VAULT' };
const stranger: ChatScope = { platform: 'slack', workspace: 'T-OTHER', channel: 'C1' };

const pngOf = (rgb: [number, number, number]) => sharp({ create: { width: 40, height: 40, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();

describe('assistant (real catalogue, index and demo encoder)', () => {
  let dir: string;
  let referent: Referent;
  let assistant: Assistant;
  const logged: string[] = [];
  const ask = (text: string, scope = general, user = alice, images: Uint8Array[] = []) => assistant.handle({ text, images, user, scope });
  const only = async (p: Promise<Reply[]>) => {
    const replies = await p;
    expect(replies).toHaveLength(1);
    return replies[0]!;
  };
  const collectionOf = (card: Card) => card.collection;
  const itemOf = async (card: Card) => (await referent.catalog.getItem(card.itemId))!;

  beforeAll(async () => {
    dir = tempDir();
    const config = testConfig(path.join(dir, 'data'));
    referent = await openReferent(config);
    const { catalog } = referent;
    await catalog.ensureCollection('parts', 'part');
    await catalog.ensureCollection('people', 'person');
    await catalog.ensureCollection('secret', 'part');
    const add = async (sub: string, colours: string[], collection: string, labelled: (i: number) => boolean) => {
      const list = await readSources(await makeColourGallery(path.join(dir, sub), 3, colours));
      list.sources = list.sources.map((s, i) => (labelled(i) ? { ...s, collection } : { ...s, collection, entity: undefined as unknown as string }));
      await ingest(referent, list, { collection, batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
    };
    await add('parts', ['red', 'blue', 'green'], 'parts', (i) => i % 3 === 0);
    await add('people', ['white'], 'people', () => true);
    await add('secret', ['yellow'], 'secret', () => true);
    await referent.references.catchUp();
    const id = async (name: string) => (await catalog.findCollection(name))!.id;
    await catalog.grant({ collectionId: await id('parts'), platform: 'slack', workspace: 'T1' });
    await catalog.grant({ collectionId: await id('people'), platform: 'slack', workspace: 'T1' });
    await catalog.grant({ collectionId: await id('secret'), platform: 'slack', workspace: 'T1', channel: 'C-VAULT' });
    assistant = new Assistant(referent, {
      policy: { admins: new Set(['slack:U-ADMIN']), webCollections: '*' },
      limits: { maxTextChars: 500, maxImageBytes: 1 << 20, batchSize: 4 },
      results: 5,
      log: (line) => logged.push(line),
    });
  });
  afterAll(async () => {
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers free text with cards from the granted collections, best first', async () => {
    const reply = await only(ask('red'));
    expect(reply.kind).toBe('results');
    expect(reply.cards.length).toBeGreaterThan(0);
    expect((await itemOf(reply.cards[0]!)).caption).toMatch(/red/);
    expect(reply.cards.every((c) => ['parts', 'people'].includes(collectionOf(c)))).toBe(true);
    expect(reply.cards[0]!.actions.map((a) => a.kind)).toEqual(['confirm', 'reject', 'more']);
    expect(reply.demoEncoder).toBe(true);
  });

  it('keeps a collection to the channel it was granted to', async () => {
    const inGeneral = await only(ask('yellow'));
    expect(inGeneral.cards.some((c) => c.collection === 'secret')).toBe(false);
    const inVault = await only(ask('yellow', vault));
    expect(inVault.cards[0]!.collection).toBe('secret');
    const elsewhere = await only(ask('yellow', stranger));
    expect(elsewhere.kind).toBe('error');
    expect(elsewhere.text).toMatch(/No collection is shared/);
  });

  it('refuses a foreign item id in a button exactly as it refuses a missing one', async () => {
    const secretCard = (await only(ask('yellow', vault))).cards[0]!;
    const more = secretCard.actions.find((a) => a.kind === 'more')!;
    const fromGeneral = await assistant.act(more.value, alice, general);
    expect(fromGeneral.card).toBeNull();
    expect(fromGeneral.replies[0]!.kind).toBe('error');
    const missing = await assistant.act(more.value.replace(`"i":${secretCard.itemId}`, '"i":999999'), alice, vault);
    expect(missing.replies[0]!.text).toBe(fromGeneral.replies[0]!.text);
    const confirm = await assistant.act(secretCard.actions[0]!.value, alice, general);
    expect(confirm.replies[0]!.kind).toBe('error');
    expect(await referent.catalog.verdictsOn([secretCard.itemId], referent.encoder.modelId)).toHaveLength(0);
    // Entities of a collection this channel cannot see do not exist here.
    const label = (await itemOf(secretCard)).entityLabel!;
    for (const text of [`show ${label}`, `describe ${label}: shiny`, `forget ${label}`]) {
      const reply = await only(ask(text, general, admin));
      expect(reply.kind, text).toBe('error');
    }
    expect(await referent.catalog.findEntities(label)).toHaveLength(1);
  });

  it('rejects malformed button values with a reply, never a crash', async () => {
    for (const value of ['', 'nonsense', '{"v":1}', JSON.stringify({ v: 1, a: 'delete', i: 1, q: '', e: null, b: 'strong', w: '', t: true }), 'x'.repeat(5000), 42]) {
      const result = await assistant.act(value, alice, general);
      expect(result.replies[0]!.kind).toBe('error');
    }
  });

  it('keeps person collections off until enabled, then audits every person query', async () => {
    const before = await only(ask('white'));
    expect(before.cards.some((c) => c.collection === 'people')).toBe(false);
    const people = (await referent.catalog.findCollection('people'))!;
    await referent.catalog.setCollectionEnabled(people.id, true);
    const after = await only(ask('white'));
    expect(after.cards[0]!.collection).toBe('people');
    const [entry] = await referent.catalog.listAudit(1);
    expect(entry).toMatchObject({ user: 'slack:U-ALICE', platform: 'slack', scope: 'slack:T1/C-GENERAL', collectionId: people.id, query: 'white' });
    // Naming a person is a person query too.
    const person = (await referent.catalog.getItem(after.cards[0]!.itemId))!.entityLabel!;
    expect((await only(ask(`show ${person}`))).kind).toBe('results');
    expect((await referent.catalog.listAudit(1))[0]).toMatchObject({ user: 'slack:U-ALICE', collectionId: people.id, query: `show ${person}` });
  });

  it('learns a new entity from a photo with "add X: …" and shows it', async () => {
    const photo = await pngOf([20, 40, 230]);
    // Two collections are visible here (parts, and people once enabled): an unnamed add goes to the one that is not for people.
    const added = await only(ask('add WIDGET-9: a small blue widget', general, alice, [photo]));
    expect(added.kind).toBe('info');
    expect(added.text).toMatch(/Added 1 photo of WIDGET-9 to parts/);
    const shown = await only(ask('show WIDGET-9'));
    expect(shown.cards).toHaveLength(1);
    const item = await itemOf(shown.cards[0]!);
    expect(item.entityLabel).toBe('WIDGET-9');
    expect(item.source).toMatchObject({ platform: 'slack', channel: 'slack:T1/C-GENERAL', user: 'slack:U-ALICE' });
    expect(shown.text).toMatch(/a small blue widget/);
  });

  it('a "That\'s it" changes the very next answer, and the card says who gave it', async () => {
    const first = await only(ask('green'));
    // A card below the first: That's it on it brings it to the top of the same question.
    const pick = first.cards[1]!;
    const value = pick.actions.find((a) => a.kind === 'confirm')!.value;
    let result = await assistant.act(value, alice, general);
    // A photo that looks like nothing known asks for its label first.
    if (result.askLabel) result = await assistant.act(result.askLabel.value, alice, general, { label: 'GREEN-PICK' });
    expect(result.card).toMatchObject({ itemId: pick.itemId, verdict: 'Confirmed by Alice' });
    const next = await only(ask('green'));
    expect(next.cards[0]!.itemId).toBe(pick.itemId);
    expect(next.cards[0]!.why).toMatch(/confirmed for a query like this/);
  });

  it('a "Not it" demotes the image for the same question', async () => {
    const first = await only(ask('blue'));
    const top = first.cards[0]!;
    const result = await assistant.act(top.actions.find((a) => a.kind === 'reject')!.value, alice, general);
    expect(result.card?.verdict).toBe('Rejected by Alice');
    const next = await only(ask('blue'));
    expect(next.cards[0]!.itemId).not.toBe(top.itemId);
  });

  it('"More like this" finds similar images within what the channel may see', async () => {
    const red = (await only(ask('red'))).cards[0]!;
    const result = await assistant.act(red.actions.find((a) => a.kind === 'more')!.value, alice, general);
    const [reply] = result.replies;
    expect(reply!.kind).toBe('results');
    expect(reply!.cards.map((c) => c.itemId)).not.toContain(red.itemId);
    expect((await itemOf(reply!.cards[0]!)).caption).toMatch(/red/);
    expect(reply!.cards.every((c) => c.collection !== 'secret')).toBe(true);
  });

  it('lets only admins forget', async () => {
    const denied = await only(ask('forget WIDGET-9'));
    expect(denied.kind).toBe('error');
    expect(denied.text).toMatch(/Only an admin/);
    // Asked first, with what goes; nothing is forgotten until Forget is pressed.
    const asked = await only(ask('forget WIDGET-9', general, admin));
    expect(asked.text).toMatch(/Forget WIDGET-9 \(parts\) and its 1 photo, with its descriptions and verdicts\?/);
    expect(asked.actions?.map((a) => a.kind)).toEqual(['forget', 'cancel']);
    expect((await only(ask('show WIDGET-9'))).kind).not.toBe('error');
    const kept = await assistant.act(asked.actions![1]!.value, admin, general);
    expect(kept.update?.text).toMatch(/Kept WIDGET-9/);
    expect((await only(ask('show WIDGET-9'))).kind).not.toBe('error');
    // Forget pressed by someone who is not an admin does nothing.
    const refused = await assistant.act(asked.actions![0]!.value, { platform: 'slack', id: 'U-NOBODY' }, general);
    expect(refused.replies[0]?.text).toMatch(/Only an admin/);
    const done = await assistant.act(asked.actions![0]!.value, admin, general);
    expect(done.update?.text).toMatch(/Forgotten by .*: WIDGET-9 \(parts\), with its 1 photo/);
    expect((await only(ask('show WIDGET-9'))).kind).toBe('error');
    // Pressed again (another tab, a repeated click): nothing left to forget, and it says so.
    expect((await assistant.act(asked.actions![0]!.value, admin, general)).replies[0]?.text).toMatch(/not here any more/);
  });

  it('has help, stats and usage answers', async () => {
    expect((await only(ask('help'))).text).toMatch(/add P-20417/);
    const stats = await only(ask('stats'));
    expect(stats.text).toMatch(/parts \(part\): \d+ images/);
    expect(stats.text).not.toMatch(/secret/);
    expect((await only(ask('describe nothing'))).kind).toBe('error');
    expect((await only(ask('x'.repeat(501)))).kind).toBe('error');
  });

  it('logs the unexpected once and apologises', async () => {
    const broken = new Assistant({ ...referent, catalog: { ...referent.catalog, listCollections: () => { throw new Error('disk on fire'); } } as typeof referent.catalog }, {
      policy: { admins: new Set(), webCollections: '*' },
      limits: { maxTextChars: 500, maxImageBytes: 1 << 20, batchSize: 4 },
      log: (line) => logged.push(line),
    });
    const before = logged.length;
    const reply = await only(broken.handle({ text: 'red', images: [], user: alice, scope: general }));
    expect(reply.kind).toBe('error');
    expect(reply.text).not.toMatch(/disk on fire/);
    expect(logged.length - before).toBe(1);
    expect(logged.at(-1)).toMatch(/disk on fire/);
  });
});
