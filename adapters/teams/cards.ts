/**
 * Replies as Adaptive Cards (schema 1.5), and Teams' message text as plain words. Pure functions.
 *
 * Escaping rule: text from a person goes into RichTextBlock TextRuns, which Teams does not parse as
 * markdown (a TextBlock would turn `*x*` or `[x](url)` into formatting and links); `{{` is broken so
 * no date/time function runs on it. Our own fixed words may use TextBlock markdown.
 */
import type { Card, Reply } from '../../src/chat/reply.js';

export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
const SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
/** Marks our Action.Submit data (Teams echoes it back as the message's `value`). */
export const SUBMIT_KEY = 'referent';

export type CardElement = Record<string, unknown> & { type: string };
export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: string;
  version: '1.5';
  body: CardElement[];
  actions?: CardElement[];
  msteams?: Record<string, unknown>;
}
export interface CardAttachment {
  contentType: typeof CARD_CONTENT_TYPE;
  content: AdaptiveCard;
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
/** Breaks Adaptive Cards' `{{DATE(…)}}` functions; everything else in a TextRun shows as typed. */
const literal = (s: string) => s.replace(/\{(?=\{)/g, '{\u200b');

/** A run of text shown exactly as given. */
export const textRun = (text: string, style: Record<string, unknown> = {}): CardElement => ({ type: 'TextRun', text: literal(clip(text, 4000)), ...style });
/** A paragraph of literal text (line breaks kept). */
export const plainBlock = (text: string, style: Record<string, unknown> = {}): CardElement => ({ type: 'RichTextBlock', inlines: [textRun(text, style)] });

/**
 * Teams' message text as the words typed: `<at>` mentions of the bot are removed by the caller
 * (TurnContext.removeRecipientMention); the HTML Teams wraps messages in is dropped and its entities decoded.
 */
export function plainFromTeams(text: string): string {
  return text
    .replace(/<at>[^<]*<\/at>/gi, '')
    .replace(/<br\s*\/?>|<\/p>/gi, ' ')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

const BAND_WORDS: Record<Card['band'], { text: string; color: string }> = {
  strong: { text: 'Strong match', color: 'Good' },
  good: { text: 'Good match', color: 'Accent' },
  weak: { text: 'Weak match', color: 'Default' },
};

const card = (body: CardElement[], actions?: CardElement[]): CardAttachment => ({
  contentType: CARD_CONTENT_TYPE,
  content: { type: 'AdaptiveCard', $schema: SCHEMA, version: '1.5', body, ...(actions?.length ? { actions } : {}), msteams: { width: 'Full' } },
});

/**
 * Teams refuses a message over about 28 KB. A card's three button values may take ~18 KB of it
 * (2000 characters each, up to 3 UTF-8 bytes a character), so what a card shows stays short enough
 * to fit even at 6 bytes a character (control characters and lone surrogates, JSON-escaped).
 */
const MAX_TITLE = 200;
const MAX_FACTS = 600;
const MAX_VERDICT = 200;

/** One hit: its picture (a thumbnail URL or data URI), what it is and why, and the three buttons. */
export function hitCard(hit: Card, imageUrl: string | undefined): CardAttachment {
  const band = BAND_WORDS[hit.band];
  const facts = [hit.collection, hit.why, hit.more > 0 ? `+${hit.more} more of this` : ''].filter(Boolean).join(' · ');
  const body: CardElement[] = [
    ...(imageUrl ? [{ type: 'Image', url: imageUrl, altText: literal(clip(hit.title, MAX_TITLE)), size: 'Large', horizontalAlignment: 'Center' }] : []),
    plainBlock(clip(hit.title, MAX_TITLE), { weight: 'Bolder', size: 'Medium' }),
    { type: 'RichTextBlock', inlines: [textRun(band.text, { weight: 'Bolder', color: band.color }), textRun(` · ${clip(facts, MAX_FACTS)}`, { isSubtle: true })] },
    ...(hit.verdict ? [plainBlock(`✓ ${clip(hit.verdict, MAX_VERDICT)}`, { color: 'Good' })] : []),
  ];
  const actions = hit.actions.map((a) => ({ type: 'Action.Submit', title: a.label, data: { [SUBMIT_KEY]: a.value }, ...(a.kind === 'confirm' ? { style: 'positive' } : {}) }));
  return card(body, actions);
}

/** A text reply (summary, info, error) as a small card; help uses our own markdown. */
export function textCard(reply: Reply, demoNotice?: string): CardAttachment {
  const body: CardElement[] =
    reply.kind === 'help'
      ? [{ type: 'TextBlock', text: clip(reply.text, 8000), wrap: true }]
      : [plainBlock(reply.kind === 'error' ? `⚠️ ${reply.text}` : reply.text, reply.kind === 'error' ? { color: 'Attention' } : {})];
  if (demoNotice) body.push({ type: 'TextBlock', text: demoNotice, wrap: true, isSubtle: true, size: 'Small' });
  return card(body);
}

export const DEMO_NOTICE =
  'ℹ️ This Referent runs the **demo encoder**, a tiny generated model that only understands colours. An admin can pull a real CLIP model (`referent models pull`).';

/** The help card: the assistant's help text plus how to reach Referent in Teams. */
export function helpCard(help: Reply, modelName: string, demoEncoder: boolean): CardAttachment {
  const intro =
    'Mention **@Referent** in a channel or group chat, or write to me in a personal chat. Attach a photo to find similar images, or with `add P-20417: hex bolt M8` to teach me. Each answer has **That\'s it**, **Not it** and **More like this**.';
  const body: CardElement[] = [
    { type: 'TextBlock', text: 'Referent: find a part or a person in your team’s photos', weight: 'Bolder', size: 'Medium', wrap: true },
    { type: 'TextBlock', text: intro, wrap: true },
    { type: 'TextBlock', text: clip(help.text, 8000), wrap: true },
    plainBlock(`Model: ${modelName}. Each conversation sees only the collections an admin shared with it.`, { isSubtle: true }),
  ];
  if (demoEncoder) body.push({ type: 'TextBlock', text: DEMO_NOTICE, wrap: true, isSubtle: true, size: 'Small' });
  return card(body);
}

/** The text of a submitted button, if it is ours. */
export function submittedValue(value: unknown): string | null {
  const v = value && typeof value === 'object' ? (value as Record<string, unknown>)[SUBMIT_KEY] : undefined;
  return typeof v === 'string' ? v : null;
}
