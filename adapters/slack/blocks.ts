/**
 * Replies as Block Kit messages. Pure functions, no Slack client. The escaping rule is in text.ts:
 * words from people only in plain_text objects, or escaped where only mrkdwn is allowed.
 */
import type { Card, Reply, ReplyAction } from '../../src/chat/reply.js';
import { type Block, clip, clipMrkdwn, escapeMrkdwn, mention, mrkdwn, plain } from './text.js';

export { type Block, escapeMrkdwn, plainFromSlack } from './text.js';
export { ADD_REFERENCE_VIEW, addReferenceModal, homeView, LABEL_VIEW, labelModal } from './views.js';

/** Where a card's picture comes from: a file Slack already holds, or a public URL. */
export type SlackImage = { slack_file: { id: string } } | { image_url: string };

// Block Kit's limits (https://docs.slack.dev/reference/block-kit/blocks).
export const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT = 3000;
const MAX_IMAGE_TITLE = 2000;
const MAX_CONTEXT_TEXT = 2000;
const MAX_BUTTON_VALUE = 2000;
const BLOCKS_PER_CARD = 4;

/** The buttons' action ids: a card's (three on a hit, Name this person on an unknown face group), a reply's two (forget), and Share in channel. */
export const CARD_ACTION = /^referent\.(confirm|reject|more|name)$/;
export const REPLY_ACTION = /^referent\.(forget|cancel)$/;
export const SHARE_ACTION = 'referent.share';

export interface SlackMessage {
  /** Notification and screen-reader text (mrkdwn, escaped). */
  text: string;
  blocks: Block[];
}

const section = (text: string): Block => ({ type: 'section', text: plain(text, MAX_SECTION_TEXT) });

const BAND_WORDS: Record<NonNullable<Card['band']>, string> = { strong: '*Strong match*', good: '*Good match*', weak: '_Weak match_' };

/** Block ids change with every rendering (Slack asks for new ids when a message is updated). */
let renderSeq = 0;
const cardBlockId = (card: Card, part: string, seq: number) => `card:${card.itemId}:${part}:${seq}`;
/** The item id of a card's block, or null for other blocks. */
export const cardOfBlock = (blockId: unknown) => (typeof blockId === 'string' ? Number(/^card:(\d+):/.exec(blockId)?.[1] ?? NaN) || null : null);

/** ✓ for a confirmation, ✗ for a rejection (the core words a verdict "Confirmed by …" / "Rejected by …"). */
const verdictMark = (verdict: string) => (/^rejected\b/i.test(verdict) ? '✗' : '✓');

/** One card: its picture, what it is and why, its buttons, and a divider. */
export function cardBlocks(card: Card, image: SlackImage | undefined): Block[] {
  const seq = ++renderSeq;
  const picture: Block = image
    ? { type: 'image', block_id: cardBlockId(card, 'img', seq), ...image, alt_text: clip(card.title, MAX_IMAGE_TITLE), title: plain(card.title, MAX_IMAGE_TITLE) }
    : { type: 'section', block_id: cardBlockId(card, 'img', seq), text: plain(card.title, MAX_SECTION_TEXT) };
  const facts = [card.collection, card.why, card.more > 0 ? `+${card.more} more of this` : ''].filter(Boolean).join(' · ');
  // Cards that were not searched for (`show`) carry no band: nothing was matched.
  const elements: Array<Record<string, unknown>> = [...(card.band ? [{ type: 'mrkdwn', text: BAND_WORDS[card.band] }] : []), plain(facts, MAX_CONTEXT_TEXT)];
  if (card.verdict) elements.push(plain(`${verdictMark(card.verdict)} ${card.verdict}`, MAX_CONTEXT_TEXT));
  const buttons = card.actions.map((a) => ({
    type: 'button',
    action_id: `referent.${a.kind}`,
    text: plain(a.label, 75),
    value: a.value,
    ...(a.kind === 'confirm' || a.kind === 'name' ? { style: 'primary' } : {}),
  }));
  return [
    picture,
    { type: 'context', block_id: cardBlockId(card, 'why', seq), elements },
    ...(buttons.length ? [{ type: 'actions', block_id: cardBlockId(card, 'act', seq), elements: buttons }] : []),
    { type: 'divider', block_id: cardBlockId(card, 'end', seq) },
  ];
}

/** A reply's own buttons (Forget / Keep it): the destructive one styled so, and confirmed once more by Slack. */
function replyButtons(actions: readonly ReplyAction[]): Block {
  const elements = actions.map((a) => ({
    type: 'button',
    action_id: `referent.${a.kind}`,
    text: plain(a.label, 75),
    value: a.value,
    ...(a.danger
      ? {
          style: 'danger',
          confirm: { title: plain(clip(`${a.label}?`, 100), 100), text: plain('Its photos, descriptions and verdicts go too. This cannot be undone.', 300), confirm: plain(clip(a.label, 30), 30), deny: plain('Keep it', 30), style: 'danger' },
        }
      : {}),
  }));
  return { type: 'actions', block_id: `reply:act:${++renderSeq}`, elements };
}

const DEMO_NOTICE =
  ':information_source: This Referent runs the *demo encoder*, a tiny generated model that only understands colours. An admin can pull a real CLIP model (`referent models pull`).';

export interface MessageExtras {
  /** Blocks above the reply's text (who shared it). */
  head?: Block[];
  /** Blocks after the cards (Share in channel). */
  tail?: Block[];
}

/** A whole reply as one message, within Slack's 50 blocks. */
export function replyMessage(reply: Reply, images: ReadonlyMap<string, SlackImage>, extras: MessageExtras = {}): SlackMessage {
  const head: Block[] = [...(extras.head ?? [])];
  if (reply.kind === 'help') {
    // Our own words (no user text): mrkdwn renders the command examples as code.
    head.push({ type: 'section', text: mrkdwn(reply.text, MAX_SECTION_TEXT) });
  } else {
    head.push(section(reply.kind === 'error' ? `⚠️ ${reply.text}` : reply.text));
  }
  if (reply.actions?.length) head.push(replyButtons(reply.actions));
  if (reply.demoEncoder) head.push({ type: 'context', elements: [{ type: 'mrkdwn', text: DEMO_NOTICE }] });
  const tail = extras.tail ?? [];
  const room = Math.max(0, Math.floor((MAX_BLOCKS - head.length - tail.length - 1) / BLOCKS_PER_CARD));
  const shown = reply.cards.slice(0, room);
  const blocks = [...head, ...shown.flatMap((c) => cardBlocks(c, images.get(c.mediaKey)))];
  if (reply.cards.length > shown.length) blocks.push({ type: 'context', elements: [plain(`${reply.cards.length - shown.length} more not shown.`, 200)] });
  return { text: clipMrkdwn(reply.text, MAX_SECTION_TEXT), blocks: [...blocks, ...tail] };
}

/** The placeholder posted at once, edited in place when the answer is ready. */
export function workingMessage(what: string): SlackMessage {
  return { text: `${what}…`, blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: `:hourglass_flowing_sand: ${escapeMrkdwn(what)}…` }] }] };
}

/**
 * A message's blocks with one card re-rendered (after a verdict); other blocks as they were. The first
 * card of the photo, up to its divider: a second card of the same photo after it (`faces`, two people
 * on one photo) stays as it was.
 */
export function replaceCard(blocks: readonly Block[], card: Card, image: SlackImage | undefined): Block[] {
  const first = blocks.findIndex((b) => cardOfBlock(b.block_id) === card.itemId);
  if (first < 0) return [...blocks];
  let end = first;
  while (end < blocks.length && cardOfBlock(blocks[end]!.block_id) === card.itemId) {
    const divider = /^card:\d+:end:/.test(String(blocks[end]!.block_id));
    end++;
    if (divider) break;
  }
  return [...blocks.slice(0, first), ...cardBlocks(card, image), ...blocks.slice(end)];
}

/**
 * What a Share in channel button carries: the words asked, to ask again in public. Slack does not
 * hand back the blocks of an ephemeral message when its button is pressed, so the value is the
 * query itself (a slash command has no photos, so words are all there is).
 */
export function shareValue(query: string): string | null {
  const value = JSON.stringify({ v: 1, q: query });
  return query.trim() && value.length <= MAX_BUTTON_VALUE ? value : null;
}

/** The query in a Share button's value, or null when the value is not one of ours. */
export function sharedQuery(value: unknown): string | null {
  try {
    const parsed = typeof value === 'string' && value.length <= MAX_BUTTON_VALUE ? (JSON.parse(value) as { v?: unknown; q?: unknown }) : null;
    return parsed?.v === 1 && typeof parsed.q === 'string' && parsed.q.trim() ? parsed.q : null;
  } catch {
    return null;
  }
}

/** The Share in channel button under a private answer. */
export function shareBlock(value: string): Block {
  return { type: 'actions', block_id: 'share', elements: [{ type: 'button', action_id: SHARE_ACTION, text: plain('Share in channel', 75), value }] };
}

/** Above shared results: who asked, and what (the question in code, escaped). */
export function sharedByBlock(userId: string, query: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: `${mention(userId)} asked \`/referent ${clipMrkdwn(query.replace(/`/g, "'"), MAX_CONTEXT_TEXT - 60)}\`` }] };
}
