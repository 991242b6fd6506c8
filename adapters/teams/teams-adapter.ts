/**
 * Referent in Microsoft Teams (botbuilder's CloudAdapter). One endpoint, POST /api/messages on
 * Referent's own server. With MICROSOFT_APP_ID set, every request must carry valid Bot Framework
 * auth (botbuilder checks the JWT; anything else gets 401). Without it, local mode: no auth, so the
 * endpoint answers only this machine (the Bot Framework Emulator, tests) and replies only to
 * loopback service URLs.
 *
 * Every botbuilder import stays inside adapters/teams/: Microsoft archived the Bot Framework SDK,
 * and its successor (@microsoft/agents-hosting) keeps these shapes, so moving is this folder only.
 */
import type http from 'node:http';
import { isIPv4 } from 'node:net';
import { type Activity, type Attachment, CloudAdapter, ConfigurationBotFrameworkAuthentication, ConfigurationServiceClientCredentialFactory, TurnContext } from 'botbuilder';
import type { Assistant } from '../../src/chat/assistant.js';
import type { ChatScope, ChatUser } from '../../src/chat/message.js';
import type { Card, Reply } from '../../src/chat/reply.js';
import type { Config } from '../../src/config.js';
import { isReferentError } from '../../src/errors.js';
import type { MediaStore } from '../../src/media/media-store.js';
import { SeenOnce } from '../seen-once.js';
import { readBody, sendError } from '../web/respond.js';
import type { Mount } from '../web/http-server.js';
import { publicThumbnailUrl } from '../web/media-links.js';
import { helpCard, hitCard, plainFromTeams, submittedValue, textCard } from './cards.js';
import { downloadTeamsPhoto, otherFiles, photosOf } from './teams-files.js';

export const TEAMS_MESSAGES_PATH = '/api/messages';
/** Activities are small; a bigger body is not Teams. */
const BODY_LIMIT = 1 << 20;
/** Teams shows card images up to 1 MB (and 1024 px; our thumbnails are 512). */
const MAX_CARD_IMAGE_BYTES = 1 << 20;
const SENT_MEMORY = 500;

export interface TeamsAdapter {
  /** `authenticated` with an app id; `local` without one. */
  mode: 'authenticated' | 'local';
  mount: Mount;
}

export interface TeamsAdapterOptions {
  log: (line: string) => void;
}

// A name such as 127.0.0.1.example.com starts like a loopback address and resolves anywhere.
const isLoopbackHost = (host: string) => host === 'localhost' || host === '[::1]' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
/** Headers that proxies add to name the real client: any of them means the caller is not this machine. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip', 'via'];
const isLoopbackAddress = (address: string | undefined) => !!address && (/^(::ffff:)?127\./.test(address) || address === '::1');

/**
 * A bounded memory of answers sent, so a verdict can redraw its message with the other cards as they
 * were. Kept per conversation: the activity id a button names comes from the client, and an answer
 * given in another conversation (another scope) must never be redrawn here.
 */
class SentAnswers {
  private readonly sent = new Map<string, { text: string; cards: Card[] }>();
  remember(conversation: string, id: string, text: string, cards: Card[]): void {
    this.sent.set(`${conversation}\n${id}`, { text, cards });
    if (this.sent.size > SENT_MEMORY) this.sent.delete(this.sent.keys().next().value!);
  }
  get(conversation: string, id: string) {
    return this.sent.get(`${conversation}\n${id}`);
  }
}

interface Deps {
  assistant: Assistant;
  media: MediaStore;
  config: Config;
  log: (line: string) => void;
  sent: SentAnswers;
  seen: SeenOnce;
}

export function createTeamsAdapter(referent: { media: MediaStore }, assistant: Assistant, config: Config, options: TeamsAdapterOptions): TeamsAdapter {
  const { teams } = config;
  const credentials = {
    MicrosoftAppType: teams.appType,
    ...(teams.appId ? { MicrosoftAppId: teams.appId } : {}),
    ...(teams.appPassword ? { MicrosoftAppPassword: teams.appPassword } : {}),
    ...(teams.tenantId ? { MicrosoftAppTenantId: teams.tenantId } : {}),
  };
  const auth = new ConfigurationBotFrameworkAuthentication(credentials, new ConfigurationServiceClientCredentialFactory(credentials));
  const adapter = new CloudAdapter(auth);
  const deps: Deps = { assistant, media: referent.media, config, log: options.log, sent: new SentAnswers(), seen: new SeenOnce() };
  adapter.onTurnError = async (context, error) => {
    options.log(`teams: unexpected error in a turn: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await context.sendActivity({ type: 'message', attachments: [textCard({ kind: 'error', text: 'Something went wrong on my side; it has been logged. Please try again.', cards: [] })] }).catch(() => {});
  };
  const local = !teams.appId;
  const mount: Mount = {
    matches: (pathname) => pathname === TEAMS_MESSAGES_PATH,
    handle: async (req, res) => {
      if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
      // Local mode has no authentication: only this machine may talk to it, and not through a proxy.
      const proxied = PROXY_HEADERS.some((name) => req.headers[name] !== undefined);
      if (local && (proxied || !isLoopbackAddress(req.socket.remoteAddress))) {
        return refuse(res, 403, 'The Teams endpoint runs in local mode (no MICROSOFT_APP_ID) and answers this machine only.');
      }
      if (!local && !plausibleToken(req.headers.authorization)) return refuse(res, 401, 'Unauthorized. No valid identity.');
      let body: unknown;
      try {
        body = JSON.parse((await readBody(req, BODY_LIMIT)).toString('utf8'));
      } catch {
        return refuse(res, 400, 'The body must be a Bot Framework activity (JSON, at most 1 MB).');
      }
      // botbuilder throws a plain Error (outside its own catch) on an activity without a string type.
      if (!isActivityShaped(body)) return refuse(res, 400, 'The body must be a Bot Framework activity (JSON, at most 1 MB).');
      const serviceUrl = body.serviceUrl;
      if (local && (typeof serviceUrl !== 'string' || !isLoopbackHost(safeHost(serviceUrl)))) {
        return refuse(res, 403, 'In local mode replies go only to a service on this machine.');
      }
      await adapter.process({ body, headers: req.headers, method: req.method }, nodeResponse(res, options.log), (context) => turn(deps, adapter, context));
    },
  };
  return { mode: local ? 'local' : 'authenticated', mount };
}

const isActivityShaped = (body: unknown): body is Record<string, unknown> & { type: string } =>
  typeof body === 'object' && body !== null && !Array.isArray(body) && typeof (body as { type?: unknown }).type === 'string';

const safeHost = (url: string) => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};

const refuse = (res: http.ServerResponse, status: 400 | 401 | 403, message: string) => sendError(res, status, { 400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN' }[status], message);

/** botbuilder's own clock tolerance and signing algorithms. */
const CLOCK_TOLERANCE_S = 5 * 60;
const SIGNING_ALGORITHMS = ['RS256', 'RS384', 'RS512'];

/**
 * Whether a bearer token could be one botbuilder accepts: an RS256-family JWT naming its key, not
 * expired. botbuilder fetches Microsoft's signing keys before it looks at any of this, so without
 * this check every forged token costs a network call, and answers 500 while the keys are out of reach.
 */
function plausibleToken(authorization: string | undefined): boolean {
  const parts = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization ?? '');
  if (!parts) return false;
  try {
    const header = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { alg?: unknown; kid?: unknown };
    const claims = JSON.parse(Buffer.from(parts[2]!, 'base64url').toString('utf8')) as { exp?: unknown };
    const expired = typeof claims.exp === 'number' && claims.exp + CLOCK_TOLERANCE_S < Date.now() / 1000;
    return SIGNING_ALGORITHMS.includes(String(header.alg)) && typeof header.kid === 'string' && !expired;
  } catch {
    return false;
  }
}

/** botbuilder's minimal response (express-like) over node:http. */
function nodeResponse(res: http.ServerResponse, log: (line: string) => void) {
  return {
    socket: res.socket,
    status: (code: number) => void (res.statusCode = code),
    header: (name: string, value: unknown) => void res.setHeader(name, String(value)),
    send: (body: unknown) => {
      if (body === undefined || body === null) return;
      // botbuilder answers its own failures with the error's message (hosts, DNS errors): logged, not sent.
      if (res.statusCode >= 500) {
        log(`teams: a request failed in botbuilder: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
        res.setHeader('content-type', 'application/json; charset=utf-8');
        return void res.write(JSON.stringify({ error: 'INTERNAL', message: 'Something went wrong; it has been logged.' }));
      }
      if (typeof body === 'string' || Buffer.isBuffer(body)) return void res.write(body);
      res.setHeader('content-type', 'application/json');
      res.write(JSON.stringify(body));
    },
    end: () => void res.end(),
  };
}

const userOf = (a: Activity): ChatUser => ({ platform: 'teams', id: a.from?.aadObjectId ?? a.from?.id ?? 'unknown', ...(a.from?.name ? { name: a.from.name } : {}) });

/** Tenant and channel: a channel thread belongs to its channel, so a channel grant covers its threads. */
function scopeOf(a: Activity): ChatScope {
  const data = (a.channelData ?? {}) as { tenant?: { id?: string }; channel?: { id?: string } };
  const tenant = a.conversation?.tenantId ?? data.tenant?.id ?? 'local';
  const channel = data.channel?.id ?? (a.conversation?.id ?? 'unknown').split(';')[0]!;
  return { platform: 'teams', workspace: tenant, channel };
}

async function turn(deps: Deps, adapter: CloudAdapter, context: TurnContext): Promise<void> {
  const a = context.activity;
  if (a.type === 'conversationUpdate') {
    // Added to a team or chat: say hello with the help card.
    if (a.membersAdded?.some((m) => m.id === a.recipient?.id)) await context.sendActivity({ type: 'message', attachments: [help(deps)] });
    return;
  }
  if (a.type !== 'message') return;
  // Teams may deliver an activity twice after a slow answer.
  const key = `${a.conversation?.id}/${a.id}`;
  if (a.id && !deps.seen.first(key)) return;
  const submitted = submittedValue(a.value);
  if (submitted) return verdict(deps, context, submitted);
  await ask(deps, adapter, context);
}

const help = (deps: Deps) => helpCard(deps.assistant.help(), deps.assistant.modelName, deps.assistant.demoEncoder);

/** The bot's token for the conversation's service (null in local mode), for inline pictures. */
async function serviceToken(adapter: CloudAdapter, context: TurnContext): Promise<string | null> {
  const client = context.turnState.get(adapter.ConnectorClientKey) as { credentials?: { signRequest?: (r: unknown) => Promise<unknown> } } | undefined;
  const headers = new Map<string, string>();
  await client?.credentials?.signRequest?.({ headers: { set: (k: string, v: string) => headers.set(k.toLowerCase(), v), get: (k: string) => headers.get(k.toLowerCase()) } });
  return /^Bearer (.+)$/.exec(headers.get('authorization') ?? '')?.[1] ?? null;
}

async function ask(deps: Deps, adapter: CloudAdapter, context: TurnContext): Promise<void> {
  const a = context.activity;
  const text = plainFromTeams(TurnContext.removeRecipientMention(a) ?? a.text ?? '');
  const photos = photosOf(a.attachments);
  const others = otherFiles(a.attachments);
  if (others.length && !photos.length) return void (await send(deps, context, [{ kind: 'error', text: `I can only read photos, not ${others.join(', ')}.`, cards: [] }]));
  if (photos.length > deps.assistant.maxImages) return void (await send(deps, context, [{ kind: 'error', text: `Attach at most ${deps.assistant.maxImages} photos to one message.`, cards: [] }]));
  await context.sendActivity({ type: 'typing' });
  const images: Uint8Array[] = [];
  const problems: Reply[] = [];
  for (const photo of photos) {
    try {
      images.push(await downloadTeamsPhoto(photo, { serviceUrl: a.serviceUrl, maxBytes: deps.config.maxImageBytes, token: () => serviceToken(adapter, context) }));
    } catch (err) {
      if (!isReferentError(err)) throw err;
      problems.push({ kind: 'error', text: err.message, cards: [] });
    }
  }
  if (photos.length && !images.length) return void (await send(deps, context, problems));
  const replies = await deps.assistant.handle({ text, images, user: userOf(a), scope: scopeOf(a) });
  await send(deps, context, [...problems, ...replies]);
}

/** A card's picture: a signed public link when Referent has a public URL, else the thumbnail inline. */
async function pictureFor(deps: Deps, card: Card): Promise<string | undefined> {
  const { publicUrl, webToken } = deps.config.chat;
  if (publicUrl) return publicThumbnailUrl(publicUrl, card.mediaKey, webToken);
  try {
    const bytes = await deps.media.readThumbnail(card.mediaKey);
    return bytes.length < MAX_CARD_IMAGE_BYTES ? `data:image/jpeg;base64,${bytes.toString('base64')}` : undefined;
  } catch {
    return undefined;
  }
}

async function cardAttachments(deps: Deps, cards: readonly Card[]): Promise<Attachment[]> {
  return Promise.all(cards.map(async (c) => hitCard(c, await pictureFor(deps, c))));
}

/** Replies as activities: a results reply is its summary and a carousel of cards, one per hit. */
async function send(deps: Deps, context: TurnContext, replies: readonly Reply[]): Promise<void> {
  for (const reply of replies) {
    if (reply.cards.length === 0) {
      await context.sendActivity({ type: 'message', attachments: [reply.kind === 'help' ? help(deps) : textCard(reply)] });
      continue;
    }
    const text = reply.demoEncoder ? `${reply.text} (Demo encoder: it only understands colours.)` : reply.text;
    const sent = await context.sendActivity({ type: 'message', text, textFormat: 'plain', attachmentLayout: 'carousel', attachments: await cardAttachments(deps, reply.cards) });
    if (sent?.id) deps.sent.remember(context.activity.conversation?.id ?? '', sent.id, text, reply.cards);
  }
}

/** That's it / Not it / More like this: the verdict redraws its message in place, showing who gave it. */
async function verdict(deps: Deps, context: TurnContext, value: string): Promise<void> {
  const a = context.activity;
  const result = await deps.assistant.act(value, userOf(a), scopeOf(a));
  if (result.card) {
    const conversation = a.conversation?.id ?? '';
    const previous = a.replyToId ? deps.sent.get(conversation, a.replyToId) : undefined;
    const updated = result.card;
    if (previous && a.replyToId) {
      const cards = previous.cards.map((c) => (c.itemId === updated.itemId ? updated : c));
      deps.sent.remember(conversation, a.replyToId, previous.text, cards);
      await context.updateActivity({ type: 'message', id: a.replyToId, text: previous.text, textFormat: 'plain', attachmentLayout: 'carousel', attachments: await cardAttachments(deps, cards) });
    } else {
      // The message is older than this process remembers: show the card with its verdict as a new reply.
      await context.sendActivity({ type: 'message', attachments: await cardAttachments(deps, [updated]) });
    }
  }
  // The card itself says who gave the verdict; only More like this and errors need a message.
  await send(deps, context, result.card ? result.replies.filter((r) => r.kind !== 'info') : result.replies);
}
