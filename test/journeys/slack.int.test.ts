/**
 * The three ways people use Referent (README.md "Try it") in Slack: find, teach, review
 * as a team, on the demo gallery, through the Slack adapter over HTTP (signed requests) with the
 * fake Slack on 127.0.0.1. Each step asserts what people in the channel see: the first card's
 * title, the reply's words, the card a verdict redrew, the dialog That's it opens.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assistantFor } from '../../adapters/serve.js';
import { createSlackAdapter } from '../../adapters/slack/slack-adapter.js';
import type { Config } from '../../src/config.js';
import { openReferent, type Referent } from '../../src/open.js';
import { buildDemo } from '../../scripts/demo.js';
import type { DemoGallery } from '../../scripts/make-demo-gallery.js';
import { type FakeSlack, postSigned, startFakeSlack } from '../support/fake-slack.js';
import { tempDir } from '../support/fixtures.js';
import { BOT_TOKEN, blocksOf, pngOf, SIGNING_SECRET, slackConfig, TEAM, type Block } from '../support/slack-world.js';
import { startServer, type TestServer } from '../support/web.js';
import { appMention, blockActions, eventCallback, fileObject, viewSubmission } from '../slack/fixtures.js';
import { cardsOf, replyText } from '../slack/harness.js';

let dir: string;
let fake: FakeSlack;
let config: Config;
let gallery: DemoGallery;
let referent: Referent;
let server: TestServer;
const logged: string[] = [];

beforeAll(async () => {
  dir = tempDir('referent-journey-slack-');
  fake = await startFakeSlack({ botToken: BOT_TOKEN, teamId: TEAM });
  config = slackConfig(path.join(dir, 'data'), fake.apiUrl, { REFERENT_BATCH_SIZE: '8' });
  gallery = await buildDemo(config, path.join(dir, 'gallery'), () => {}, true);
  referent = await openReferent(config);
  // An admin shares the gallery with the whole workspace (people search is enabled in the demo).
  for (const name of ['parts', 'people']) await referent.catalog.grant({ collectionId: (await referent.catalog.findCollection(name))!.id, platform: 'slack', workspace: TEAM });
  const log = (line: string) => void logged.push(line);
  const assistant = assistantFor(referent, config, log);
  const slack = await createSlackAdapter(referent, assistant, { ...config, slack: config.slack! }, { log, retryConfig: { retries: 0 } });
  server = await startServer(referent, config, { assistant, log, mounts: [slack.mount!] });
}, 180_000);

afterAll(async () => {
  await server?.close();
  await fake?.close();
  await referent?.shutdown();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const send = (body: object) => postSigned(`${server.base}/slack/events`, SIGNING_SECRET, body);
const photo = (file: string) => fs.readFileSync(path.join(dir, 'gallery', file));
const itemOf = async (file: string) => {
  const collection = (await referent.catalog.findCollection(gallery.images.find((i) => i.file === file)!.collection))!;
  return (await referent.catalog.findLiveItemByHash(collection.id, createHash('sha256').update(photo(file)).digest('hex')))!;
};
const unlabelledView = (label: string) => gallery.entities.find((e) => e.label === label)!.unlabelledViews.at(-1)!;
const labelledView = (label: string) => gallery.entities.find((e) => e.label === label)!.images[0]!;

/** Posts photos to Slack (as a person would), for a mention to carry. */
const posted = (...photos: Array<{ bytes: Uint8Array; name: string }>) =>
  photos.map(({ bytes, name }) => fileObject(fake.addFile(bytes, { name, mimetype: name.endsWith('.jpg') ? 'image/jpeg' : 'image/png' })));

interface Answer {
  ts: string;
  thread: string;
  text: string;
  blocks: Block[];
  cards: ReturnType<typeof cardsOf>;
}

/** `@Referent <text>` in #general (with photos): the message the thread ends up showing. */
async function mention(text: string, options: { user?: string; files?: unknown[] } = {}): Promise<Answer> {
  const event = appMention(text, { user: options.user ?? 'UALICE', ...(options.files ? { files: options.files } : {}) });
  expect((await send(eventCallback(event))).status).toBe(200);
  const first = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts, 30_000);
  const placeholder = /^(Searching|Adding)…$/.test(String(first.args.text));
  const final = placeholder ? await fake.waitFor('chat.update', (c) => c.args.ts === first.response?.ts, 30_000) : first;
  const blocks = blocksOf(final);
  return { ts: String(first.response!.ts), thread: String(event.ts), text: String(final.args.text), blocks, cards: cardsOf(blocks) };
}

/** A button on one of Referent's messages, pressed by `user`. */
async function press(answer: Answer, card: ReturnType<typeof cardsOf>[number], kind: 'confirm' | 'reject', user: string, triggerId?: string) {
  const payload = blockActions({ actionId: `referent.${kind}`, value: card.values[kind]!, blockId: card.blockId, user, message: { ts: answer.ts, thread_ts: answer.thread, text: answer.text, blocks: answer.blocks }, responseUrl: `${fake.base}/respond/${user}`, ...(triggerId ? { triggerId } : {}) });
  expect((await send({ form: { payload: JSON.stringify(payload) } })).status).toBe(200);
}

describe('find: a description, a part number, a photo, a photo with words', () => {
  it('a description finds the part it describes first', async () => {
    const answer = await mention('red valve');
    expect(answer.text).toBe('5 matches for "red valve".');
    expect(answer.cards[0]!.title).toBe('P-40981');
  });

  it('a part number puts that part first, as a strong match', async () => {
    const answer = await mention('P-20417');
    expect(answer.text).toMatch(/^\d+ match(es)? for "P-20417"\.$/);
    expect(answer.cards[0]!.title).toBe('P-20417');
    expect(JSON.stringify(answer.blocks)).toContain('*Strong match*');
  });

  it('a photo from the gallery finds its part first', async () => {
    // A labelled photo: its card is the part's. (An unlabelled one can tie with the part's own
    // photos on the colour-only demo encoder, and the label reader may attribute it meanwhile.)
    const file = labelledView('P-40981');
    const answer = await mention('', { files: posted({ bytes: photo(file), name: path.basename(file) }) });
    expect(answer.text).toMatch(/^\d+ match(es)? for your photo\.$/);
    expect(answer.cards[0]!.title).toBe('P-40981');
    expect(answer.cards[0]!.itemId).toBe((await itemOf(file)).id);
  });

  it('a photo with words searches with both', async () => {
    const file = labelledView('P-88450');
    const answer = await mention('orange nut', { files: posted({ bytes: photo(file), name: path.basename(file) }) });
    expect(answer.text).toMatch(/^\d+ matches for "orange nut"\.$/);
    expect(answer.cards[0]!.title).toBe('P-88450');
  });
});

describe('teach: new photos and photos already in the gallery', () => {
  it('a new photo with "add" is added, and found by its description next time', async () => {
    const added = await mention('add TEST-1: a small blue widget', { files: posted({ bytes: await pngOf([20, 40, 230]), name: 'widget.png' }) });
    expect(added.text).toMatch(/^Added 1 photo of TEST-1 to parts\./);
    expect((await mention('small blue widget')).cards[0]!.title).toBe('TEST-1');
  });

  it('a photo already in the gallery, re-posted with "add", is linked, and found next time', async () => {
    const file = unlabelledView('P-12007');
    expect((await itemOf(file)).entityLabel).toBeNull();
    const linked = await mention('add TEST-2: a coiled hose on the shelf', { files: posted({ bytes: photo(file), name: path.basename(file) }) });
    expect(linked.text).toMatch(/Linked 1 photo already in the gallery to TEST-2\./);
    expect((await itemOf(file)).entityLabel).toBe('TEST-2');
    expect((await mention('TEST-2')).cards[0]!.title).toBe('TEST-2');
    // Its own description, asked, puts it first.
    expect((await mention('coiled hose on the shelf')).cards[0]!.title).toBe('TEST-2');
  });
});

describe('review as a team: two people in #general', () => {
  it("alice's Not it on the first card changes the first card bob gets for the same search", async () => {
    const before = await mention('golden elbow', { user: 'UALICE' });
    const top = before.cards[0]!;
    expect(top.title).toBe('P-31552');
    await press(before, top, 'reject', 'UALICE');
    const redrawn = await fake.waitFor('chat.update', (c) => c.args.ts === before.ts && JSON.stringify(c.args.blocks).includes('✗ Rejected by alice'));
    expect(cardsOf(blocksOf(redrawn)).map((c) => c.itemId)).toEqual(before.cards.map((c) => c.itemId));
    await fake.waitFor('chat.postEphemeral', (c) => c.args.user === 'UALICE' && /P-31552 will rank lower/.test(String(c.args.text)));
    const after = await mention('golden elbow', { user: 'UBOB' });
    expect(after.cards[0]!.title).not.toBe('P-31552');
  });

  it("That's it on a photo nobody labelled opens the label dialog; TEST-3 links it", async () => {
    const file = gallery.unlabelled.find((f) => f.includes('people'))!;
    const found = await mention('', { user: 'UBOB', files: posted({ bytes: photo(file), name: path.basename(file) }) });
    const { id } = await itemOf(file);
    const card = found.cards.find((c) => c.itemId === id)!;
    expect(card.title).toMatch(/^Unlabelled image #\d+$/);
    await press(found, card, 'confirm', 'UBOB', 'journey.label');
    const opened = await fake.waitFor('views.open', (c) => c.args.trigger_id === 'journey.label');
    const view = opened.args.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id?: string; element?: { initial_value?: string } }> };
    expect(view.callback_id).toBe('referent.label');
    expect(view.blocks.find((b) => b.block_id === 'label')!.element!.initial_value).toBeUndefined();
    const submitted = await send({ form: { payload: JSON.stringify(viewSubmission('referent.label', { label: 'TEST-3' }, view.private_metadata, { user: 'UBOB' })) } });
    expect(submitted).toEqual({ status: 200, text: '' });
    const redrawn = await fake.waitFor('chat.update', (c) => c.args.ts === found.ts && JSON.stringify(c.args.blocks).includes('Confirmed by bob'));
    expect(cardsOf(blocksOf(redrawn)).find((c) => c.itemId === card.itemId)!.title).toBe('TEST-3');
    await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === found.thread && /this image is now TEST-3/.test(String(c.args.text)));
    const shown = await mention('show TEST-3');
    expect(replyText(shown.blocks)).toMatch(/^TEST-3 \(people\): 1 photo/);
    expect(shown.cards.map((c) => c.itemId)).toEqual([card.itemId]);
  });

  it('forget asks with buttons; Forget by an admin removes it', async () => {
    const asked = await mention('forget TEST-3', { user: 'UADMIN' });
    expect(asked.text).toMatch(/^Forget TEST-3 \(people\) and its 1 photo/);
    const buttons = asked.blocks.find((b) => b.type === 'actions')!.elements!;
    expect(buttons.map((b) => b.text)).toEqual([expect.objectContaining({ text: 'Forget TEST-3' }), expect.objectContaining({ text: 'Keep it' })]);
    const payload = blockActions({ actionId: 'referent.forget', value: String(buttons[0]!.value), user: 'UADMIN', message: { ts: asked.ts, thread_ts: asked.thread, text: asked.text, blocks: asked.blocks }, responseUrl: `${fake.base}/respond/admin` });
    await send({ form: { payload: JSON.stringify(payload) } });
    const done = await fake.waitFor('chat.update', (c) => c.args.ts === asked.ts);
    expect(String(done.args.text)).toMatch(/^Forgotten by admin: TEST-3 \(people\), with its 1 photo/);
    // Gone: asking for it again is told (privately) that nothing goes by that name.
    const again = appMention('show TEST-3', { user: 'UBOB' });
    await send(eventCallback(again));
    const told = await fake.waitFor('chat.postEphemeral', (c) => c.args.thread_ts === again.ts, 30_000);
    expect(String(told.args.text)).toMatch(/I don't know anything called "TEST-3"/);
  });

  it('logged nothing unexpected', () => {
    expect(logged.filter((l) => /unexpected|could not process/.test(l))).toEqual([]);
  });
});
