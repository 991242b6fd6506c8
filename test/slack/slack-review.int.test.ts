/**
 * Reviewing in Slack: forget asks first, with Forget (danger, confirmed) and Keep it buttons; That's
 * it on a photo nobody labelled opens a dialog for the label and links it; a rejection shows ✗;
 * the dialogs start empty; Find similar words the photo as its poster's or "this photo"; a Slack
 * Connect guest is answered from their own workspace's grants, never the host's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIND_SIMILAR, ADD_REFERENCE } from '../../adapters/slack/slack-adapter.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { blocksOf, pngOf, type Block } from '../support/slack-world.js';
import { appMention, blockActions, eventCallback, fileObject, messageShortcut, viewSubmission } from './fixtures.js';
import { cardsOf, httpWorld, type HttpWorld, replyText } from './harness.js';

describe('reviewing in Slack', () => {
  let w: HttpWorld;
  beforeAll(async () => {
    w = await httpWorld();
  });
  afterAll(async () => w.close());

  const press = (actionId: string, value: string, user: string, message: { ts: string; thread_ts?: string; blocks: Block[] }, extra: { blockId?: string; triggerId?: string; userTeam?: string } = {}) =>
    w.interact(blockActions({ actionId, value, user, message: { text: 'x', ...message }, responseUrl: w.responseUrl(`press-${user}`), ...extra }));

  /** A mention answered without a placeholder (forget asks at once). */
  async function mention(text: string, user: string) {
    const event = appMention(text, { user });
    await w.send(eventCallback(event));
    const posted = await w.fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts);
    return { ts: String(posted.response!.ts), thread: String(event.ts), blocks: blocksOf(posted) };
  }

  it('forget asks with Forget (danger, with a confirmation) and Keep it; Keep it answers in place, buttons gone', async () => {
    const asked = await mention('forget RED-washer', 'UADMIN');
    expect(replyText(asked.blocks)).toMatch(/^Forget RED-washer \(parts\) and its 1 photo, .*cannot be undone/);
    const buttons = asked.blocks.find((b) => b.type === 'actions')!.elements!;
    expect(buttons.map((b) => [b.action_id, b.style ?? null])).toEqual([['referent.forget', 'danger'], ['referent.cancel', null]]);
    expect(buttons[0]!.confirm).toMatchObject({ style: 'danger', confirm: { text: 'Forget RED-washer' }, deny: { text: 'Keep it' } });
    await press('referent.cancel', String(buttons[1]!.value), 'UBOB', { ts: asked.ts, thread_ts: asked.thread, blocks: asked.blocks });
    const kept = await w.fake.waitFor('chat.update', (c) => c.args.ts === asked.ts);
    expect(String(kept.args.text)).toBe('Kept RED-washer: bob chose not to forget it.');
    expect(blocksOf(kept).some((b) => b.type === 'actions')).toBe(false);
    expect(await w.referent.catalog.findEntities('RED-washer')).toHaveLength(1);
  });

  it('Forget by someone who is not an admin is refused privately; by an admin it forgets, and the question says so', async () => {
    const asked = await mention('forget RED-washer', 'UADMIN');
    const forget = String(asked.blocks.find((b) => b.type === 'actions')!.elements![0]!.value);
    await press('referent.forget', forget, 'UALICE', { ts: asked.ts, thread_ts: asked.thread, blocks: asked.blocks });
    const refused = await w.fake.waitFor('chat.postEphemeral', (c) => c.args.user === 'UALICE' && /Only an admin/.test(String(c.args.text)));
    expect(refused.args.thread_ts).toBe(asked.thread);
    expect(w.fake.callsTo('chat.update').some((c) => c.args.ts === asked.ts)).toBe(false);
    await press('referent.forget', forget, 'UADMIN', { ts: asked.ts, thread_ts: asked.thread, blocks: asked.blocks });
    const done = await w.fake.waitFor('chat.update', (c) => c.args.ts === asked.ts);
    expect(String(done.args.text)).toMatch(/^Forgotten by admin: RED-washer \(parts\), with its 1 photo, descriptions and verdicts\.$/);
    expect(blocksOf(done).some((b) => b.type === 'actions')).toBe(false);
    expect(await w.referent.catalog.findEntities('RED-washer')).toEqual([]);
  });

  it("That's it on a photo nobody labelled opens an empty label dialog; a bad label shows in the field; a good one links it and redraws the card", async () => {
    // An unlabelled photo in parts, then a search with the same photo: it comes first, and nothing says what it is.
    const folder = path.join(w.dir, 'unlabelled');
    fs.mkdirSync(folder);
    const bytes = await pngOf([200, 40, 200]);
    fs.writeFileSync(path.join(folder, 'magenta.png'), bytes);
    await ingest(w.referent, { ...(await readSources(folder)), sources: (await readSources(folder)).sources.map((s) => ({ ...s, collection: 'parts' })) }, { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
    await w.referent.references.catchUp();
    const file = w.fake.addFile(bytes, { name: 'magenta.png', mimetype: 'image/png' });
    const { ts, thread, blocks } = await w.ask('', { files: [fileObject(file)] });
    const card = cardsOf(blocks).find((c) => (JSON.parse(c.values.confirm!) as { e: number | null }).e === null);
    expect(card, 'a card nobody can attribute').toBeDefined();
    expect(card!.title).toMatch(/^Unlabelled image #\d+$/);
    await press('referent.confirm', card!.values.confirm!, 'UBOB', { ts, thread_ts: thread, blocks }, { blockId: card!.blockId, triggerId: 'label.1' });
    const opened = await w.fake.waitFor('views.open', (c) => c.args.trigger_id === 'label.1');
    const view = opened.args.view as { callback_id: string; private_metadata: string; blocks: Array<{ type: string; block_id?: string; element?: Record<string, unknown> }> };
    expect(view.callback_id).toBe('referent.label');
    const field = view.blocks.find((b) => b.block_id === 'label')!.element!;
    expect(field.initial_value).toBeUndefined();
    expect(field.placeholder).toMatchObject({ text: 'P-20417' });
    expect(view.private_metadata.length).toBeLessThanOrEqual(3000);
    expect(JSON.parse(view.private_metadata)).toMatchObject({ c: 'CGENERAL', t: ts, h: thread, k: card!.blockId });
    const submit = (label: string) => w.interact(viewSubmission('referent.label', { label }, view.private_metadata, { user: 'UBOB' }));
    const refused = await submit('bad: label');
    expect(JSON.parse(refused.text)).toEqual({ response_action: 'errors', errors: { label: expect.stringMatching(/without a colon/) } });
    expect(await submit('MAGENTA-1')).toEqual({ status: 200, text: '' });
    const redrawn = await w.fake.waitFor('chat.update', (c) => c.args.ts === ts && JSON.stringify(c.args.blocks).includes('Confirmed by bob'));
    const after = cardsOf(blocksOf(redrawn)).find((c) => c.itemId === card!.itemId)!;
    expect(after.title).toBe('MAGENTA-1');
    const thanks = await w.fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === thread && /MAGENTA-1/.test(String(c.args.text)));
    expect(String(thanks.args.text)).toMatch(/^Thanks, bob: this image is now MAGENTA-1/);
    expect((await w.referent.catalog.getItem(card!.itemId))!.entityLabel).toBe('MAGENTA-1');
  });

  it('the Add as reference dialog starts empty: the message text is only a placeholder', async () => {
    const file = w.fake.addFile(await pngOf([30, 200, 200]), { name: 'teal.png', mimetype: 'image/png' });
    await w.interact(messageShortcut(ADD_REFERENCE, { text: 'anyone know what this fitting is?', files: [fileObject(file)], triggerId: 'add.empty', responseUrl: w.responseUrl('add-empty') }));
    const opened = await w.fake.waitFor('views.open', (c) => c.args.trigger_id === 'add.empty');
    const inputs = (opened.args.view as { blocks: Array<{ block_id: string; element: Record<string, unknown> }> }).blocks;
    expect(inputs.map((b) => b.element.initial_value)).toEqual([undefined, undefined, undefined]);
    expect(inputs.find((b) => b.block_id === 'text')!.element.placeholder).toMatchObject({ text: 'anyone know what this fitting is?' });
  });

  it('Find similar says "your photo" to its poster and "this photo" to anyone else', async () => {
    const file = w.fake.addFile(await pngOf([30, 60, 220]), { name: 'b.png', mimetype: 'image/png' });
    const run = async (poster: string, user: string) => {
      const payload = messageShortcut(FIND_SIMILAR, { poster, user, files: [fileObject(file)], responseUrl: w.responseUrl(`similar-${user}`) });
      await w.interact(payload);
      const placeholder = await w.fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === payload.message_ts);
      return String((await w.fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts)).args.text);
    };
    expect(await run('UALICE', 'UALICE')).toMatch(/^\d+ match(es)? for your photo\.$/);
    expect(await run('UALICE', 'UBOB')).toMatch(/^\d+ match(es)? for this photo\.$/);
  });
});

describe('Slack Connect: a guest from another workspace', () => {
  let w: HttpWorld;
  beforeAll(async () => {
    w = await httpWorld();
  });
  afterAll(async () => w.close());

  it("is not answered from the host's grants, in the host's own channel", async () => {
    const event = appMention('red', { user: 'UGUEST', userTeam: 'TGUEST' });
    await w.send(eventCallback(event, { shared: true }));
    const told = await w.fake.waitFor('chat.postEphemeral', (c) => c.args.user === 'UGUEST');
    expect(String(told.args.text)).toContain('slack:TGUEST/CGENERAL');
    expect(w.fake.callsTo('chat.update').some((c) => c.args.thread_ts === event.ts)).toBe(false);
  });

  it("cannot judge a host's card either: the button says the image is not available here", async () => {
    const { ts, thread, blocks } = await w.ask('blue');
    const [first] = cardsOf(blocks);
    await w.interact(blockActions({ actionId: 'referent.reject', value: first!.values.reject, blockId: first!.blockId, user: 'UGUEST', userTeam: 'TGUEST', message: { ts, thread_ts: thread, text: 'x', blocks }, responseUrl: w.responseUrl('guest') }));
    const told = await w.fake.waitFor('chat.postEphemeral', (c) => c.args.user === 'UGUEST' && /not available in this conversation/.test(String(c.args.text)));
    expect(told).toBeDefined();
    expect(w.fake.callsTo('chat.update').some((c) => c.args.ts === ts && JSON.stringify(c.args.blocks).includes('Rejected'))).toBe(false);
  });

  it('is answered once a grant names their workspace', async () => {
    await w.referent.catalog.grant({ collectionId: (await w.referent.catalog.findCollection('parts'))!.id, platform: 'slack', workspace: 'TGUEST' });
    const { update } = await w.ask('green', { user: 'UGUEST', userTeam: 'TGUEST' });
    expect(String(update.args.text)).toMatch(/matches for "green"/);
  });
});
