/**
 * Name this person in Slack: `faces` answers a card per unknown face group with the button; pressing
 * it opens the label dialog That's it opens on a photo nobody labelled, and its submission names the
 * group, redraws the pressed card with who named it (a second card of the same photo left as it was)
 * and says in the thread what was named. A guest from another workspace is told the group is not there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFacePeople } from '../faces/face-people.js';
import { blocksOf, TEAM, type Block } from '../support/slack-world.js';
import { appMention, blockActions, eventCallback, viewSubmission } from './fixtures.js';
import { cardsOf, httpWorld, type HttpWorld, replyText } from './harness.js';

describe('Name this person in Slack', () => {
  let w: HttpWorld;
  let people: Awaited<ReturnType<typeof addFacePeople<'bo1' | 'bo2' | 'party'>>>;
  beforeAll(async () => {
    w = await httpWorld();
    // Bo on two photos; two people nobody named only together, on the party photo.
    people = await addFacePeople(
      w.referent,
      'people',
      [
        { name: 'bo1', people: [1] },
        { name: 'bo2', people: [1] },
        { name: 'party', people: [3, 4] },
      ],
      [{ platform: 'slack', workspace: TEAM }],
    );
  });
  afterAll(async () => w.close());

  const press = (value: string, user: string, message: { ts: string; thread_ts?: string; blocks: Block[] }, extra: { blockId?: string; triggerId?: string; userTeam?: string } = {}) =>
    w.interact(blockActions({ actionId: 'referent.name', value, user, message: { text: 'x', ...message }, responseUrl: w.responseUrl(`name-${user}`), ...extra }));
  /** `faces` in CGENERAL, answered at once (no placeholder: nothing is searched). */
  async function faces() {
    const event = appMention('faces');
    await w.send(eventCallback(event));
    const posted = await w.fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === event.ts);
    return { ts: String(posted.response!.ts), thread: String(event.ts), blocks: blocksOf(posted) };
  }
  /** The card blocks of one photo, in order: picture, why, buttons (when any), divider. */
  const blocksOfPhoto = (blocks: readonly Block[], itemId: number) => blocks.filter((b) => b.block_id?.startsWith(`card:${itemId}:`));

  it('shows the button on each card of `faces`; pressing it and giving a name names the group and redraws its card', async () => {
    const { ts, thread, blocks } = await faces();
    expect(replyText(blocks)).toMatch(/^3 groups of faces nobody has named\. Name one with its Name this person button/);
    const cards = cardsOf(blocks);
    expect(cards.map((c) => c.itemId)).toEqual([people.ids.bo2, people.ids.party]);
    const button = blocks.find((b) => b.block_id === cards[0]!.blockId)!.elements!.find((e) => e.action_id === 'referent.name')!;
    expect(button).toMatchObject({ type: 'button', text: { type: 'plain_text', text: 'Name this person' }, style: 'primary' });
    // The second card of the party photo has no button: the photo is on the card before it.
    expect(blocksOfPhoto(blocks, people.ids.party).filter((b) => b.type === 'divider')).toHaveLength(2);

    await press(cards[0]!.values.name!, 'UBOB', { ts, thread_ts: thread, blocks }, { blockId: cards[0]!.blockId, triggerId: 'name.1' });
    const opened = await w.fake.waitFor('views.open', (c) => c.args.trigger_id === 'name.1');
    const view = opened.args.view as { callback_id: string; private_metadata: string; submit: { text: string }; blocks: Array<{ type: string; block_id?: string; text?: { text: string }; element?: Record<string, unknown> }> };
    expect(view.callback_id).toBe('referent.label');
    expect(view.submit.text).toBe('Name');
    expect(view.blocks[0]!.text!.text).toMatch(/^Who is this\? 2 photos in people show this face\./);
    expect(view.blocks.find((b) => b.block_id === 'label')!.element!.initial_value).toBeUndefined();

    const submit = (label: string) => w.interact(viewSubmission('referent.label', { label }, view.private_metadata, { user: 'UBOB' }));
    expect(JSON.parse((await submit('Bo: tall')).text)).toEqual({ response_action: 'errors', errors: { label: expect.stringMatching(/without a colon/) } });
    expect(await w.referent.catalog.findEntities('Bo')).toEqual([]);
    expect(await submit('Bo Brown')).toEqual({ status: 200, text: '' });
    const redrawn = await w.fake.waitFor('chat.update', (c) => c.args.ts === ts && JSON.stringify(c.args.blocks).includes('Named Bo Brown by bob'));
    const after = blocksOf(redrawn);
    expect(blocksOfPhoto(after, people.ids.bo2).some((b) => b.type === 'actions')).toBe(false);
    expect(cardsOf(after).map((c) => c.itemId)).toEqual([people.ids.party]);
    const told = await w.fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === thread && /Bo Brown/.test(String(c.args.text)));
    expect(String(told.args.text)).toBe('Named: 2 photos in people are now Bo Brown.');
    const [bo] = await w.referent.catalog.findEntities('Bo Brown');
    expect((await w.referent.catalog.entityItems(bo!.id)).map((i) => i.id).sort()).toEqual([people.ids.bo1, people.ids.bo2].sort());
  });

  it('redraws only the first card of a photo two groups share, and the group leaves `faces`', async () => {
    const { ts, thread, blocks } = await faces();
    const [party] = cardsOf(blocks);
    expect(party!.itemId).toBe(people.ids.party);
    await press(party!.values.name!, 'UBOB', { ts, thread_ts: thread, blocks }, { blockId: party!.blockId, triggerId: 'name.2' });
    const opened = await w.fake.waitFor('views.open', (c) => c.args.trigger_id === 'name.2');
    const metadata = (opened.args.view as { private_metadata: string }).private_metadata;
    expect(await w.interact(viewSubmission('referent.label', { label: 'Dee' }, metadata, { user: 'UBOB' }))).toEqual({ status: 200, text: '' });
    const redrawn = await w.fake.waitFor('chat.update', (c) => c.args.ts === ts && JSON.stringify(c.args.blocks).includes('Named Dee by bob'));
    const photo = blocksOfPhoto(blocksOf(redrawn), people.ids.party);
    // Both cards are still there, in their places: the named one and, after it, the other group's as it was.
    expect(photo.filter((b) => b.type === 'divider')).toHaveLength(2);
    expect(JSON.stringify(photo.slice(-3))).toMatch(/Unknown face group \d+/);
    expect(JSON.stringify(photo.slice(-3))).not.toContain('Named');
    // The party photo now shows Dee, so no face on it is unknown any more.
    const { blocks: now } = await faces();
    expect(replyText(now)).toBe('Every face found here is named (or no faces were found yet).');
  });

  it('tells a guest from another workspace that the group is not there, and opens no dialog', async () => {
    await addFacePeople(w.referent, 'people', [{ name: 'cy', people: [2] }]);
    const { ts, thread, blocks } = await faces();
    const [cy] = cardsOf(blocks);
    await press(cy!.values.name!, 'UGUEST', { ts, thread_ts: thread, blocks }, { blockId: cy!.blockId, triggerId: 'name.guest', userTeam: 'TGUEST' });
    const told = await w.fake.waitFor('chat.postEphemeral', (c) => c.args.user === 'UGUEST');
    expect(String(told.args.text)).toMatch(/There is no unknown face group \d+ here now/);
    expect(w.fake.callsTo('views.open').some((c) => c.args.trigger_id === 'name.guest')).toBe(false);
  });
});
