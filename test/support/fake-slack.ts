/**
 * A fake Slack on 127.0.0.1 for offline tests of the Slack adapter: the Web API as @slack/web-api 8.2.0 speaks it,
 * private file downloads, the files upload v2 flow and a Socket Mode WebSocket as @slack/socket-mode 3.1.0 expects it.
 * Point Bolt at it with `clientOptions: { slackApiUrl: fake.apiUrl }` (Bolt hands the same clientOptions to its
 * SocketModeClient, so apps.connections.open comes here too).
 *
 * Wire notes (read from node_modules): the WebClient POSTs every method urlencoded, objects and arrays JSON-encoded as
 * strings, numbers and booleans as strings (`length: '123'`, not 123), and the token in `Authorization: Bearer` (and
 * also in the body when a call passes `token`). An argument holding a Buffer makes the whole call multipart/form-data;
 * that is how filesUploadV2 POSTs the bytes to upload_url: multipart, field name `body`, filename `Untitled`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  token: string | undefined;
  /** Set on calls that were answered 429 by rateLimit(). */
  rateLimited?: true;
  /** What the fake answered (set before waiters wake). */
  response?: Record<string, unknown>;
  /** For `response_url` posts: the URL's path (`/respond/<name>`), so a test can tell its response URLs apart. */
  path?: string;
}
export interface SlackFile { id: string; name: string; mimetype: string; filetype: string; size: number; url_private: string; url_private_download: string }
type Answer = Record<string, unknown>;
export interface FakeSlack {
  apiUrl: string;
  base: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  waitFor(method: string, pred?: (c: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  addFile(bytes: Uint8Array, options: { name: string; mimetype: string }): SlackFile;
  uploaded: Map<string, Uint8Array>;
  rateLimit(method: string, seconds: number, count?: number): void;
  /** Replaces the answer to `method` (after the token check), e.g. `() => ({ ok: false, error: 'channel_not_found' })`; null restores it. */
  answer(method: string, fn: ((c: SlackCall) => Answer) | null): void;
  socket: {
    connected(timeoutMs?: number): Promise<void>;
    send(type: 'events_api' | 'interactive' | 'slash_commands', payload: unknown, options?: { retryAttempt?: number }): Promise<{ envelope_id: string; payload?: unknown }>;
  };
  close(): Promise<void>;
}

/** Form fields that are free text: never JSON-decoded even when they look like JSON. */
const TEXT_FIELDS = new Set(['text', 'markdown_text', 'initial_comment', 'title', 'alt_text', 'content', 'filename', 'query']);
const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  txt: 'text/plain', csv: 'text/csv', json: 'application/json', pdf: 'application/pdf',
};
const FILETYPE_BY_MIME: Record<string, string> = { 'image/jpeg': 'jpg', 'text/plain': 'text' };

export async function startFakeSlack(options: { botToken: string; appToken?: string; teamId?: string; botUserId?: string; botId?: string }): Promise<FakeSlack> {
  const { botToken, appToken, teamId = 'T0001', botUserId = 'UBOT', botId = 'BBOT' } = options;
  const calls: SlackCall[] = [];
  const uploaded = new Map<string, Uint8Array>();
  const files = new Map<string, { file: SlackFile; bytes: Uint8Array }>();
  const pending = new Map<string, { name: string; bytes?: Uint8Array }>(); // upload v2 between its three steps
  const limits = new Map<string, { seconds: number; count: number }>();
  const overrides = new Map<string, (c: SlackCall) => Answer>();
  const acks = new Map<string, { envelope_id: string; payload?: unknown }>();
  let current: WebSocket | undefined; // the latest socket that got its hello
  let seq = 0;
  let fileSeq = 0;

  // One mechanism for every wait: a probe re-run after each state change (call, hello, ack) until it yields a value.
  interface Waiter { check(): boolean; fail(e: Error): void }
  const waiters = new Set<Waiter>();
  const wake = () => { for (const w of waiters) w.check(); };
  function until<T>(probe: () => T | undefined, ms: number, describe: () => string): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = {
        check() {
          let v: T | undefined;
          try { v = probe(); } catch (e) { w.fail(e instanceof Error ? e : new Error(String(e))); return true; }
          if (v === undefined) return false;
          clearTimeout(timer); waiters.delete(w); resolve(v);
          return true;
        },
        fail(e) { clearTimeout(timer); waiters.delete(w); reject(e); },
      };
      const timer = setTimeout(() => w.fail(new Error(describe())), ms);
      waiters.add(w);
    });
  }

  const nextTs = () => {
    const micros = ++seq * 100;
    return `${1700000000 + Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  };
  const nextFileId = () => `F${String(++fileSeq).padStart(10, '0')}`;
  function registerFile(id: string, bytes: Uint8Array, name: string, mimetype: string): SlackFile {
    const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
    const path = `/files-pri/${teamId}-${id}`;
    const file: SlackFile = {
      id, name, mimetype, filetype: FILETYPE_BY_MIME[mimetype] ?? ext ?? mimetype.split('/')[1] ?? 'binary', size: bytes.length,
      url_private: `${base}${path}/${encodeURIComponent(name)}`,
      url_private_download: `${base}${path}/download/${encodeURIComponent(name)}`,
    };
    files.set(id, { file, bytes });
    return file;
  }

  const answers: Record<string, (c: SlackCall) => Answer> = {
    'auth.test': () => ({ ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'referent', team_id: teamId, user_id: botUserId, bot_id: botId, is_enterprise_install: false }),
    'apps.connections.open': () => ({ ok: true, url: `ws://127.0.0.1:${port}/socket` }),
    'chat.postMessage': ({ args }) => {
      const ts = nextTs();
      return { ok: true, channel: args.channel, ts, message: { type: 'message', user: botUserId, bot_id: botId, text: args.text, blocks: args.blocks, ts, thread_ts: args.thread_ts } };
    },
    'chat.update': ({ args }) => ({ ok: true, channel: args.channel, ts: args.ts, text: args.text }),
    'chat.postEphemeral': () => ({ ok: true, message_ts: nextTs() }),
    'chat.delete': ({ args }) => ({ ok: true, channel: args.channel, ts: args.ts }),
    'views.publish': ({ args }) => ({ ok: true, view: { id: 'V1', ...(args.view as object) } }),
    'views.open': ({ args }) => ({ ok: true, view: { id: 'V1', ...(args.view as object) } }),
    'views.update': ({ args }) => ({ ok: true, view: { id: 'V1', ...(args.view as object) } }),
    'files.info': ({ args }) => {
      const entry = files.get(String(args.file));
      return entry ? { ok: true, file: entry.file } : { ok: false, error: 'file_not_found' };
    },
    'files.getUploadURLExternal': ({ args }) => {
      if (typeof args.filename !== 'string' || !Number(args.length)) return { ok: false, error: 'invalid_arguments' };
      const id = nextFileId();
      pending.set(id, { name: args.filename });
      return { ok: true, upload_url: `${base}/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': ({ args }) => {
      const list = Array.isArray(args.files) ? (args.files as { id: string; title?: string }[]) : [];
      if (list.length === 0 || list.some((f) => !pending.get(f.id)?.bytes)) return { ok: false, error: 'file_not_found' };
      const done = list.map(({ id, title }) => {
        const { name, bytes } = pending.get(id) as { name: string; bytes: Uint8Array };
        pending.delete(id);
        uploaded.set(id, bytes);
        const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
        return { ...registerFile(id, bytes, name, MIME_BY_EXT[ext] ?? 'application/octet-stream'), title: title ?? name };
      });
      return { ok: true, files: done };
    },
  };

  function authError(method: string, token: string | undefined): Answer | undefined {
    if (token === undefined || token === '') return { ok: false, error: 'not_authed' };
    if (token !== botToken && token !== appToken) return { ok: false, error: 'invalid_auth' };
    // Real Slack refuses an app-level token for anything but apps.connections.*, and a bot token for those.
    if ((method === 'apps.connections.open') !== (token === appToken)) return { ok: false, error: 'not_allowed_token_type' };
    return undefined;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const type = req.headers['content-type'] ?? '';
    const bearer = /^Bearer (.*)$/.exec(req.headers.authorization ?? '')?.[1];

    if (url.pathname.startsWith('/api/')) {
      const args: Record<string, unknown> = Object.fromEntries(url.searchParams);
      if (type.startsWith('application/json')) Object.assign(args, JSON.parse(raw.toString('utf8') || '{}'));
      else if (raw.length > 0) {
        for (const [key, value] of await formData(raw, type || 'application/x-www-form-urlencoded')) {
          args[key] = typeof value !== 'string' ? new Uint8Array(await value.arrayBuffer())
            : TEXT_FIELDS.has(key) || !/^\s*[[{]/.test(value) ? value : tryJson(value);
        }
      }
      const bodyToken = typeof args.token === 'string' ? args.token : undefined;
      delete args.token;
      const call: SlackCall = { method: decodeURIComponent(url.pathname.slice('/api/'.length)), args, token: bearer ?? bodyToken };
      calls.push(call);
      const limit = limits.get(call.method);
      if (limit && limit.count > 0) {
        limit.count -= 1;
        call.rateLimited = true;
        wake();
        return json(res, { ok: false, error: 'ratelimited' }, 429, { 'retry-after': String(limit.seconds) });
      }
      const answer = authError(call.method, call.token)
        ?? (overrides.get(call.method) ?? answers[call.method] ?? (() => ({ ok: false, error: 'unknown_method' })))(call);
      call.response = answer;
      wake(); // after answering, so a waiter sees the state the call produced (e.g. `uploaded`)
      return json(res, answer);
    }

    const download = /^\/files-pri\/([A-Z0-9]+)-([A-Z0-9]+)\//.exec(url.pathname);
    if (download) {
      // Like files.slack.com: without the bot token, a redirect to a sign-in page (HTML, 200), not a 401.
      if (bearer !== botToken) {
        res.writeHead(302, { location: `${base}/signin?redir=${encodeURIComponent(url.pathname)}` }).end();
        return;
      }
      const entry = download[1] === teamId ? files.get(download[2] ?? '') : undefined;
      if (!entry) return send(res, 404, 'file not found', 'text/plain');
      return send(res, 200, entry.bytes, entry.file.mimetype);
    }
    if (url.pathname === '/signin') return send(res, 200, '<!DOCTYPE html><html><head><title>Fake | Slack</title></head><body>Sign in to Fake</body></html>', 'text/html; charset=utf-8');

    const upload = /^\/upload\/(F[0-9]+)$/.exec(url.pathname);
    const job = upload && req.method === 'POST' ? pending.get(upload[1] ?? '') : undefined;
    if (job) {
      // filesUploadV2 sends multipart (field `body`); other clients may POST the raw bytes.
      let bytes: Uint8Array = new Uint8Array(raw);
      if (type.startsWith('multipart/form-data')) {
        const part = [...(await formData(raw, type)).values()].find((v) => typeof v !== 'string');
        if (!part || typeof part === 'string') return send(res, 400, 'no file part', 'text/plain');
        bytes = new Uint8Array(await part.arrayBuffer());
      }
      job.bytes = bytes;
      return send(res, 200, `OK - ${bytes.length}`, 'text/plain');
    }
    // response_url (slash commands, shortcuts, buttons): recorded as a call to the pseudo-method `response_url`.
    if (url.pathname.startsWith('/respond/') && req.method === 'POST') {
      calls.push({ method: 'response_url', args: JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>, token: bearer, path: url.pathname });
      wake();
      return send(res, 200, 'ok', 'text/plain');
    }
    send(res, 404, 'not found', 'text/plain');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else json(res, { ok: false, error: 'fake_slack_failed', detail: String(error) }, 500);
    });
  });

  // Socket Mode: the client connects to the URL apps.connections.open gave, waits for `hello`, then acks each
  // envelope with {envelope_id, payload} (payload is {} when the app acks without a response).
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', base).pathname !== '/socket') return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const message = tryJson(data.toString()) as { envelope_id?: unknown } | string;
        if (typeof message === 'object' && typeof message.envelope_id === 'string') {
          acks.set(message.envelope_id, message as { envelope_id: string });
          wake();
        }
      });
      ws.on('close', () => { if (current === ws) current = undefined; });
      const hello = { type: 'hello', num_connections: 1, debug_info: { host: 'fake-slack', build_number: 1, approximate_connection_time: 18060 }, connection_info: { app_id: 'A1' } };
      ws.send(JSON.stringify(hello), () => { current = ws; wake(); });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  const listCalls = () => calls.map((c) => `${c.method} ${JSON.stringify(c.args)}`).join('\n  ') || '(none)';
  const connected = (timeoutMs = 15000) =>
    until(() => (current && current.readyState === current.OPEN ? true : undefined), timeoutMs, () => 'no Socket Mode client connected').then(() => {});

  return {
    apiUrl: `${base}/api/`,
    base,
    calls,
    uploaded,
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitFor: (method, pred = () => true, timeoutMs = 15000) =>
      until(() => calls.find((c) => c.method === method && pred(c)), timeoutMs, () => `no matching ${method} call within ${timeoutMs} ms; calls seen:\n  ${listCalls()}`),
    addFile: (bytes, { name, mimetype }) => registerFile(nextFileId(), bytes, name, mimetype),
    rateLimit: (method, seconds, count = 1) => void limits.set(method, { seconds, count }),
    answer: (method, fn) => void (fn ? overrides.set(method, fn) : overrides.delete(method)),
    socket: {
      connected,
      async send(type, payload, { retryAttempt = 0 } = {}) {
        await connected();
        const envelope_id = randomUUID();
        const envelope = { envelope_id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: retryAttempt, retry_reason: retryAttempt > 0 ? 'timeout' : '' };
        current?.send(JSON.stringify(envelope));
        return until(() => acks.get(envelope_id), 15000, () => `no ack for ${type} envelope ${envelope_id} within 15000 ms`);
      },
    },
    async close() {
      for (const w of waiters) w.fail(new Error('fake Slack closed'));
      // Close handshakes first (a Bolt app.stop() does not wait for its own), then cut whatever is still open.
      const open = [...wss.clients];
      await new Promise<void>((resolve) => {
        let left = open.length;
        const timer = setTimeout(resolve, 1000);
        if (left === 0) { clearTimeout(timer); resolve(); }
        for (const ws of open) {
          ws.once('close', () => { if (--left === 0) { clearTimeout(timer); resolve(); } });
          ws.close(1001, 'fake Slack closing');
        }
      });
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function tryJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return text; }
}
/** urlencoded and multipart bodies both parse with the fetch Body mixin. */
function formData(raw: Buffer, contentType: string) {
  return new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
}
function send(res: http.ServerResponse, status: number, body: string | Uint8Array, contentType: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers }).end(body);
}
function json(res: http.ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}) {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

/** x-slack-signature as Slack computes it: 'v0=' + hex HMAC-SHA256(secret, `v0:${ts}:${rawBody}`). */
export function slackSignature(secret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** POSTs a Slack-signed request: an events-API object as JSON, or `{ form }` urlencoded (interactivity: `payload` = JSON). */
export async function postSigned(
  url: string,
  secret: string,
  body: object | { form: Record<string, string> },
  options: { timestamp?: number; signature?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string }> {
  const form = 'form' in body ? (body as { form: Record<string, string> }).form : undefined;
  const raw = form ? new URLSearchParams(form).toString() : JSON.stringify(body);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    body: raw,
    headers: {
      'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? slackSignature(secret, timestamp, raw),
      ...options.headers,
    },
  });
  return { status: res.status, text: await res.text() };
}
