/**
 * Referent in Microsoft Teams (botbuilder's CloudAdapter). One endpoint, POST /api/messages on
 * Referent's own server, in one of three modes:
 * - authenticated (MICROSOFT_APP_ID set): every request must carry valid Bot Framework auth
 *   (botbuilder checks the JWT; anything else gets 401);
 * - local (no app id, REFERENT_TEAMS_LOCAL=true): no auth, for the Bot Framework Emulator and
 *   tests; it answers this machine only and replies only to loopback service URLs. Identity comes
 *   from the unauthenticated body, so it is never on unless asked for;
 * - off (neither): every request gets 401, and the start-up line says how to configure it.
 *
 * Every botbuilder import stays inside adapters/teams/: Microsoft archived the Bot Framework SDK,
 * and its successor (@microsoft/agents-hosting) keeps these shapes, so moving is this folder only.
 */
import type http from 'node:http';
import { isIPv4 } from 'node:net';
import {
  ActivityTypes,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  ConfigurationServiceClientCredentialFactory,
} from 'botbuilder';
import type { Assistant } from '../../src/chat/assistant.js';
import type { Config } from '../../src/config.js';
import type { MediaStore } from '../../src/media/media-store.js';
import { SeenOnce } from '../seen-once.js';
import { readBody, sendError } from '../web/respond.js';
import type { Mount } from '../web/http-server.js';
import { messageResponse, textCard } from './cards.js';
import { SentMemory } from './sent-memory.js';
import { type TurnDeps } from './teams-replies.js';
import { respond, turn } from './teams-turns.js';

export const TEAMS_MESSAGES_PATH = '/api/messages';
/** Activities are small; a bigger body is not Teams. */
const BODY_LIMIT = 1 << 20;

export interface TeamsAdapter {
  /** `authenticated` with an app id; `local` without one when REFERENT_TEAMS_LOCAL is on; else `off` (401). */
  mode: 'authenticated' | 'local' | 'off';
  mount: Mount;
}

export interface TeamsAdapterOptions {
  log: (line: string) => void;
  /**
   * Extra botbuilder authentication settings, over the ones from config. For tests: they point the
   * OpenID metadata (where token signing keys come from) at a fake on 127.0.0.1 instead of Microsoft.
   */
  auth?: ConfigurationBotFrameworkAuthenticationOptions;
}

// A name such as 127.0.0.1.example.com starts like a loopback address and resolves anywhere.
const isLoopbackHost = (host: string) => host === 'localhost' || host === '[::1]' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
/** Headers that proxies add to name the real client: any of them means the caller is not this machine. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip', 'via'];
const isLoopbackAddress = (address: string | undefined) => !!address && (/^(::ffff:)?127\./.test(address) || address === '::1');

export const TEAMS_OFF_MESSAGE =
  'The Teams endpoint is off: set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (an Azure Bot registration), or REFERENT_TEAMS_LOCAL=true for the Bot Framework Emulator on this machine.';

export function createTeamsAdapter(referent: { media: MediaStore }, assistant: Assistant, config: Config, options: TeamsAdapterOptions): TeamsAdapter {
  const { teams } = config;
  const mode = teams.appId ? 'authenticated' : teams.local ? 'local' : 'off';
  if (mode === 'off') {
    // Closed by default: without an app id nothing can tell a Teams user from anyone who reaches the port.
    const mount: Mount = { matches: (pathname) => pathname === TEAMS_MESSAGES_PATH, handle: async (_req, res) => refuse(res, 401, TEAMS_OFF_MESSAGE) };
    return { mode, mount };
  }
  const credentials = {
    MicrosoftAppType: teams.appType,
    ...(teams.appId ? { MicrosoftAppId: teams.appId } : {}),
    ...(teams.appPassword ? { MicrosoftAppPassword: teams.appPassword } : {}),
    ...(teams.tenantId ? { MicrosoftAppTenantId: teams.tenantId } : {}),
  };
  const auth = new ConfigurationBotFrameworkAuthentication({ ...credentials, ...options.auth }, new ConfigurationServiceClientCredentialFactory(credentials));
  const adapter = new CloudAdapter(auth);
  const deps: TurnDeps = { assistant, media: referent.media, config, log: options.log, sent: new SentMemory(), seen: new SeenOnce() };
  adapter.onTurnError = async (context, error) => {
    options.log(`teams: unexpected error in a turn: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    const sorry = 'Something went wrong on my side; it has been logged. Please try again.';
    // An invoke still gets its answer (the presser sees the apology); a message gets it in the conversation.
    if (context.activity.type === ActivityTypes.Invoke) await respond(context, messageResponse(sorry)).catch(() => {});
    else await context.sendActivity({ type: 'message', attachments: [textCard({ kind: 'error', text: sorry, cards: [] })] }).catch(() => {});
  };
  const local = mode === 'local';
  const mount: Mount = {
    matches: (pathname) => pathname === TEAMS_MESSAGES_PATH,
    // Bot Framework tokens prove the caller whatever Host it names (a tunnel, a proxy keeping the public
    // name); local mode proves nothing, so there the server's own host names stand (DNS rebinding).
    anyHost: !local,
    handle: async (req, res) => {
      if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
      // Local mode has no authentication: only this machine may talk to it, and not through a proxy.
      const proxied = PROXY_HEADERS.some((name) => req.headers[name] !== undefined);
      if (local && (proxied || !isLoopbackAddress(req.socket.remoteAddress))) {
        return refuse(res, 403, 'The Teams endpoint runs in local mode (REFERENT_TEAMS_LOCAL, no MICROSOFT_APP_ID) and answers this machine only.');
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
  return { mode, mount };
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
