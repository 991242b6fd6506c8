/**
 * Referent's HTTP server (node:http): the local web chat (one page and its JSON API), the search
 * API, and media by id. Chat platforms' endpoints mount here too (`mounts`). Every input is
 * bounded; media are served by content hash only, so no path from a request reaches the
 * filesystem. With an access token configured, every request must carry it (cookie or bearer).
 * Requests must name this server in their Host header (allowed-hosts.ts: DNS rebinding).
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { accessPolicy, visibleCollections } from '../../src/chat/access.js';
import type { Assistant } from '../../src/chat/assistant.js';
import type { Config } from '../../src/config.js';
import { ErrorCode, isReferentError, ReferentError } from '../../src/errors.js';
import type { Referent } from '../../src/open.js';
import { scopeKey } from '../../src/chat/message.js';
import { checkRequest, searchItems } from '../../src/search/search.js';
import { hitJson } from '../hit-json.js';
import { handleChatApi, WEB_SCOPE } from './chat-api.js';
import { allowedHostnames, hostnameOf } from './allowed-hosts.js';
import { checkMediaSignature } from './media-links.js';
import { sendJson, sendError } from './respond.js';
import { servePage } from './static-page.js';

const MEDIA_ROUTE = /^\/media\/([0-9a-f]{64})\/(thumbnail|original)$/;
const TOKEN_COOKIE = 'referent_token';
/** Who the audit log names for a search through the API (any holder of the access token). */
const API_USER = 'web:api';

/** A platform endpoint on the same server (Slack events, Teams messages): claims its paths. */
export interface Mount {
  matches(pathname: string): boolean;
  /**
   * The endpoint verifies every request itself (Slack signatures, Bot Framework tokens), so it may be
   * reached under any Host name (a tunnel, a proxy that keeps the public name). Never for an
   * unauthenticated endpoint (Teams in local mode): a rebinding page could then talk to it.
   */
  anyHost?: boolean;
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
}

export interface HttpServerOptions {
  assistant: Assistant;
  log?: (line: string) => void;
  mounts?: readonly Mount[];
}

const statusOf: Partial<Record<string, number>> = {
  [ErrorCode.UsageInvalid]: 400,
  [ErrorCode.TextTooLong]: 413,
  [ErrorCode.ImageTooLarge]: 413,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Forbidden]: 403,
};

export function createHttpServer(referent: Referent, config: Config, options: HttpServerOptions): http.Server {
  const log = options.log ?? console.error;
  const hosts = allowedHostnames(config);
  const refusedHosts = new Set<string>();
  return http.createServer((req, res) => {
    const mount = options.mounts?.find((m) => m.matches(pathnameOf(req)));
    const hostname = hostnameOf(req.headers.host);
    if (!mount?.anyHost && !(hostname && hosts.has(hostname))) {
      // Said once per name, so an operator behind a proxy learns which name to allow without a flood.
      if (refusedHosts.size < 100 && !refusedHosts.has(String(hostname))) {
        refusedHosts.add(String(hostname));
        log(`refused requests for the host name ${JSON.stringify(req.headers.host ?? '')}: not this server's (set REFERENT_PUBLIC_URL if people reach it by that name)`);
      }
      return sendError(res, 421, 'WRONG_HOST', 'This server does not answer to that host name. Open it by its own address, or set REFERENT_PUBLIC_URL to the name it is reached by.');
    }
    handle(referent, config, options, mount, req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (isReferentError(err)) return sendError(res, statusOf[err.code] ?? 400, err.code, err.message);
      log(`unexpected error on ${req.method} ${req.url}: ${err instanceof Error ? err.stack : String(err)}`);
      sendError(res, 500, 'INTERNAL', 'Something went wrong; it has been logged.');
    });
  });
}

async function handle(referent: Referent, config: Config, options: HttpServerOptions, mount: Mount | undefined, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // Platform endpoints carry their own authentication (signatures, Bot Framework tokens).
  if (mount) return mount.handle(req, res);
  // A chat platform fetches card images by signed link (REFERENT_PUBLIC_URL); nothing else passes without the token.
  const signedMedia = MEDIA_ROUTE.exec(url.pathname);
  const link = signedMedia?.[2] === 'thumbnail' && config.chat.webToken ? checkMediaSignature(url.searchParams.get('sig'), config.chat.webToken, signedMedia[1]!, config.chat.linkTtlSeconds) : 'invalid';
  const signed = link === 'valid';
  // An authentic link past its time says so (a chat client shows no image; a person learns why), unless the token is there too.
  if (link === 'expired' && !hasToken(config, req)) return sendError(res, 410, 'LINK_EXPIRED', 'This image link has expired; ask again in the chat for a fresh one.');
  if (!signed && !authorised(config, req, url, res)) return;
  if (url.pathname === '/api/chat' || url.pathname === '/api/action' || url.pathname === '/api/session') {
    return handleChatApi(options.assistant, config, url.pathname, req, res);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here.`);
  if (await servePage(url.pathname, res)) return;
  if (url.pathname === '/api/health') {
    const { encoder, catalog } = referent;
    // Counts what the web chat sees, as its `stats` does, not the collections kept from it.
    const visible = await visibleCollections(catalog, accessPolicy(config.chat), WEB_SCOPE);
    let items = 0;
    for (const c of visible.collections) items += await catalog.countItems(c.id);
    return sendJson(res, 200, { ok: true, items, model: encoder.modelId, demoEncoder: encoder.isDemo });
  }
  if (url.pathname === '/api/search') return searchApi(referent, config, url, res);
  const media = MEDIA_ROUTE.exec(url.pathname);
  if (media) {
    const [, key, kind] = media;
    // Unsigned, it is the web chat asking: only images of the collections it sees (a signed link
    // was minted for a card a granted chat scope was shown).
    if (!signed) {
      const visible = (await visibleCollections(referent.catalog, accessPolicy(config.chat), WEB_SCOPE)).ids;
      if (!(await referent.catalog.mediaCollections(key!)).some((id) => visible.has(id))) throw new ReferentError(ErrorCode.NotFound, 'No media with that key.');
    }
    const body = kind === 'thumbnail' ? await referent.media.readThumbnail(key!) : await referent.media.readOriginal(key!);
    res.writeHead(200, { 'content-type': kind === 'thumbnail' ? 'image/jpeg' : 'application/octet-stream', 'cache-control': 'private, max-age=86400', 'x-content-type-options': 'nosniff' });
    return void res.end(body);
  }
  sendError(res, 404, 'NOT_FOUND', 'There is nothing here.');
}

/**
 * The search API sees what the web chat sees, and, as the chat, records a search that reaches a
 * person collection in the audit log (as `web:api`, one entry per person collection, before it
 * runs; a refused query records nothing).
 */
async function searchApi(referent: Referent, config: Config, url: URL, res: http.ServerResponse): Promise<void> {
  const limit = Number(url.searchParams.get('limit') ?? 10);
  const names = url.searchParams.getAll('collection');
  const visible = await visibleCollections(referent.catalog, accessPolicy(config.chat), WEB_SCOPE);
  for (const name of names) {
    if (!visible.collections.some((c) => c.name === name)) throw new ReferentError(ErrorCode.NotFound, `There is no collection named "${name}".`);
  }
  const ids = names.length ? new Set(visible.collections.filter((c) => names.includes(c.name)).map((c) => c.id)) : visible.ids;
  const request = { text: url.searchParams.get('q') ?? '', limit, collectionIds: ids };
  const text = checkRequest(request, config)!;
  for (const c of visible.collections) {
    if (c.kind === 'person' && ids.has(c.id)) await referent.catalog.addAudit({ user: API_USER, platform: 'web', scope: scopeKey(WEB_SCOPE), collectionId: c.id, query: text });
  }
  const hits = await searchItems(referent, request, config);
  sendJson(res, 200, { hits: hits.map((h) => hitJson(h, { thumbnail: `/media/${h.item.mediaKey}/thumbnail` })) });
}

/** The request's path, or '' for a target URL that does not parse (handle() then answers it). */
function pathnameOf(req: http.IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}

function sameToken(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/** The request carries the web token (cookie or bearer); true when none is configured. */
function hasToken(config: Config, req: http.IncomingMessage): boolean {
  const expected = config.chat.webToken;
  if (!expected) return true;
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  return sameToken(cookieToken(req), expected) || sameToken(bearer, expected);
}

/**
 * With REFERENT_WEB_TOKEN set: `/?token=…` sets an HttpOnly cookie and redirects to `/` (so the
 * token leaves the address bar); API clients may send `Authorization: Bearer …` instead.
 */
function authorised(config: Config, req: http.IncomingMessage, url: URL, res: http.ServerResponse): boolean {
  const expected = config.chat.webToken;
  if (!expected) return true;
  const queryToken = url.searchParams.get('token') ?? undefined;
  if (url.pathname === '/' && sameToken(queryToken, expected)) {
    res.writeHead(303, { location: '/', 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(expected)}; HttpOnly; SameSite=Strict; Path=/` });
    res.end();
    return false;
  }
  if (hasToken(config, req)) return true;
  sendError(res, 401, 'UNAUTHORIZED', 'This Referent needs its access token: open the address you were given (…/?token=…).');
  return false;
}
