import { describe, expect, it } from 'vitest';
import {
  addReferenceModal,
  cardBlocks,
  escapeMrkdwn,
  labelModal,
  MAX_BLOCKS,
  plainFromSlack,
  replaceCard,
  replyMessage,
  shareBlock,
  sharedByBlock,
  sharedQuery,
  shareValue,
  type SlackImage,
} from '../../adapters/slack/blocks.js';
import type { Card, Reply } from '../../src/chat/reply.js';
import { mulberry32 } from '../../src/random.js';
import { sampleCard } from '../support/cards.js';

const card = sampleCard;
const results = (cards: Card[], text = `${cards.length} matches`): Reply => ({ kind: 'results', text, cards });
const noImages = new Map<string, SlackImage>();

function textObjects(node: unknown, out: Array<{ type: string; text: string }> = []): Array<{ type: string; text: string }> {
  if (Array.isArray(node)) node.forEach((n) => textObjects(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push({ type: o.type, text: o.text });
    Object.values(o).forEach((v) => textObjects(v, out));
  }
  return out;
}

describe('escapeMrkdwn', () => {
  it("escapes Slack's control characters and defuses broadcast words", () => {
    expect(escapeMrkdwn('<!channel> <@U1> <https://x|y> a & b')).toBe('&lt;!channel&gt; &lt;@U1&gt; &lt;https://x|y&gt; a &amp; b');
    expect(escapeMrkdwn('hi @here and @Everyone')).toBe('hi @\u200bhere and @\u200bEveryone');
  });

  it('leaves no angle bracket in any text (seeded random strings)', () => {
    const random = mulberry32(7);
    const alphabet = '<>&@!|*_~`abc \n:#';
    for (let n = 0; n < 500; n++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const escaped = escapeMrkdwn(text);
      expect(escaped).not.toMatch(/[<>]/);
      expect(escaped.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
    }
  });
});

describe('plainFromSlack', () => {
  it("reads Slack's message format as the words typed", () => {
    expect(plainFromSlack('<@UBOT> red valve', 'UBOT')).toBe('red valve');
    expect(plainFromSlack('ask <@U2|bob> in <#C1|general> about <https://x.example/a|the spec>', 'UBOT')).toBe('ask @bob in #general about the spec');
    expect(plainFromSlack('<!here> &lt;b&gt; 1 &amp; 2 <mailto:a@b.c|a@b.c> <https://x.example>')).toBe('@here <b> 1 & 2 a@b.c https://x.example');
  });
});

describe('replyMessage', () => {
  it('puts every card in blocks: picture, band and why, three buttons', () => {
    const image: SlackImage = { slack_file: { id: 'F1' } };
    const { blocks, text } = replyMessage(results([card(1)], '1 match for "brass"'), new Map([[card(1).mediaKey, image]]));
    expect(text).toBe('1 match for "brass"');
    expect(blocks.map((b) => b.type)).toEqual(['section', 'image', 'context', 'actions', 'divider']);
    expect(blocks[1]).toMatchObject({ slack_file: { id: 'F1' }, title: { type: 'plain_text', text: 'P-1' } });
    const buttons = (blocks[3]!.elements as Array<{ action_id: string }>).map((e) => e.action_id);
    expect(buttons).toEqual(['referent.confirm', 'referent.reject', 'referent.more']);
  });

  it('shows a card without a picture as text when no image source is known', () => {
    const [first] = cardBlocks(card(2), undefined);
    expect(first).toMatchObject({ type: 'section', text: { type: 'plain_text', text: 'P-2' } });
  });

  it('stays within 50 blocks and says how many cards were left out', () => {
    const { blocks } = replyMessage(results(Array.from({ length: 20 }, (_, i) => card(i + 1))), noImages);
    expect(blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    expect(JSON.stringify(blocks.at(-1))).toMatch(/\d+ more not shown/);
  });

  it('carries user text only in plain_text objects, and escapes it where mrkdwn is the only choice', () => {
    const hostile = '<!channel> *bold* <https://evil.example|click>';
    const message = replyMessage(results([card(3, { title: hostile, why: hostile, collection: hostile, verdict: `Confirmed by ${hostile}` })], `1 match for "${hostile}"`), noImages);
    for (const t of textObjects(message.blocks)) {
      if (t.type === 'mrkdwn') expect(t.text).not.toContain(hostile);
    }
    expect(message.text).not.toMatch(/<!|<https/);
    const error = replyMessage({ kind: 'error', text: hostile, cards: [] }, noImages);
    expect(textObjects(error.blocks).every((t) => t.type === 'plain_text')).toBe(true);
  });

  it('renders help as mrkdwn with its text escaped', () => {
    const { blocks } = replyMessage({ kind: 'help', text: 'Try `find <description>`', cards: [] }, noImages);
    expect(blocks[0]).toMatchObject({ text: { type: 'mrkdwn', text: 'Try `find &lt;description&gt;`' } });
  });
});

describe('replaceCard', () => {
  it('re-renders one card in place with new block ids and keeps the rest', () => {
    const before = replyMessage(results([card(1), card(2), card(3)]), noImages).blocks;
    const after = replaceCard(before, card(2, { verdict: 'Confirmed by alice' }), undefined);
    expect(after.map((b) => b.type)).toEqual(before.map((b) => b.type));
    const ids = (blocks: typeof before, item: number) => blocks.filter((b) => String(b.block_id).startsWith(`card:${item}:`)).map((b) => b.block_id);
    expect(ids(after, 1)).toEqual(ids(before, 1));
    expect(ids(after, 3)).toEqual(ids(before, 3));
    expect(ids(after, 2)).not.toEqual(ids(before, 2));
    expect(JSON.stringify(after)).toContain('Confirmed by alice');
  });
});

describe('verdicts and bands on cards', () => {
  const contextOf = (c: ReturnType<typeof card>) => JSON.stringify(cardBlocks(c, undefined)[1]);

  it('marks a confirmation with ✓ and a rejection with ✗', () => {
    expect(contextOf(card(1, { verdict: 'Confirmed by alice' }))).toContain('✓ Confirmed by alice');
    const rejected = contextOf(card(1, { verdict: 'Rejected by bob' }));
    expect(rejected).toContain('✗ Rejected by bob');
    expect(rejected).not.toContain('✓');
  });

  it('shows no band on a card that was not searched for (show)', () => {
    const { band: _band, ...shown } = card(2);
    expect(contextOf(shown)).not.toMatch(/match\*|match_/);
    expect(contextOf(card(2))).toContain('*Strong match*');
  });
});

describe("a reply's own buttons (forget)", () => {
  const question: Reply = {
    kind: 'info',
    text: 'Forget P-88450 (parts) and its 3 photos, with its descriptions and verdicts? This cannot be undone.',
    cards: [],
    actions: [
      { kind: 'forget', label: 'Forget P-88450', value: '{"v":1,"a":"forget","e":7,"l":"P-88450"}', danger: true },
      { kind: 'cancel', label: 'Keep it', value: '{"v":1,"a":"cancel","e":7,"l":"P-88450"}' },
    ],
  };

  it('renders them under the text: the destructive one in danger style with a confirmation, Keep it plain', () => {
    const { blocks } = replyMessage(question, noImages);
    expect(blocks.map((b) => b.type)).toEqual(['section', 'actions']);
    const [forget, keep] = blocks[1]!.elements as Array<Record<string, unknown>>;
    expect(forget).toMatchObject({ action_id: 'referent.forget', style: 'danger', value: question.actions![0]!.value, confirm: { style: 'danger', confirm: { text: 'Forget P-88450' }, deny: { text: 'Keep it' } } });
    expect(keep).toMatchObject({ action_id: 'referent.cancel', text: { text: 'Keep it' }, value: question.actions![1]!.value });
    expect(keep!.style).toBeUndefined();
    expect(keep!.confirm).toBeUndefined();
  });

  it('are gone once the question is answered (a reply without actions)', () => {
    const { blocks } = replyMessage({ kind: 'info', text: 'Kept P-88450: bob chose not to forget it.', cards: [] }, noImages);
    expect(blocks.some((b) => b.type === 'actions')).toBe(false);
  });
});

describe('Share in channel', () => {
  it('carries the words asked, and nothing else, within a button value', () => {
    const value = shareValue('red valve, 1 inch')!;
    expect(sharedQuery(value)).toBe('red valve, 1 inch');
    expect(shareValue('x'.repeat(2100))).toBeNull();
    expect(shareValue('   ')).toBeNull();
    for (const forged of ['{"v":1}', '{"v":2,"q":"a"}', 'not json', 42, '{"v":1,"q":"  "}']) expect(sharedQuery(forged)).toBeNull();
    expect(shareBlock(value).elements).toEqual([expect.objectContaining({ action_id: 'referent.share', value })]);
  });

  it('says who asked with a real mention, and never turns a forged id or the question into markup', () => {
    expect((sharedByBlock('UALICE', 'red <!channel> `x`').elements as Array<{ text: string }>)[0]!.text).toBe("<@UALICE> asked `/referent red &lt;!channel&gt; 'x'`");
    expect((sharedByBlock('<!here>', 'red').elements as Array<{ text: string }>)[0]!.text).toBe('&lt;!here&gt; asked `/referent red`');
  });

  it('keeps a message with extras within 50 blocks', () => {
    const { blocks } = replyMessage(results(Array.from({ length: 20 }, (_, i) => card(i + 1))), noImages, { head: [sharedByBlock('UALICE', 'red')], tail: [shareBlock(shareValue('red')!)] });
    expect(blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    expect(blocks[0]!.type).toBe('context');
    expect(blocks.at(-1)!.block_id).toBe('share');
  });
});

describe('the dialogs', () => {
  type View = { blocks: Array<{ type: string; block_id?: string; optional?: boolean; element?: { initial_value?: string; placeholder?: { text: string } } }> };

  it('Add as reference: a label (required), a description and a collection, all empty; the message text is a placeholder', () => {
    const view = addReferenceModal('{"c":"C1","f":["F1"]}', 'anyone know what this fitting is?') as View;
    expect(view.blocks.map((b) => [b.block_id, b.optional])).toEqual([['label', false], ['text', true], ['collection', true]]);
    expect(view.blocks.map((b) => b.element!.initial_value)).toEqual([undefined, undefined, undefined]);
    expect(view.blocks[1]!.element!.placeholder!.text).toBe('anyone know what this fitting is?');
  });

  it('which label a photo shows: the question, and an empty field', () => {
    const view = labelModal({ title: 'Unlabelled image #12', prompt: 'What does Unlabelled image #12 show?' }, '{"a":{}}') as View & { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('referent.label');
    expect(view.private_metadata).toBe('{"a":{}}');
    expect(view.blocks[0]).toMatchObject({ type: 'section', text: { type: 'plain_text', text: 'What does Unlabelled image #12 show?' } });
    expect(view.blocks[1]).toMatchObject({ type: 'input', block_id: 'label', optional: false, element: { placeholder: { text: 'P-20417' } } });
    expect(view.blocks[1]!.element!.initial_value).toBeUndefined();
  });
});
