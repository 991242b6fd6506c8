/**
 * Referent in Slack (@slack/bolt). Two connections: Socket Mode when an app-level token is set (no
 * public URL), else Slack's HTTP requests at POST /slack/events on Referent's own server, where
 * Bolt checks each signature and timestamp. Every request is acknowledged within Slack's 3 seconds
 * (listeners ack first and work after; AcknowledgingApp acks the rest); an event Slack retries is
 * handled once. The assistant does the thinking; the listeners only map Slack's payloads onto it.
 * Channel history is never read.
 */
import type http from 'node:http';
import { HTTPReceiver, LogLevel, type Logger, SocketModeReceiver, webApi } from '@slack/bolt';
import type { Assistant } from '../../src/chat/assistant.js';
import type { Config, SlackConfig } from '../../src/config.js';
import { ErrorCode, ReferentError } from '../../src/errors.js';
import type { Referent } from '../../src/open.js';
import { SeenOnce } from '../seen-once.js';
import type { Mount } from '../web/http-server.js';
import { AcknowledgingApp, guardSocketEnvelopes } from './acknowledge.js';
import { MessageMemory } from './memory.js';
import { listenToButtons } from './slack-actions.js';
import { type SlackFileRef, SlackImages } from './slack-files.js';
import { listenToMessages, listenToOptions, listenToShortcuts, type SlackDeps } from './slack-listeners.js';

export { ADD_REFERENCE, FIND_SIMILAR } from './slack-listeners.js';
export const SLACK_EVENTS_PATH = '/slack/events';
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
  if (receiver instanceof SocketModeReceiver) guardSocketEnvelopes(receiver.client as never);
  const app = new AcknowledgingApp({ token: slack.botToken, botId: identity.botId, botUserId: identity.botUserId, tokenVerificationEnabled: false, receiver, clientOptions, logger, convoStore: false }, options.log);
  const images = new SlackImages(app.client, referent, { ...(config.chat.publicUrl ? { publicUrl: config.chat.publicUrl } : {}), ...(config.chat.webToken ? { mediaSecret: config.chat.webToken } : {}), log: options.log });
  const deps: SlackDeps = {
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
    memory: new MessageMemory(),
    botUserId: identity.botUserId,
  };
  const once = new SeenOnce();
  // Slack retries an event it thinks was not acknowledged; its event_id stays the same.
  app.use(async ({ body, next }) => {
    const eventId = (body as { event_id?: unknown }).event_id;
    if (typeof eventId === 'string' && !once.first(`event:${eventId}`)) return;
    await next();
  });
  listenToMessages(app, deps, once);
  listenToShortcuts(app, deps);
  listenToButtons(app, deps);
  listenToOptions(app, options.log);
  app.error(async (err) => options.log(`slack: ${err.stack ?? err.message}`));
  const base = { team: identity.team, botUserId: identity.botUserId };
  if (receiver instanceof HTTPReceiver) {
    const mount: Mount = {
      matches: (pathname) => pathname === SLACK_EVENTS_PATH,
      // Every request is signed: whatever host a proxy or tunnel presents, the signature decides.
      anyHost: true,
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
