/**
 * The HTTP side of a model pull: one GET at a time with the token, an idle timeout, and every way a
 * request can fail turned into a ReferentError whose details name the model folder. Kept apart from
 * the file handling so the pull logic reads as steps and the error wording lives in one place.
 */
import { asDiskError, ErrorCode, ReferentError } from '../errors.js';
import { copyModelHint } from './model-files.js';

/** What every request of one pull shares. */
export interface HubRequestContext {
  hubId: string;
  /** Absolute model folder: named in every error so the reader knows where a copy would go. */
  dir: string;
  /** Without trailing slash. */
  hubUrl: string;
  revision: string;
  token?: string | undefined;
  fetchImpl: typeof fetch;
  signal?: AbortSignal | undefined;
  idleTimeoutMs: number;
}

/** A file response whose body is still to be read. */
export interface HubStream {
  body: ReadableStream<Uint8Array>;
  /** Offset in the file of the body's first byte: the range start on 206, 0 on 200. */
  start: number;
  /** Call on each chunk: the idle timeout counts from the last sign of life. */
  alive(): void;
  done(): void;
  /** Maps an error met while reading the body or writing it to disk. */
  interrupted(err: unknown, target: string): unknown;
}

export interface HubHttp {
  /** GET a JSON document; `next` is the same-origin `Link: rel="next"` page, if any. */
  getJson(url: string): Promise<{ body: unknown; next?: string | undefined }>;
  /** GET a file from `offset` (Range when > 0). 4xx/5xx and unreachable hubs throw. */
  getStream(url: string, offset: number, path: string): Promise<HubStream>;
  /** A MODEL_DOWNLOAD_FAILED for this pull, with the folder in its details. */
  failure(message: string, details?: Record<string, unknown>): ReferentError;
}

// Hub answers (X-Error-Code) that mean "no such model / revision / file", whatever the status.
const NOT_FOUND_CODES = new Set(['RepoNotFound', 'RevisionNotFound', 'EntryNotFound']);

/** Creates the request helper for one pull. */
export function hubHttp(ctx: HubRequestContext): HubHttp {
  return {
    failure: (message, details = {}) => downloadFailed(ctx, message, details),
    getJson: (url) => getJson(ctx, url),
    getStream: (url, offset, path) => getStream(ctx, url, offset, path),
  };
}

function downloadFailed(ctx: HubRequestContext, message: string, details: Record<string, unknown>): ReferentError {
  return new ReferentError(ErrorCode.ModelDownloadFailed, message, { details: baseDetails(ctx, details) });
}

async function getJson(ctx: HubRequestContext, url: string): Promise<{ body: unknown; next?: string | undefined }> {
  const { res, idle } = await send(ctx, url, {});
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw interruptedError(ctx, err, 'the file list', idle.timedOut());
  } finally {
    idle.stop();
  }
  try {
    return { body: JSON.parse(text) as unknown, next: nextPage(res.headers.get('link'), url, ctx.hubUrl) };
  } catch {
    throw downloadFailed(ctx, `${ctx.hubUrl} did not answer the file list with JSON: is hubUrl a Hugging Face hub?`, { url });
  }
}

async function getStream(ctx: HubRequestContext, url: string, offset: number, path: string): Promise<HubStream> {
  const { res, idle } = await send(ctx, url, offset > 0 ? { Range: `bytes=${offset}-` } : {});
  const start = res.status === 206 ? rangeStart(res.headers.get('content-range')) : 0;
  if (!res.body || (res.status === 206 && start !== offset)) {
    idle.stop();
    await res.body?.cancel().catch(() => undefined);
    throw downloadFailed(ctx, `${ctx.hubUrl} answered ${path} with an unusable body or range; run the pull again.`, { file: path, status: res.status });
  }
  return {
    body: res.body,
    start,
    alive: idle.poke,
    done: idle.stop,
    interrupted(err, target) {
      if (ctx.signal?.aborted || err instanceof ReferentError) return err;
      // An error with a syscall came from our own disk, not from the network.
      if ((err as NodeJS.ErrnoException | undefined)?.syscall) return asDiskError(err, target);
      return interruptedError(ctx, err, path, idle.timedOut());
    },
  };
}

interface IdleTimer {
  signal: AbortSignal;
  poke(): void;
  stop(): void;
  timedOut(): boolean;
}

/** Aborts when nothing happened for `ms`; combined with the caller's signal. */
function idleTimer(outer: AbortSignal | undefined, ms: number): IdleTimer {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const poke = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${ms} ms`)), ms);
  };
  poke();
  return {
    signal: outer ? AbortSignal.any([outer, controller.signal]) : controller.signal,
    poke,
    stop: () => clearTimeout(timer),
    timedOut: () => controller.signal.aborted,
  };
}

async function send(ctx: HubRequestContext, url: string, headers: Record<string, string>): Promise<{ res: Response; idle: IdleTimer }> {
  const idle = idleTimer(ctx.signal, ctx.idleTimeoutMs);
  // fetch follows the hub's redirects to its CDN and drops Authorization when the origin changes.
  const auth: Record<string, string> = ctx.token ? { Authorization: `Bearer ${ctx.token}` } : {};
  let res: Response;
  try {
    res = await ctx.fetchImpl(url, { headers: { ...headers, ...auth }, redirect: 'follow', signal: idle.signal });
  } catch (err) {
    idle.stop();
    if (ctx.signal?.aborted) throw err;
    throw unreachableError(ctx, err, idle.timedOut());
  }
  if (!res.ok) {
    idle.stop();
    await res.body?.cancel().catch(() => undefined);
    throw statusError(ctx, res);
  }
  return { res, idle };
}

function unreachableError(ctx: HubRequestContext, err: unknown, timedOut: boolean): ReferentError {
  const code = timedOut ? 'ETIMEDOUT' : networkCode(err);
  return new ReferentError(
    ErrorCode.ModelDownloadFailed,
    `Could not reach ${ctx.hubUrl} (${code}): this machine seems offline, or a proxy or firewall blocks the hub. ${copyModelHint(ctx.hubId, ctx.dir)}`,
    { cause: err, details: baseDetails(ctx, { code }) },
  );
}

function interruptedError(ctx: HubRequestContext, err: unknown, what: string, timedOut: boolean): ReferentError {
  const code = timedOut ? 'ETIMEDOUT' : networkCode(err);
  return new ReferentError(
    ErrorCode.ModelDownloadFailed,
    `The download of ${what} from ${ctx.hubUrl} was interrupted (${code}). What arrived is kept: run the same pull again to resume. ${copyModelHint(ctx.hubId, ctx.dir)}`,
    { cause: err, details: baseDetails(ctx, { code, file: what }) },
  );
}

function statusError(ctx: HubRequestContext, res: Response): ReferentError {
  const hubCode = res.headers.get('x-error-code') ?? '';
  const details = baseDetails(ctx, { status: res.status, ...(hubCode ? { hubErrorCode: hubCode } : {}) });
  // The hub answers 401 for a missing repo when no token is sent, so its own code decides first.
  if (res.status === 404 || NOT_FOUND_CODES.has(hubCode)) {
    return new ReferentError(
      ErrorCode.ModelNotFound,
      `${ctx.hubId} (revision ${ctx.revision}) was not found on ${ctx.hubUrl}. Check the model id; a private model also needs HF_TOKEN.`,
      { details },
    );
  }
  if (res.status === 401 || res.status === 403) {
    const gated = hubCode === 'GatedRepo' ? ` and accept the model's terms on its page (${ctx.hubUrl}/${ctx.hubId})` : '';
    return new ReferentError(
      ErrorCode.ModelDownloadFailed,
      `${ctx.hubUrl} refused access to ${ctx.hubId} (HTTP ${res.status}): a token is needed. Set HF_TOKEN to a Hugging Face access token that can read this model${gated}.`,
      { details },
    );
  }
  return new ReferentError(
    ErrorCode.ModelDownloadFailed,
    `${ctx.hubUrl} answered HTTP ${res.status} for ${ctx.hubId}; try again later. ${copyModelHint(ctx.hubId, ctx.dir)}`,
    { details },
  );
}

function baseDetails(ctx: HubRequestContext, extra: Record<string, unknown>): Record<string, unknown> {
  // Never the token: details are shown to people.
  return { folder: ctx.dir, hubId: ctx.hubId, hubUrl: ctx.hubUrl, revision: ctx.revision, ...extra };
}

/** fetch wraps socket errors (TypeError "fetch failed" → cause → code); find the first code. */
function networkCode(err: unknown): string {
  let current: unknown = err;
  let innermost = 'network error';
  for (let depth = 0; depth < 5 && current; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string' && message) innermost = message;
    current = cause;
  }
  return innermost;
}

function rangeStart(contentRange: string | null): number {
  const match = /^bytes\s+(\d+)-/.exec(contentRange ?? '');
  return match ? Number(match[1]) : -1;
}

/** The `rel="next"` link, only when it stays on the hub's origin (the token goes with it). */
function nextPage(link: string | null, current: string, hubUrl: string): string | undefined {
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link ?? '');
  if (!match?.[1]) return undefined;
  const next = new URL(match[1], current);
  return next.origin === new URL(hubUrl).origin ? next.toString() : undefined;
}
