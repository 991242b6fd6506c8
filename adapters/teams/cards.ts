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
/** Marks our button data (Teams echoes it back: a message's `value`, or an invoke's `action.data`). */
export const SUBMIT_KEY = 'referent';
/** Action.Execute's verb. Every button of ours uses it; what to do travels in the data. */
export const EXECUTE_VERB = 'referent';
/** The id of the label card's text field (Teams merges it into the button's data). */
export const LABEL_INPUT = 'label';
/** An invoke response body for `adaptiveCard/action` (Universal Actions) that shows a message instead of a card. */
export const MESSAGE_RESPONSE_TYPE = 'application/vnd.microsoft.activity.message';

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

const BAND_WORDS: Record<NonNullable<Card['band']>, { text: string; color: string }> = {
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
  const band = hit.band ? BAND_WORDS[hit.band] : null;
  const facts = [hit.collection, hit.why, hit.more > 0 ? `+${hit.more} more of this` : ''].filter(Boolean).join(' · ');
  const body: CardElement[] = [
    ...(imageUrl ? [{ type: 'Image', url: imageUrl, altText: literal(clip(hit.title, MAX_TITLE)), size: 'Large', horizontalAlignment: 'Center' }] : []),
    plainBlock(clip(hit.title, MAX_TITLE), { weight: 'Bolder', size: 'Medium' }),
    { type: 'RichTextBlock', inlines: [...(band ? [textRun(band.text, { weight: 'Bolder', color: band.color }), textRun(' · ')] : []), textRun(clip(facts, MAX_FACTS), { isSubtle: true })] },
    ...(hit.verdict ? [verdictBlock(hit.verdict)] : []),
  ];
  return card(body, buttons(hit.actions.map((a) => ({ title: a.label, value: a.value, ...(a.kind === 'confirm' || a.kind === 'name' ? { style: 'positive' as const } : {}) }))));
}

/**
 * The verdict line: ✓ for a confirmation, ✗ for a rejection. The neutral card carries the verdict
 * as words only, and the assistant writes a rejection as "Rejected by <name>".
 */
function verdictBlock(verdict: string): CardElement {
  const rejected = /^Rejected by /.test(verdict);
  return plainBlock(`${rejected ? '✗' : '✓'} ${clip(verdict, MAX_VERDICT)}`, { color: rejected ? 'Attention' : 'Good' });
}

/**
 * Every button's data, duplicated by the Action.Submit fallback, may take at most this much of a
 * card: a single copy of three values at their worst (2000 characters each, up to 3 bytes a
 * character) was already budgeted at ~18 KB of Teams' ~28 KB.
 */
const MAX_BUTTON_BYTES = 18 * 1024;

interface Button {
  title: string;
  value: string;
  style?: 'positive' | 'destructive';
}

/**
 * Buttons as Universal Actions: Action.Execute reaches the bot as an `adaptiveCard/action` invoke,
 * whose response redraws the card in place; its fallback, Action.Submit, serves Teams clients
 * without Universal Actions (Microsoft's advice for Teams). The fallback repeats the data, so when
 * the values are long enough that two copies would not fit (hostile queries), the card carries
 * Action.Submit alone, which every Teams client runs.
 */
function buttons(list: readonly Button[]): CardElement[] {
  const data = (value: string) => ({ [SUBMIT_KEY]: value });
  const bytes = list.reduce((n, b) => n + Buffer.byteLength(JSON.stringify(data(b.value)), 'utf8'), 0);
  const universal = 2 * bytes <= MAX_BUTTON_BYTES;
  return list.map((b) => {
    const submit = { type: 'Action.Submit', title: b.title, data: data(b.value), ...(b.style ? { style: b.style } : {}) };
    return universal ? { type: 'Action.Execute', title: b.title, verb: EXECUTE_VERB, data: data(b.value), ...(b.style ? { style: b.style } : {}), fallback: submit } : submit;
  });
}

/** A text reply (summary, info, error) as a small card, with its buttons if any (forget's question); help uses our own markdown. */
export function textCard(reply: Reply, demoNotice?: string): CardAttachment {
  const body: CardElement[] =
    reply.kind === 'help'
      ? [{ type: 'TextBlock', text: clip(reply.text, 8000), wrap: true }]
      : [plainBlock(reply.kind === 'error' ? `⚠️ ${reply.text}` : reply.text, reply.kind === 'error' ? { color: 'Attention' } : {})];
  if (demoNotice) body.push({ type: 'TextBlock', text: demoNotice, wrap: true, isSubtle: true, size: 'Small' });
  return card(body, buttons((reply.actions ?? []).map((a) => ({ title: clip(a.label, 80), value: a.value, ...(a.danger ? { style: 'destructive' as const } : {}) }))));
}

/** Labels as `add <label>:` takes them (the assistant checks again). */
const MAX_LABEL = 200;

/**
 * That's it on a photo nobody labelled (what does it show?), or Name this person on an unknown face
 * group: a text field (empty: a default would be sent as the answer) and a button carrying the same
 * value back with the label, titled `submit` when the assistant gave one. `error` is the
 * assistant's answer to a label it refused, shown above the field.
 */
export function labelCard(ask: { title: string; prompt: string; value: string; submit?: string }, error?: string): CardAttachment {
  const body: CardElement[] = [
    plainBlock(clip(ask.title, MAX_TITLE), { weight: 'Bolder', size: 'Medium' }),
    plainBlock(clip(ask.prompt, MAX_FACTS)),
    ...(error ? [plainBlock(`⚠️ ${clip(error, MAX_FACTS)}`, { color: 'Attention' })] : []),
    { type: 'Input.Text', id: LABEL_INPUT, label: 'Label', placeholder: 'P-20417', isRequired: true, maxLength: MAX_LABEL, errorMessage: 'Give a label, such as a part number or a name.' },
  ];
  return card(body, buttons([{ title: clip(ask.submit ?? "That's it: link it", 80), value: ask.value, style: 'positive' }]));
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

/** A press of one of our buttons: its value as sent back (untrusted; the assistant checks it), and the label typed into a label card. */
export interface Press {
  value: unknown;
  label?: string;
}

/**
 * A button's data (an Action.Submit message's `value`, an invoke's `action.data`) as a press of one
 * of ours, or null: data without our key is from a card Referent did not send, and is ignored.
 */
export function pressOf(data: unknown): Press | null {
  if (!data || typeof data !== 'object' || Array.isArray(data) || !Object.hasOwn(data, SUBMIT_KEY)) return null;
  const d = data as Record<string, unknown>;
  const label = d[LABEL_INPUT];
  return { value: d[SUBMIT_KEY], ...(typeof label === 'string' ? { label } : {}) };
}

/** The invoke response body that redraws the pressed card (Universal Actions' refresh). */
export const cardResponse = (attachment: CardAttachment) => ({ statusCode: 200, type: CARD_CONTENT_TYPE, value: attachment.content });

/** The invoke response body that leaves the card as it is and shows the presser a short message. */
export const messageResponse = (text: string) => ({ statusCode: 200, type: MESSAGE_RESPONSE_TYPE, value: clip(text, 1000) });
