/**
 * `/referent` answers the person who typed it, privately, through the command's response URL
 * (whether or not the bot is in the channel), and leaves nothing behind; Share in channel posts
 * the answer for everyone, saying who asked; verdicts on a private card redraw that card.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackCall } from '../support/fake-slack.js';
import { imageIds, textsOf, type Block } from '../support/slack-world.js';
import { blockActions, slashCommand } from './fixtures.js';
import { cardsOf, httpWorld, type HttpWorld, replyText } from './harness.js';

describe('/referent answers privately', () => {
  let w: HttpWorld;
  beforeAll(async () => {
    w = await httpWorld();
  });
  afterAll(async () => w.close());

  /** Runs `/referent <text>` in a channel and returns what went to its response URL once answered. */
  async function command(name: string, text: string, channel = 'CGENERAL', team?: string): Promise<SlackCall[]> {
    expect((await w.send({ form: slashCommand('/referent', text, { channel, responseUrl: w.responseUrl(name), ...(team ? { team } : {}) }) })).status).toBe(200);
    await expect.poll(() => w.responses(name).some((c) => c.args.text !== 'Searching…')).toBe(true);
    return w.responses(name);
  }
  const inChannel = (channel: string) => w.fake.calls.filter((c) => c.args.channel === channel && /^chat\.(postMessage|update|postEphemeral)$/.test(c.method));
  const blocksOfCall = (c: SlackCall) => c.args.blocks as Block[];

  it('"Searching…" and then the cards, in one private message, with nothing posted in the channel', async () => {
    const [searching, results, ...more] = await command('red', 'red valve', 'CPRIVATE1');
    expect(searching!.args).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: 'Searching…' });
    expect(results!.args).toMatchObject({ response_type: 'ephemeral', replace_original: true });
    expect(String(results!.args.text)).toMatch(/matches for "red valve"/);
    expect(more).toEqual([]);
    expect(imageIds(blocksOfCall(results!)).length).toBeGreaterThan(0);
    const share = blocksOfCall(results!).at(-1)!;
    expect(share.elements![0]).toMatchObject({ action_id: 'referent.share', text: { text: 'Share in channel' } });
    expect(JSON.parse(String(share.elements![0]!.value))).toEqual({ v: 1, q: 'red valve' });
    expect(inChannel('CPRIVATE1')).toEqual([]);
  });

  it('help alone is private too, with no Share button', async () => {
    const [help, ...more] = await command('help', '', 'CPRIVATE2');
    expect(more).toEqual([]);
    expect(help!.args.response_type).toBe('ephemeral');
    expect(textsOf(help!.args.blocks).mrkdwn.join('\n')).toMatch(/add P-20417/);
    expect(JSON.stringify(help!.args.blocks)).not.toContain('referent.share');
    expect(inChannel('CPRIVATE2')).toEqual([]);
  });

  it('works the same where the bot is not a member, and leaves no "Searching…" behind', async () => {
    w.fake.answer('chat.postMessage', () => ({ ok: false, error: 'not_in_channel' }));
    try {
      const calls = await command('outside', 'blue', 'COUTSIDE');
      expect(calls.map((c) => [c.args.text === 'Searching…', c.args.replace_original])).toEqual([
        [true, false],
        [false, true],
      ]);
    } finally {
      w.fake.answer('chat.postMessage', null);
    }
  });

  it('an error takes the private placeholder\'s place (nothing else is left)', async () => {
    const calls = await command('nogrant', 'red', 'CNOGRANT', 'T0002');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args).toMatchObject({ response_type: 'ephemeral', replace_original: true });
    expect(replyText(blocksOfCall(calls[1]!))).toMatch(/^⚠️ No collection is shared with this conversation yet: .*slack:T0002\/CNOGRANT/);
  });

  it('Share in channel posts the answer for everyone, says who asked, and removes the private one', async () => {
    const [, results] = await command('share', 'green', 'CSHARE');
    const share = blocksOfCall(results!).at(-1)!;
    const press = blockActions({ actionId: 'referent.share', value: String(share.elements![0]!.value), blockId: share.block_id!, user: 'UALICE', channel: 'CSHARE', responseUrl: w.responseUrl('share-press') });
    expect((await w.interact(press)).status).toBe(200);
    const placeholder = await w.fake.waitFor('chat.postMessage', (c) => c.args.channel === 'CSHARE' && c.args.text === 'Searching…');
    expect(placeholder.args.thread_ts).toBeUndefined();
    const shared = await w.fake.waitFor('chat.update', (c) => c.args.ts === placeholder.response?.ts);
    expect(String(shared.args.text)).toMatch(/matches for "green"/);
    expect(textsOf(shared.args.blocks).mrkdwn[0]).toBe('<@UALICE> asked `/referent green`');
    expect(JSON.stringify(shared.args.blocks)).not.toContain('referent.share');
    await expect.poll(() => w.responses('share-press').map((c) => c.args)).toEqual([{ delete_original: true }]);
  });

  it('Share where the bot is not a member says how to invite it, and keeps the private answer', async () => {
    const [, results] = await command('share-out', 'green', 'CSHAREOUT');
    const share = blocksOfCall(results!).at(-1)!;
    w.fake.answer('chat.postMessage', () => ({ ok: false, error: 'not_in_channel' }));
    try {
      await w.interact(blockActions({ actionId: 'referent.share', value: String(share.elements![0]!.value), user: 'UALICE', channel: 'CSHAREOUT', responseUrl: w.responseUrl('share-out-press') }));
      await expect.poll(() => w.responses('share-out-press').map((c) => String(c.args.text))).toEqual([expect.stringMatching(/invite me/)]);
      expect(w.responses('share-out-press')[0]!.args).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    } finally {
      w.fake.answer('chat.postMessage', null);
    }
  });

  it('a forged Share value is refused privately and shares nothing', async () => {
    await w.interact(blockActions({ actionId: 'referent.share', value: '{"v":2,"q":""}', channel: 'CFORGED', responseUrl: w.responseUrl('forged-share') }));
    await expect.poll(() => w.responses('forged-share').length).toBe(1);
    expect(String(w.responses('forged-share')[0]!.args.text)).toMatch(/not one of mine/);
    expect(inChannel('CFORGED')).toEqual([]);
  });

  it("Not it on a private card redraws that card (✗) through the press's response URL; the other cards stay", async () => {
    const [, results] = await command('verdict', 'blue', 'CVERDICT');
    const blocks = blocksOfCall(results!);
    const [first, second] = cardsOf(blocks);
    // An ephemeral message's button comes without the message: only its container says where.
    const press = blockActions({ actionId: 'referent.reject', value: first!.values.reject, blockId: first!.blockId, user: 'UBOB', channel: 'CVERDICT', responseUrl: w.responseUrl('verdict-press') });
    expect(press.message).toBeUndefined();
    await w.interact(press);
    await expect.poll(() => w.responses('verdict-press').find((c) => c.args.replace_original === true)).toBeTruthy();
    const redrawn = w.responses('verdict-press').find((c) => c.args.replace_original === true)!;
    const after = blocksOfCall(redrawn);
    expect(JSON.stringify(after)).toContain('✗ Rejected by bob');
    expect(cardsOf(after).map((c) => c.itemId)).toEqual(cardsOf(blocks).map((c) => c.itemId));
    expect(cardsOf(after)[1]!.blockId).toBe(second!.blockId);
    expect(replyText(after)).toBe(replyText(blocks));
    const thanks = w.responses('verdict-press').find((c) => c.args.replace_original === false)!;
    expect(String(thanks.args.text)).toMatch(/^Thanks, bob: /);
    expect(inChannel('CVERDICT')).toEqual([]);
  });

  it('logged nothing unexpected', () => {
    expect(w.logged.filter((l) => /unexpected|could not process/.test(l))).toEqual([]);
  });
});
