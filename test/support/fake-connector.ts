/**
 * A fake Bot Framework connector (the Teams service) on 127.0.0.1: where a bot's replies go. It
 * speaks the v3 REST API as botframework-connector calls it: replies are POSTed to
 * /v3/conversations/{conversationId}/activities/{replyToId}, updates PUT to
 * /v3/conversations/{conversationId}/activities/{activityId}. It also serves attachment bytes
 * (inline pictures at /v3/attachments/…, files at /files/…), recording the Authorization header.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConnectorCall {
  method: 'POST' | 'PUT';
  conversationId: string;
  /** replyToId for a reply, the activity id for an update; null for a new message. */
  activityId: string | null;
  activity: Record<string, unknown> & { type: string; attachments?: Array<{ contentType: string; content: Record<string, unknown> }> };
  /** The id the fake gave the activity. */
  id: string;
}

export interface FakeConnector {
  base: string;
  calls: ConnectorCall[];
  /** Authorization headers seen on attachment downloads. */
  downloads: Array<{ path: string; authorization: string | undefined }>;
  /** Serves bytes; returns their URL under /v3/attachments (inline picture) or /files (a personal-chat file). */
  addAttachment(bytes: Uint8Array, kind: 'inline' | 'file', name: string): string;
  waitFor(pred: (c: ConnectorCall) => boolean, timeoutMs?: number): Promise<ConnectorCall>;
  close(): Promise<void>;
}

export async function startFakeConnector(): Promise<FakeConnector> {
  const calls: ConnectorCall[] = [];
  const downloads: FakeConnector['downloads'] = [];
  const blobs = new Map<string, Uint8Array>();
  const waiters = new Set<() => void>();
  let seq = 0;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const blob = blobs.get(url.pathname);
    if (req.method === 'GET' && blob) {
      downloads.push({ path: url.pathname, authorization: req.headers.authorization });
      return void res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length }).end(blob);
    }
    const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m || (req.method !== 'POST' && req.method !== 'PUT')) return void res.writeHead(404).end();
    const id = req.method === 'PUT' ? decodeURIComponent(m[2]!) : `activity-${++seq}`;
    calls.push({ method: req.method, conversationId: decodeURIComponent(m[1]!), activityId: m[2] ? decodeURIComponent(m[2]) : null, activity: JSON.parse(Buffer.concat(chunks).toString('utf8')), id });
    for (const wake of waiters) wake();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    calls,
    downloads,
    addAttachment(bytes, kind, name) {
      const path = kind === 'inline' ? `/v3/attachments/${++seq}/views/original` : `/files/${++seq}/${encodeURIComponent(name)}`;
      blobs.set(path, bytes);
      return `${base}${path}`;
    },
    waitFor(pred, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = calls.find(pred);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching connector call within ${timeoutMs} ms; seen:\n${calls.map((c) => `  ${c.method} ${c.conversationId} ${c.activityId} ${c.activity.type}`).join('\n')}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
