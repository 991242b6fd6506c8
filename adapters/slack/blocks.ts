/**
 * Replies as Block Kit, and Slack's message text as plain words. Pure functions, no Slack client.
 *
 * Escaping rule: every string that came from a person (queries, labels, captions, names) goes
 * into `plain_text` objects, which Slack never parses, or through `escapeMrkdwn` where only
 * mrkdwn is allowed (the notification text). Our own fixed words may use mrkdwn.
 */
import type { Card, Reply } from '../../src/chat/reply.js';

/** Where a card's picture comes from: a file Slack already holds, or a public URL. */
export type SlackImage = { slack_file: { id: string } } | { image_url: string };

// Block Kit's limits (https://docs.slack.dev/reference/block-kit/blocks).
export const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT = 3000;
const MAX_IMAGE_TITLE = 2000;
const MAX_CONTEXT_TEXT = 2000;
const BLOCKS_PER_CARD = 4;

export type Block = Record<string, unknown> & { type: string; block_id?: string };

export interface SlackMessage {
  /** Notification and screen-reader text (mrkdwn, escaped). */
  text: string;
  blocks: Block[];
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/**
 * Makes text safe inside mrkdwn: `&`, `<` and `>` are Slack's control characters (they form
 * `<!channel>`, `<@U…>` and `<url|label>`), and a bare @channel/@here/@everyone gets a zero-width
 * space so no client setting can turn it into a ping.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)\b/gi, '@\u200b$1');
}

/**
 * Slack's message text as the words a person typed: the bot's own mention removed, other
 * mentions, channels and links as their visible labels, and Slack's three entities decoded.
 */
export function plainFromSlack(text: string, botUserId?: string): string {
  return text
    .replace(/<@([UW][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => (id === botUserId ? '' : `@${name || id}`))
    .replace(/<#([CG][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${name || id}`)
    .replace(/<!([^>|]*)(?:\|([^>]*))?>/g, (_m, word: string, label?: string) => label || `@${word.replace(/\^.*$/, '')}`)
    .replace(/<([^>|]+)(?:\|([^>]*))?>/g, (_m, url: string, label?: string) => label || url.replace(/^mailto:/, ''))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Escaped mrkdwn within `max` characters: a cut never splits an entity, which would leave a bare `&`. */
const clipMrkdwn = (text: string, max: number) => {
  const escaped = escapeMrkdwn(text);
  return escaped.length <= max ? escaped : `${escaped.slice(0, max - 1).replace(/&[a-z]*$/, '')}…`;
};
/** Slack refuses an empty text object. */
const mrkdwn = (text: string, max: number) => ({ type: 'mrkdwn', text: clipMrkdwn(text, max) || ' ' });

const plain = (text: string, max: number) => ({ type: 'plain_text', text: clip(text || ' ', max), emoji: false });
const section = (text: string): Block => ({ type: 'section', text: plain(text, MAX_SECTION_TEXT) });

const BAND_WORDS: Record<Card['band'], string> = { strong: '*Strong match*', good: '*Good match*', weak: '_Weak match_' };

/** Block ids change with every rendering (Slack asks for new ids when a message is updated). */
let renderSeq = 0;
const cardBlockId = (card: Card, part: string, seq: number) => `card:${card.itemId}:${part}:${seq}`;
/** The item id of a card's block, or null for other blocks. */
export const cardOfBlock = (blockId: unknown) => (typeof blockId === 'string' ? Number(/^card:(\d+):/.exec(blockId)?.[1] ?? NaN) || null : null);

/** One card: its picture, what it is and why, the three buttons, and a divider. */
export function cardBlocks(card: Card, image: SlackImage | undefined): Block[] {
  const seq = ++renderSeq;
  const picture: Block = image
    ? { type: 'image', block_id: cardBlockId(card, 'img', seq), ...image, alt_text: clip(card.title, MAX_IMAGE_TITLE), title: plain(card.title, MAX_IMAGE_TITLE) }
    : { type: 'section', block_id: cardBlockId(card, 'img', seq), text: plain(card.title, MAX_SECTION_TEXT) };
  const facts = [card.collection, card.why, card.more > 0 ? `+${card.more} more of this` : ''].filter(Boolean).join(' · ');
  const elements: Array<Record<string, unknown>> = [{ type: 'mrkdwn', text: BAND_WORDS[card.band] }, plain(facts, MAX_CONTEXT_TEXT)];
  if (card.verdict) elements.push(plain(`✓ ${card.verdict}`, MAX_CONTEXT_TEXT));
  const buttons = card.actions.map((a) => ({
    type: 'button',
    action_id: `referent.${a.kind}`,
    text: plain(a.label, 75),
    value: a.value,
    ...(a.kind === 'confirm' ? { style: 'primary' } : {}),
  }));
  return [
    picture,
    { type: 'context', block_id: cardBlockId(card, 'why', seq), elements },
    ...(buttons.length ? [{ type: 'actions', block_id: cardBlockId(card, 'act', seq), elements: buttons }] : []),
    { type: 'divider', block_id: cardBlockId(card, 'end', seq) },
  ];
}

const DEMO_NOTICE =
  ':information_source: This Referent runs the *demo encoder*, a tiny generated model that only understands colours. An admin can pull a real CLIP model (`referent models pull`).';

/** A whole reply as one message, within Slack's 50 blocks. */
export function replyMessage(reply: Reply, images: ReadonlyMap<string, SlackImage>): SlackMessage {
  const head: Block[] = [];
  if (reply.kind === 'help') {
    // Our own words (no user text): mrkdwn renders the command examples as code.
    head.push({ type: 'section', text: mrkdwn(reply.text, MAX_SECTION_TEXT) });
  } else {
    head.push(section(reply.kind === 'error' ? `⚠️ ${reply.text}` : reply.text));
  }
  if (reply.demoEncoder) head.push({ type: 'context', elements: [{ type: 'mrkdwn', text: DEMO_NOTICE }] });
  const room = Math.floor((MAX_BLOCKS - head.length - 1) / BLOCKS_PER_CARD);
  const shown = reply.cards.slice(0, room);
  const blocks = [...head, ...shown.flatMap((c) => cardBlocks(c, images.get(c.mediaKey)))];
  if (reply.cards.length > shown.length) blocks.push({ type: 'context', elements: [plain(`${reply.cards.length - shown.length} more not shown.`, 200)] });
  return { text: clipMrkdwn(reply.text, MAX_SECTION_TEXT), blocks };
}

/** The placeholder posted at once, edited in place when the answer is ready. */
export function workingMessage(what: string): SlackMessage {
  return { text: `${what}…`, blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: `:hourglass_flowing_sand: ${escapeMrkdwn(what)}…` }] }] };
}

/** A message's blocks with one card re-rendered (after a verdict); other blocks as they were. */
export function replaceCard(blocks: readonly Block[], card: Card, image: SlackImage | undefined): Block[] {
  const first = blocks.findIndex((b) => cardOfBlock(b.block_id) === card.itemId);
  if (first < 0) return [...blocks];
  let end = first;
  while (end < blocks.length && cardOfBlock(blocks[end]!.block_id) === card.itemId) end++;
  return [...blocks.slice(0, first), ...cardBlocks(card, image), ...blocks.slice(end)];
}

/** The App Home tab: what Referent is, how to ask, and the help text. */
export function homeView(help: Reply, modelName: string, demoEncoder: boolean): { type: 'home'; blocks: Block[] } {
  const blocks: Block[] = [
    { type: 'header', text: plain('Referent: find a part or a person in your team’s photos', 150) },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text:
          '*Ask anywhere:* mention me in a channel (`@Referent brass elbow, 1/2 inch`), write to me here in Messages, or use `/referent`.\n' +
          '*Photos:* post one with a mention to find similar images, or with `add P-20417: hex bolt M8` to teach me.\n' +
          '*Message shortcuts* (the ⋯ menu of a message with a photo): *Find similar* and *Add as reference*.\n' +
          "*Each answer* has That's it · Not it · More like this: one click teaches me for next time.",
      },
    },
    { type: 'divider' },
    { type: 'section', text: mrkdwn(help.text, MAX_SECTION_TEXT) },
    { type: 'context', elements: [plain(`Model: ${modelName}. Each channel sees only the collections an admin shared with it.`, MAX_CONTEXT_TEXT)] },
  ];
  if (demoEncoder) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: DEMO_NOTICE }] });
  return { type: 'home', blocks };
}

export const ADD_REFERENCE_VIEW = 'referent.add_reference';

/** The "Add as reference" dialog: a label (required), what it looks like, and the collection. */
export function addReferenceModal(privateMetadata: string, caption: string): Record<string, unknown> {
  const input = (id: string, label: string, element: Record<string, unknown>, optional: boolean, hint?: string) => ({
    type: 'input',
    block_id: id,
    optional,
    label: plain(label, 2000),
    element: { type: 'plain_text_input', action_id: 'value', ...element },
    ...(hint ? { hint: plain(hint, 2000) } : {}),
  });
  return {
    type: 'modal',
    callback_id: ADD_REFERENCE_VIEW,
    private_metadata: privateMetadata,
    title: plain('Add as reference', 24),
    submit: plain('Add', 24),
    close: plain('Cancel', 24),
    blocks: [
      input('label', 'What is it? (part number, name)', { max_length: 200, placeholder: plain('P-20417', 150) }, false, 'Photos with the same label build one reference.'),
      input('text', 'What it looks like', { multiline: true, max_length: 2000, ...(caption ? { initial_value: clip(caption, 2000) } : {}) }, true),
      input('collection', 'Collection', { max_length: 200 }, true, 'Leave empty to use this channel’s collection.'),
    ],
  };
}
