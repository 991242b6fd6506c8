/**
 * Referent in Slack (@slack/bolt). Two connections: Socket Mode when an app-level token is set (no
 * public URL), else Slack's HTTP requests at POST /slack/events on Referent's own server, where
 * Bolt checks each signature and timestamp. Every listener acknowledges first (Slack's 3 seconds)
 * and works after; an event Slack retries is handled once. The assistant does the thinking; this
 * file only maps Slack's payloads onto it. Channel history is never read.
 */
import type http from 'node:http';
import { App, HTTPReceiver, LogLevel, type Logger, SocketModeReceiver, webApi } from '@slack/bolt';
import { z } from 'zod';
import type { Assistant } from '../../src/chat/assistant.js';
import type { ChatUser } from '../../src/chat/message.js';
import type { Config, SlackConfig } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import type { Referent } from '../../src/open.js';
import { SeenOnce } from '../seen-once.js';
import type { Mount } from '../web/http-server.js';
import { ADD_REFERENCE_VIEW, addReferenceModal, homeView, plainFromSlack, replaceCard, workingMessage } from './blocks.js';
import { answer, type AnswerDeps, channelSink, deliver, failed, respondSink, type Where } from './slack-replies.js';
import { isImageFile, type SlackFileRef, SlackImages } from './slack-files.js';

export const SLACK_EVENTS_PATH = '/slack/events';
export const FIND_SIMILAR = 'referent_find_similar';
export const ADD_REFERENCE = 'referent_add_reference';
/** Slack's event bodies are small; anything bigger is not Slack. */
const BODY_LIMIT = 1 << 20;
const MAX_CLOCK_SKEW_S = 5 * 60;
const fromTheFuture = (timestamp: string | string[] | undefined) => typeof timestamp === 'string' && Number(timestamp) > Date.now() / 1000 + MAX_CLOCK_SKEW_S;

export interface SlackAdapter {
  mode: 'http' | 'socket';
  /** Who the bot is in its workspace (from auth.test). */
  team: string;
  botUserId: string;
  /** HTTP mode: Slack's endpoint, to mount on Referent's server. */
  mount?: Mount;
  /** Socket Mode connects here; HTTP mode has nothing to start. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SlackAdapterOptions {
  log: (line: string) => void;
  /** The Web API client's retries (Slack's rate limits are waited out, then retried). */
  retryConfig?: webApi.RetryOptions;
}

/** Retried for about a minute: an answer that takes longer is no longer worth sending. */
const DEFAULT_RETRIES: webApi.RetryOptions = { retries: 4, factor: 2, minTimeout: 1000, maxTimeout: 15_000 };

function boltLogger(log: (line: string) => void): Logger {
  let level = LogLevel.WARN;
  const at = (l: LogLevel) => (...msg: unknown[]) => {
    const order = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
    if (order.indexOf(l) >= order.indexOf(level)) log(`slack: ${msg.map(String).join(' ')}`);
  };
  return { debug: at(LogLevel.DEBUG), info: at(LogLevel.INFO), warn: at(LogLevel.WARN), error: at(LogLevel.ERROR), setLevel: (l) => void (level = l), getLevel: () => level, setName: () => {} };
}

/** Checks the bot token with Slack (auth.test) and wires the listeners. */
export async function createSlackAdapter(referent: Referent, assistant: Assistant, config: Config & { slack: SlackConfig }, options: SlackAdapterOptions): Promise<SlackAdapter> {
  const { slack } = config;
  const logger = boltLogger(options.log);
  const clientOptions: webApi.WebClientOptions = { slackApiUrl: slack.apiUrl, retryConfig: options.retryConfig ?? DEFAULT_RETRIES, logger };
  // At start-up, fail within seconds when Slack cannot be reached rather than retrying for a minute.
  const identity = await whoAmI(new webApi.WebClient(slack.botToken, { ...clientOptions, retryConfig: options.retryConfig ?? { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2000 } }));
  const receiver = slack.appToken
    ? new SocketModeReceiver({ appToken: slack.appToken, logger, installerOptions: { clientOptions: { ...clientOptions } } })
    : new HTTPReceiver({ signingSecret: slack.signingSecret!, endpoints: [SLACK_EVENTS_PATH], logger, bodyLimit: BODY_LIMIT });
  const app = new App({ token: slack.botToken, botId: identity.botId, botUserId: identity.botUserId, tokenVerificationEnabled: false, receiver, clientOptions, logger, convoStore: false });
  const images = new SlackImages(app.client, referent, { ...(config.chat.publicUrl ? { publicUrl: config.chat.publicUrl } : {}), ...(config.chat.webToken ? { mediaSecret: config.chat.webToken } : {}), log: options.log });
  const deps: AnswerDeps = {
    assistant,
    images,
    media: referent.media,
    download: { botToken: slack.botToken, apiUrl: slack.apiUrl, maxBytes: config.maxImageBytes },
    fileInfo: async (file) => {
      try {
        return (await app.client.files.info({ file })).file as SlackFileRef;
      } catch (err) {
        throw new ReferentError(ErrorCode.NotFound, 'Slack no longer gives me that photo (deleted, or shared from elsewhere).', { cause: err });
      }
    },
    log: options.log,
  };
  listen(app, deps, identity.botUserId);
  app.error(async (err) => options.log(`slack: ${err.stack ?? err.message}`));
  const base = { team: identity.team, botUserId: identity.botUserId };
  if (receiver instanceof HTTPReceiver) {
    const mount: Mount = {
      matches: (pathname) => pathname === SLACK_EVENTS_PATH,
      handle: async (req: http.IncomingMessage, res: http.ServerResponse) => {
        if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
        // Bolt refuses only stale timestamps; Slack's rule is five minutes either way.
        if (fromTheFuture(req.headers['x-slack-request-timestamp'])) return void res.writeHead(401).end();
        receiver.requestListener(req, res);
      },
    };
    return { ...base, mode: 'http', mount, start: async () => {}, stop: async () => {} };
  }
  const start = async () => {
    try {
      await app.start();
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      throw new ReferentError(ErrorCode.ConfigInvalid, `Slack Socket Mode could not connect${code ? ` (Slack answered "${code}")` : ''}: check SLACK_APP_TOKEN (an app-level token with connections:write) and that Socket Mode is on for the app.`, { cause: err });
    }
  };
  return { ...base, mode: 'socket', start, stop: async () => void (await app.stop()) };
}

async function whoAmI(client: webApi.WebClient): Promise<{ team: string; botUserId: string; botId: string }> {
  try {
    const auth = await client.auth.test();
    return { team: auth.team_id ?? '', botUserId: auth.user_id ?? '', botId: auth.bot_id ?? '' };
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    const why = code ? `Slack answered "${code}"` : `Slack could not be reached (${err instanceof Error ? err.message : String(err)})`;
    throw new ReferentError(ErrorCode.ConfigInvalid, `SLACK_BOT_TOKEN was not accepted: ${why}. Check the token (Slack app → OAuth & Permissions) and SLACK_API_URL.`, { cause: err });
  }
}

const slackUser = (u: { id: string; name?: string; username?: string }): ChatUser => ({ platform: 'slack', id: u.id, ...(u.name || u.username ? { name: (u.name || u.username)! } : {}) });

const metadataSchema = z.object({ c: z.string().max(40), t: z.string().max(40).optional(), f: z.array(z.string().max(40)).max(10) });

/** Every entry point: mentions, direct messages, /referent, message shortcuts, buttons, the dialog, App Home. */
function listen(app: App, deps: AnswerDeps, botUserId: string): void {
  const once = new SeenOnce();
  const { assistant, images } = deps;

  // Slack retries an event it thinks was not acknowledged; its event_id stays the same.
  app.use(async ({ body, next }) => {
    const eventId = (body as { event_id?: unknown }).event_id;
    if (typeof eventId === 'string' && !once.first(`event:${eventId}`)) return;
    await next();
  });

  app.event('app_mention', async ({ event, body, client }) => {
    if (!once.first(`msg:${event.channel}:${event.ts}`)) return;
    const where: Where = { team: body.team_id, channel: event.channel, thread: event.thread_ts ?? event.ts, user: slackUser({ id: event.user ?? '' }) };
    const files = ((event as { files?: SlackFileRef[] }).files ?? []) as SlackFileRef[];
    await answer(deps, channelSink(client, where), where, plainFromSlack(event.text, botUserId), files);
  });

  // Direct messages: every message is for Referent (mentions in channels arrive as app_mention).
  app.event('message', async ({ event, body, client }) => {
    const e = event as { channel_type?: string; subtype?: string; bot_id?: string; user?: string; channel: string; ts: string; thread_ts?: string; text?: string; files?: SlackFileRef[] };
    if (e.channel_type !== 'im' || e.bot_id || !e.user || (e.subtype && e.subtype !== 'file_share')) return;
    if (!once.first(`msg:${e.channel}:${e.ts}`)) return;
    const where: Where = { team: body.team_id, channel: e.channel, ...(e.thread_ts ? { thread: e.thread_ts } : {}), user: slackUser({ id: e.user }) };
    await answer(deps, channelSink(client, where), where, plainFromSlack(e.text ?? '', botUserId), e.files ?? []);
  });

  app.command('/referent', async ({ ack, command, client, respond }) => {
    await ack();
    const where: Where = { team: command.team_id, channel: command.channel_id, user: slackUser({ id: command.user_id, name: command.user_name }) };
    await answer(deps, channelSink(client, where, respond), where, plainFromSlack(command.text, botUserId), []);
  });

  app.shortcut(FIND_SIMILAR, async ({ ack, shortcut, client, respond }) => {
    await ack();
    if (shortcut.type !== 'message_action') return;
    const where: Where = { team: shortcut.team?.id ?? shortcut.user.team_id ?? '', channel: shortcut.channel.id, thread: shortcut.message.thread_ts ?? shortcut.message.ts, user: slackUser(shortcut.user) };
    const photos = ((shortcut.message.files ?? []) as SlackFileRef[]).filter(isImageFile);
    const sink = channelSink(client, where, respond as never);
    if (photos.length === 0) return void (await sink.tell('That message has no photo to search with.'));
    await answer(deps, sink, where, '', photos.slice(0, 1), { kind: 'find', text: '' });
  });

  app.shortcut(ADD_REFERENCE, async ({ ack, shortcut, client }) => {
    await ack();
    if (shortcut.type !== 'message_action') return;
    const photos = ((shortcut.message.files ?? []) as SlackFileRef[]).filter(isImageFile).slice(0, assistant.maxImages);
    if (photos.length === 0) {
      const where: Where = { team: shortcut.team?.id ?? '', channel: shortcut.channel.id, user: slackUser(shortcut.user) };
      return void (await channelSink(client, where).tell('That message has no photo to add.'));
    }
    const meta = JSON.stringify({ c: shortcut.channel.id, t: shortcut.message.thread_ts ?? shortcut.message.ts, f: photos.map((p) => p.id) });
    await client.views.open({ trigger_id: shortcut.trigger_id, view: addReferenceModal(meta, plainFromSlack(shortcut.message.text ?? '', botUserId)) as never });
  });

  app.view(ADD_REFERENCE_VIEW, async ({ ack, body, view, client }) => {
    const value = (block: string) => (view.state.values[block]?.value?.value ?? '').trim();
    const label = value('label');
    if (!label || label.includes(':')) return void (await ack({ response_action: 'errors', errors: { label: 'Give it a name without a colon, like P-20417.' } }));
    await ack();
    const meta = metadataSchema.safeParse(safeJson(view.private_metadata));
    if (!meta.success) return;
    const where: Where = { team: body.team?.id ?? body.user.team_id ?? '', channel: meta.data.c, ...(meta.data.t ? { thread: meta.data.t } : {}), user: slackUser(body.user) };
    // The dialog only carries file ids: answer() asks files.info for the rest.
    const files = meta.data.f.map((id): SlackFileRef => ({ id, file_access: 'check_file_info' }));
    const text = value('text');
    const collection = value('collection');
    await answer(deps, channelSink(client, where), where, `add ${label}: ${text}`, files, { kind: 'add', label, text, ...(collection ? { collection } : {}) });
  });

  app.action(/^referent\.(confirm|reject|more)$/, async ({ ack, body, action, client, respond }) => {
    await ack();
    if (body.type !== 'block_actions' || action.type !== 'button') return;
    const channel = body.channel?.id ?? (body.container as { channel_id?: string }).channel_id ?? '';
    const message = body.message as { ts: string; thread_ts?: string; text?: string; blocks?: never[] } | undefined;
    const where: Where = { team: body.team?.id ?? body.user.team_id ?? '', channel, ...(message ? { thread: message.thread_ts ?? message.ts } : {}), user: slackUser(body.user) };
    const sink = message ? channelSink(client, where) : respondSink(respond as never);
    let placeholder: string | null = null;
    try {
      if ((action as { action_id?: string }).action_id === 'referent.more') placeholder = await sink.post(workingMessage('Searching'));
      const result = await assistant.act(action.value, where.user, { platform: 'slack', workspace: where.team, channel });
      if (result.card && message?.blocks) {
        const picture = (await images.sources(where.team, [result.card.mediaKey])).get(result.card.mediaKey);
        await client.chat.update({ channel, ts: message.ts, text: message.text ?? '', blocks: replaceCard(message.blocks, result.card, picture) as never });
      }
      const [first, ...rest] = result.replies;
      // A verdict's thanks is for the person who gave it; More like this answers in the thread.
      if (first?.kind === 'info' && result.card) await sink.tell(first.text);
      await deliver(images, sink, where.team, first?.kind === 'info' && result.card ? rest : result.replies, placeholder);
    } catch (err) {
      await failed(deps.log, sink, placeholder, `on a button from ${where.user.id} in ${where.team}/${channel}`, err);
    }
  });

  // A button this version does not know (from an older message, or forged): acknowledged and
  // ignored, or Bolt holds the request for 3 s and Slack shows the person an error.
  app.action(/^(?!referent\.(confirm|reject|more)$)/, async ({ ack }) => {
    await ack();
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await client.views.publish({ user_id: event.user, view: homeView(assistant.help(), assistant.modelName, assistant.demoEncoder) as never });
  });
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
