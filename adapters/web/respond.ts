/** JSON answers and bounded request bodies for the HTTP server. */
import type http from 'node:http';
import { ErrorCode, ReferentError } from '../../src/errors.js';

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data), 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
  res.end(data);
}

/** Every error answer has the same shape: a stable code and a sentence for a person. */
export function sendError(res: http.ServerResponse, status: number, error: string, message: string): void {
  sendJson(res, status, { error, message });
}

/** Reads a request body of at most `limit` bytes; more is IMAGE_TOO_LARGE (413), and the rest is not read. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): ReferentError {
  return new ReferentError(ErrorCode.ImageTooLarge, `That request is larger than ${Math.round(limit / 2 ** 20)} MiB; send smaller or fewer photos.`);
}
