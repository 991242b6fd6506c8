/**
 * Property-based checks (fast-check) of "any text: no crash, everything escaped": the message
 * parser, Slack Block Kit, Teams Adaptive Cards and the web page (web-render-properties.ts) get
 * generated hostile text, and what they make is checked against each platform's rules and limits.
 * Deterministic for a seed; each property reports through fc.check instead of throwing.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { addReferenceModal, escapeMrkdwn, homeView, MAX_BLOCKS, plainFromSlack, replaceCard, replyMessage, type SlackImage } from '../../adapters/slack/blocks.js';
import { helpCard, hitCard, plainFromTeams, SUBMIT_KEY, textCard, DEMO_NOTICE as TEAMS_DEMO_NOTICE, type CardAttachment } from '../../adapters/teams/cards.js';
import { cardActions, decodeAction, MAX_ACTION_VALUE } from '../../src/chat/cards.js';
import { parseCommand } from '../../src/chat/message.js';
import type { Card, Reply } from '../../src/chat/reply.js';
import { emptyTally, type Tally } from './tally.js';
import { ascii, asciiJson, checkWebRendering } from './web-render-properties.js';

// Shared size bounds: they keep one input cheap enough for thousands of runs in seconds.
const MAX_PIECES = 10;
const MAX_LONG = 12_000;
const MAX_CARDS = 14;
/** Chromium's text shaping is the slow part of a web check: its long strings are shorter. */
const MAX_LONG_WEB = 2_000;

/** Sequences that mean something to Slack, Teams, HTML or our own parser. */
const HOSTILE = [
  '<!channel>', '<!here>', '<!everyone>', '<!subteam^S1|team>', '<@U123>', '<@W1|bob>', '<#C1>', '<#C1|general>',
  '<https://evil.example|click>', '<mailto:a@evil.example|mail>', '&lt;!here&gt;', '&amp;', '&', '&#60;', '<', '>', '|',
  '*bold*', '_it_', '~gone~', '`', '```code```', '> quote', '@channel', '@here', '@everyone', '@Channel', '@HERE',
  '{{DATE(2017-02-14T06:08:39Z, SHORT)}}', '{{', '{', '}}', '${x}', '[x](https://evil.example)', '**b**',
  '<img src=x onerror="window.__pwned=1">', '<svg onload="window.__pwned=1"></svg>', '<script>window.__pwned=1</script>',
  '<a href="javascript:window.__pwned=1">x</a>', 'javascript:window.__pwned=1', '<iframe src="javascript:window.__pwned=1">',
  '"', "'", '\\', '\\u0000', '</p>', '<at>Referent</at>', '&nbsp;', ':', ' in ',
];
/** Bidi controls, zero-width characters and odd spaces and line breaks. */
const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u061c', '\ufeff', '\u00a0', '\u2028', '\u2029', '\u3000', '\u0085'];
/** Characters that cost the most once JSON-escaped and UTF-8 encoded, or that expand when escaped. */
const COSTLY = ['\u0001', '\ud800', '\udfff', '漢', '😀', '{', '"', '&', '<', ' ', ' in ', '@here '];
const WORDS = ['add', 'add', 'ADD', 'Add', 'describe', 'describe', 'show', 'show me', 'forget', 'find', 'search', 'help', 'stats', '?', 'in', 'addé', 'adds'];
const PUNCTUATION = [' ', '  ', ':', ': ', ' : ', '\t', '\n', '\r\n', '"', "'", '“', '”', '‘', '’', ' in ', ' in: '];

const codeUnit = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(...INVISIBLE) },
  { weight: 1, arbitrary: codeUnit(0, 0x1f) },
  { weight: 1, arbitrary: codeUnit(0xd800, 0xdfff) },
);
const joined = (arb: fc.Arbitrary<string>, minLength: number, maxLength: number) => fc.array(arb, { minLength, maxLength }).map((p) => p.join(''));
const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });

/** Text, cards and replies whose long strings run up to `maxLong` characters. */
export function hostileArbitraries(maxLong: number): { text: fc.Arbitrary<string>; card: fc.Arbitrary<Card>; reply: fc.Arbitrary<Reply> } {
  const long = fc
    .tuple(fc.oneof(joined(piece, 1, 4), fc.constantFrom(...COSTLY)), fc.integer({ min: 256, max: maxLong }))
    .map(([unit, n]) => (unit ? unit.repeat(Math.ceil(n / unit.length)).slice(0, n) : ''));
  // Mostly short mixes of hostile pieces, sometimes thousands of characters.
  const text = fc.oneof({ weight: 12, arbitrary: joined(piece, 0, MAX_PIECES) }, { weight: 1, arbitrary: long });
  // A card as hitCards makes it: hostile title, collection, why line, verdict and query (in the button values).
  const card: fc.Arbitrary<Card> = fc
    .record({
      itemId: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      entityId: fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { nil: null }),
      mediaKey: fc.oneof({ weight: 5, arbitrary: hex64 }, { weight: 1, arbitrary: text }),
      title: text,
      collection: text,
      band: fc.constantFrom('strong' as const, 'good' as const, 'weak' as const),
      why: text,
      more: fc.nat({ max: 10_000 }),
      verdict: fc.option(text, { nil: undefined }),
      query: text,
      typed: fc.boolean(),
    })
    .map(({ entityId, query, typed, verdict, ...c }) => ({
      ...c,
      ...(verdict === undefined ? {} : { verdict }),
      actions: cardActions({ itemId: c.itemId, entityId, band: c.band, why: c.why }, { text: query, typed }),
    }));
  const reply: fc.Arbitrary<Reply> = fc.record({
    kind: fc.constantFrom('results' as const, 'info' as const, 'help' as const, 'error' as const),
    text,
    // Sometimes more cards than one Slack message holds (11 within its 50 blocks).
    cards: fc.oneof({ weight: 4, arbitrary: fc.array(card, { maxLength: 5 }) }, { weight: 1, arbitrary: fc.array(card, { minLength: 10, maxLength: MAX_CARDS }) }),
    demoEncoder: fc.boolean(),
  });
  return { text, card, reply };
}

const { text: hostileText, reply: hostileReply } = hostileArbitraries(MAX_LONG);

const word = fc.constantFrom(...WORDS);
const punctuation = fc.constantFrom(...PUNCTUATION);
const quote = fc.constantFrom('', '', '"', "'", '“', '”', '‘', '’');
const fragment = joined(fc.oneof(piece, word, punctuation), 0, 4);
/** `<keyword> <label> [in <collection>]: <text>`, with odd quoting, spacing and separators. */
const commandText = fc
  .tuple(
    fc.constantFrom('', '', ' ', '\n', '\t\u3000'),
    word,
    fc.constantFrom(' ', '  ', ':', ' : ', '\n', '', '\u00a0'),
    quote,
    fragment,
    quote,
    fc.option(fc.tuple(fc.constantFrom(' in ', ' IN ', '\tin\n', '  in  ', 'in '), fragment)),
    fc.constantFrom(':', ': ', ' : ', '', '::', '：'),
    fragment,
  )
  .map(([lead, keyword, gap, open, label, close, inCollection, colon, text]) => `${lead}${keyword}${gap}${open}${label}${close}${inCollection?.join('') ?? ''}${colon}${text}`);

/** Messages built from the command grammar as well as from anything at all. */
export const messageText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: commandText },
  { weight: 2, arbitrary: joined(fc.oneof(word, punctuation, piece, fc.constantFrom(...INVISIBLE)), 0, 12) },
  { weight: 3, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
);

/** Where a rule broke, in a few escaped characters either side. */
const near = (text: string, at: number) => asciiJson(text.slice(Math.max(0, at - 20), at + 20));

// ---------------------------------------------------------------------------------------------
// Parser

const KINDS = new Set(['help', 'stats', 'find', 'add', 'describe', 'show', 'forget', 'usage']);

function parserProblems(text: string, hasImages: boolean): string[] {
  const command = parseCommand(text, hasImages);
  const out: string[] = [];
  if (!isDeepStrictEqual(parseCommand(text, hasImages), command)) out.push('a second parse of the same text differs');
  if (!KINDS.has(command.kind)) out.push(`unknown kind ${command.kind}`);
  for (const [key, value] of Object.entries(command)) {
    if (key === 'kind' || key === 'problem') continue;
    if (typeof value !== 'string') out.push(`${key} is not a string`);
    else if (value !== value.trim()) out.push(`${key} ${asciiJson(value)} is not trimmed`);
    else if (!text.includes(value)) out.push(`${key} ${asciiJson(value)} is not in the message`);
  }
  const blank = text.trim() === '';
  switch (command.kind) {
    case 'add':
      if (!command.label || command.label.includes(':')) out.push(`add label ${asciiJson(command.label)} is empty or has a colon`);
      if (command.collection !== undefined && (!command.collection || command.collection.includes(':'))) out.push('add collection is empty or has a colon');
      if (!command.text && !hasImages) out.push('add with neither description nor photo');
      break;
    case 'describe':
      if (!command.label || !command.text || command.label.includes(':')) out.push('describe without label or text, or a colon in the label');
      break;
    case 'show':
    case 'forget':
      if (!command.label) out.push(`${command.kind} without a label`);
      break;
    case 'find':
      if (!command.text && !hasImages) out.push('find with neither text nor photo');
      break;
    case 'usage':
      if (!command.problem.trim()) out.push('usage without a problem');
      break;
    default:
  }
  if (blank && command.kind !== (hasImages ? 'find' : 'help')) out.push(`blank message read as ${command.kind}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Slack

const BROADCAST = /@(?:channel|here|everyone)(?![A-Za-z0-9_])/i;

/** mrkdwn that Slack shows as the words given: no mention, link or broadcast, every & an entity. */
function mrkdwnProblems(where: string, text: string): string[] {
  const out: string[] = [];
  const control = /<[!@#]|<(?:https?|mailto):/i.exec(text);
  if (control) out.push(`${where}: Slack control sequence near ${near(text, control.index)}`);
  const amp = /&(?!(?:amp|lt|gt);)/.exec(text);
  if (amp) out.push(`${where}: & that starts no entity near ${near(text, amp.index)}`);
  const broadcast = BROADCAST.exec(text);
  if (broadcast) out.push(`${where}: bare ${broadcast[0]}`);
  return out;
}

const textOf = (v: unknown) => (v && typeof v === 'object' ? (v as { text?: unknown }).text : undefined);

/** Block Kit's limits (docs.slack.dev/reference/block-kit) and the escaping rule, over any tree of blocks. */
function blockKitProblems(node: unknown, path: string, out: string[]): void {
  if (Array.isArray(node)) return node.forEach((n, i) => blockKitProblems(n, `${path}[${i}]`, out));
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  const over = (key: string, value: unknown, max: number) => {
    if (typeof value === 'string' && value.length > max) out.push(`${path}.${key}: ${value.length} characters, limit ${max}`);
  };
  if (o.type === 'mrkdwn' || o.type === 'plain_text') {
    if (typeof o.text !== 'string' || o.text.length === 0) out.push(`${path}: empty ${o.type} text`);
    over('text', o.text, 3000);
    if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(...mrkdwnProblems(path, o.text));
  }
  over('block_id', o.block_id, 255);
  over('action_id', o.action_id, 255);
  const count = (max: number) => Array.isArray(o.elements) && o.elements.length > max && out.push(`${path}: ${o.elements.length} elements, limit ${max}`);
  switch (o.type) {
    case 'button': over('text', textOf(o.text), 75); over('value', o.value, 2000); break;
    case 'header': over('text', textOf(o.text), 150); break;
    case 'image': over('alt_text', o.alt_text, 2000); over('title', textOf(o.title), 2000); over('image_url', o.image_url, 3000); break;
    case 'context': count(10); break;
    case 'actions': count(25); break;
    case 'input': over('label', textOf(o.label), 2000); over('hint', textOf(o.hint), 2000); break;
    case 'plain_text_input':
      over('initial_value', o.initial_value, Math.min(3000, typeof o.max_length === 'number' ? o.max_length : 3000));
      over('placeholder', textOf(o.placeholder), 150);
      break;
    default:
  }
  for (const [key, value] of Object.entries(o)) if (value && typeof value === 'object') blockKitProblems(value, `${path}.${key}`, out);
}

const slackInput = fc.record({ reply: hostileReply, pictures: fc.array(fc.boolean(), { maxLength: MAX_CARDS }), name: hostileText, model: hostileText, caption: hostileText, typed: hostileText });

type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never;

function slackProblems({ reply, pictures, name, model, caption, typed }: Generated<typeof slackInput>): string[] {
  const out: string[] = [];
  const image = (k: number): SlackImage => (k % 2 ? { slack_file: { id: `F${k}` } } : { image_url: `https://files.example/${k}.jpg` });
  const images = new Map(reply.cards.flatMap((c, k) => (pictures[k] ? [[c.mediaKey, image(k)] as const] : [])));
  const message = replyMessage(reply, images);
  if (message.blocks.length > MAX_BLOCKS) out.push(`${message.blocks.length} blocks, limit ${MAX_BLOCKS}`);
  blockKitProblems(message.blocks, 'blocks', out);
  out.push(...mrkdwnProblems('notification text', message.text));
  const first = reply.cards[0];
  if (first) {
    const replaced = replaceCard(message.blocks, { ...first, verdict: `Confirmed by ${name}` }, images.get(first.mediaKey));
    if (replaced.length > MAX_BLOCKS) out.push(`after a verdict: ${replaced.length} blocks`);
    blockKitProblems(replaced, 'after a verdict', out);
  }
  const home = homeView({ kind: 'help', text: reply.text, cards: [] }, model, reply.demoEncoder === true);
  if (home.blocks.length > 100) out.push(`home: ${home.blocks.length} blocks, limit 100`);
  blockKitProblems(home.blocks, 'home', out);
  const modal = addReferenceModal(JSON.stringify({ c: 'C1', t: '1700000000.000100', f: ['F1', 'F2', 'F3', 'F4'] }), plainFromSlack(caption, 'UBOT'));
  for (const key of ['title', 'submit', 'close']) if (String(textOf(modal[key])).length > 24) out.push(`modal ${key} over 24 characters`);
  if (String(modal.private_metadata).length > 3000) out.push('modal private_metadata over 3000 characters');
  blockKitProblems(modal.blocks, 'modal', out);
  // What we escape, Slack hands back to plainFromSlack: the words must come back as typed.
  if (!BROADCAST.test(typed) && plainFromSlack(escapeMrkdwn(typed)) !== typed.replace(/\s+/g, ' ').trim()) out.push('plainFromSlack(escapeMrkdwn(text)) is not the text');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Teams

/** Teams refuses a message over about 28 KB; one card must fit with room to spare. */
const TEAMS_MAX_CARD_BYTES = 28_000;
const MAX_SUBMIT_BYTES = 8 * 1024;
const FIXED_HELP: Reply = { kind: 'help', text: 'Ask me: `find brass elbow` or `add P-20417: hex bolt M8`.', cards: [] };

/** The text of every TextBlock (which Teams reads as markdown), however deep. */
function textBlocks(node: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) node.forEach((n) => textBlocks(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'TextBlock') out.push(o.text);
    Object.values(o).forEach((v) => textBlocks(v, out));
  }
  return out;
}

/** A card whose TextBlocks (markdown) match the same card made from neutral text, within the size limit, with no `{{` shown. */
function cardProblems(where: string, attachment: CardAttachment, neutral: CardAttachment, out: string[]): void {
  const json = JSON.stringify(attachment);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > TEAMS_MAX_CARD_BYTES) out.push(`${where}: ${bytes} bytes, limit ${TEAMS_MAX_CARD_BYTES}`);
  if (!isDeepStrictEqual(textBlocks(attachment.content), textBlocks(neutral.content))) out.push(`${where}: user text reached a TextBlock`);
  // Button data is never shown, and must come back byte for byte: only shown text is checked for `{{`.
  const shown = JSON.stringify(attachment, (key, value: unknown) => (key === 'data' ? undefined : value));
  const braces = shown.indexOf('{{');
  if (braces >= 0) out.push(`${where}: {{ survives near ${near(shown, braces)}`);
  for (const action of attachment.content.actions ?? []) {
    const data = action.data as Record<string, unknown> | undefined;
    const value = data?.[SUBMIT_KEY];
    if (!data || Object.keys(data).join() !== SUBMIT_KEY || typeof value !== 'string') out.push(`${where}: Action.Submit data is not {${SUBMIT_KEY}: string}`);
    else if (value.length > MAX_ACTION_VALUE || Buffer.byteLength(JSON.stringify(data)) > MAX_SUBMIT_BYTES) out.push(`${where}: Action.Submit data too large`);
    else {
      try {
        decodeAction(value);
      } catch {
        out.push(`${where}: Action.Submit value does not decode`);
      }
    }
  }
}

const teamsInput = fc.record({ reply: hostileReply, picture: fc.constantFrom(undefined, `https://referent.example/media/${'a'.repeat(64)}/thumbnail?sig=${'b'.repeat(43)}`), model: hostileText });

function teamsProblems({ reply, picture, model }: Generated<typeof teamsInput>): string[] {
  const out: string[] = [];
  const neutral = (c: Card): Card => ({ ...c, title: 't', collection: 'c', why: 'w', ...(c.verdict === undefined ? {} : { verdict: 'v' }) });
  reply.cards.forEach((c, k) => cardProblems(`card ${k}`, hitCard(c, picture), hitCard(neutral(c), picture), out));
  const notice = reply.demoEncoder ? TEAMS_DEMO_NOTICE : undefined;
  // Help text is our own words (TextBlock markdown by design); every other reply's text is not.
  if (reply.kind !== 'help') cardProblems('text card', textCard(reply, notice), textCard({ ...reply, text: 'x' }, notice), out);
  cardProblems('help card', helpCard(FIXED_HELP, model, reply.demoEncoder === true), helpCard(FIXED_HELP, 'm', reply.demoEncoder === true), out);
  plainFromTeams(reply.text);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running

function failureLines<Ts>(details: fc.RunDetails<Ts>): string[] {
  if (!details.failed) return [];
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const input = asciiJson(details.counterexample);
  const shown = input.length > 4000 ? `${input.slice(0, 4000)}… (${input.length} characters)` : input;
  return [`seed ${details.seed}, path ${details.counterexamplePath}: ${ascii(error)} | shrunk input: ${shown}`];
}

function checkSync<T>(name: string, input: fc.Arbitrary<T>, problems: (value: T) => string[], options: { seed: number; runs: number }): Tally {
  const tally = emptyTally(name);
  const property = fc.property(input, (value) => {
    tally.badInputs++;
    const found = problems(value);
    if (found.length) throw new Error(found.slice(0, 8).join('; '));
  });
  tally.failures = failureLines(fc.check(property, { seed: options.seed, numRuns: options.runs }));
  return tally;
}

/**
 * Runs every renderer property with `runs` generated inputs each (the web page gets about
 * `webRuns` replies, default `runs`, in batches of 1 to WEB_BATCH), and returns one Tally per group with
 * `badInputs` = inputs checked and one failure line (seed, path, shrunk input) per counterexample.
 */
export async function runRendererProperties(options: { seed: number; runs: number; webRuns?: number }): Promise<Tally[]> {
  const tallies = [
    checkSync('parser: any text', fc.tuple(messageText, fc.boolean()), ([text, images]) => parserProblems(text, images), options),
    checkSync('Slack Block Kit: any text', slackInput, slackProblems, options),
    checkSync('Teams Adaptive Cards: any text', teamsInput, teamsProblems, options),
  ];
  const web = emptyTally('web page (Chromium): any text');
  try {
    // fast-check's arrays of 1 to 16 hold about 6 on average: about `webRuns` replies in all.
    const numRuns = Math.max(1, Math.ceil((options.webRuns ?? options.runs) / 6));
    const run = await checkWebRendering(hostileArbitraries(MAX_LONG_WEB).reply, { seed: options.seed, numRuns });
    web.badInputs = run.rendered;
    web.failures = failureLines(run.details);
    if (run.pwned) web.failures.push('a payload set window.__pwned after its batch was checked');
  } catch (err) {
    web.failures.push(`the page could not be driven: ${err instanceof Error ? err.message : String(err)}`);
  }
  return [...tallies, web];
}
