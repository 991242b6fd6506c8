/**
 * Referent's HTTP server (node:http): a small JSON API for now; the web chat page and the chat
 * platforms' endpoints mount here later. Every input is bounded; media are served by id only, so
 * no path from a request ever reaches the filesystem.
 */
import http from 'node:http';
import type { Config } from '../../src/config.js';
import { ErrorCode, isReferentError } from '../../src/errors.js';
import type { Referent } from '../../src/open.js';
import { searchItems } from '../../src/search/search.js';
import { hitJson } from '../hit-json.js';

const MEDIA_ROUTE = /^\/media\/([0-9a-f]{64})\/(thumbnail|original)$/;

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data), 'x-content-type-options': 'nosniff' });
  res.end(data);
}

const statusOf: Partial<Record<string, number>> = {
  [ErrorCode.UsageInvalid]: 400,
  [ErrorCode.TextTooLong]: 413,
  [ErrorCode.NotFound]: 404,
};

export function createHttpServer(referent: Referent, config: Config, log: (line: string) => void = console.error): http.Server {
  return http.createServer((req, res) => {
    handle(referent, config, req, res).catch((err: unknown) => {
      if (isReferentError(err)) return sendJson(res, statusOf[err.code] ?? 400, { error: err.code, message: err.message });
      log(`unexpected error on ${req.method} ${req.url}: ${err instanceof Error ? err.stack : String(err)}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'INTERNAL', message: 'Something went wrong; it has been logged.' });
    });
  });
}

async function handle(referent: Referent, config: Config, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'METHOD_NOT_ALLOWED' });
  if (url.pathname === '/api/health') {
    const { encoder, catalog } = referent;
    return sendJson(res, 200, { ok: true, items: catalog.countItems(), model: encoder.modelId, demoEncoder: encoder.isDemo });
  }
  if (url.pathname === '/api/search') {
    const limit = Number(url.searchParams.get('limit') ?? 10);
    const collections = url.searchParams.getAll('collection');
    const hits = await searchItems(
      referent,
      { text: url.searchParams.get('q') ?? '', limit, ...(collections.length ? { collections } : {}) },
      config,
    );
    return sendJson(res, 200, { hits: hits.map((h) => hitJson(h, { thumbnail: `/media/${h.item.mediaKey}/thumbnail` })) });
  }
  const media = MEDIA_ROUTE.exec(url.pathname);
  if (media) {
    const [, key, kind] = media;
    const body = kind === 'thumbnail' ? await referent.media.readThumbnail(key!) : await referent.media.readOriginal(key!);
    res.writeHead(200, { 'content-type': kind === 'thumbnail' ? 'image/jpeg' : 'application/octet-stream', 'cache-control': 'private, max-age=86400', 'x-content-type-options': 'nosniff' });
    return void res.end(body);
  }
  sendJson(res, 404, { error: 'NOT_FOUND' });
}
