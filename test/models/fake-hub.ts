/**
 * A fake Hugging Face hub on 127.0.0.1 serving model folders with the real protocol: the tree API
 * (with LFS entries for .onnx files, git blob ids for the rest, Link pagination), `resolve` with a
 * redirect to a /cdn/ path as huggingface.co does, and Range requests. Faults are switched on per
 * test so the downloader meets dropped connections, wrong bytes and refusals for real.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';

export interface FakeHubFaults {
  /** The next GET of this file sends half of it, then drops the connection (once). */
  cutOnce?: string;
  /** The next GET of this file sends half of it, then stalls without closing (once). */
  stallOnce?: string;
  /** This file is served with one byte changed, same length. */
  corrupt?: string;
  /** Answer 200 with the whole file even when a Range is asked for. */
  ignoreRange?: boolean;
  /** Every request gets this status (with `errorCode` as X-Error-Code when set). */
  status?: number;
  errorCode?: string;
  /** Requests without `Authorization: Bearer <token>` get 401. */
  token?: string;
  /** Tree pages of this many entries, chained by `Link: <...>; rel="next"`. */
  pageSize?: number;
}

export interface FakeHubRequest {
  url: string;
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  url: string;
  requests: FakeHubRequest[];
  faults: FakeHubFaults;
  close(): Promise<void>;
}

interface Entry {
  type: 'file' | 'directory';
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

const gitBlobId = (bytes: Buffer): string => createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');

/** Serves `repos` (hub id → folder) at revision `main`. */
export async function startFakeHub(repos: Record<string, string>): Promise<FakeHub> {
  const hub: FakeHub = { url: '', requests: [], faults: {}, close: async () => undefined };
  const server = createServer((req, res) => {
    hub.requests.push({ url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization });
    route(hub, repos, req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.close = () =>
    new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    });
  return hub;
}

async function route(hub: FakeHub, repos: Record<string, string>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', hub.url);
  const { faults } = hub;
  if (faults.status) return fail(res, faults.status, faults.errorCode);
  if (faults.token && req.headers.authorization !== `Bearer ${faults.token}`) return fail(res, 401);
  const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
  if (parts[0] === 'api' && parts[1] === 'models' && parts[4] === 'tree') {
    const dir = repos[`${parts[2]}/${parts[3]}`];
    if (!dir) return fail(res, 404, 'RepoNotFound');
    if (parts[5] !== 'main') return fail(res, 404, 'RevisionNotFound');
    return sendTree(hub, res, url, await listEntries(dir));
  }
  if (parts[0] === 'cdn') return sendFile(hub, req, res, repos[`${parts[1]}/${parts[2]}`], parts.slice(3).join('/'));
  if (parts[2] === 'resolve') {
    const dir = repos[`${parts[0]}/${parts[1]}`];
    if (!dir) return fail(res, 404, 'RepoNotFound');
    if (parts[3] !== 'main') return fail(res, 404, 'RevisionNotFound');
    const path = parts.slice(4).join('/');
    // LFS files live on the CDN: the hub answers with a redirect, as huggingface.co does.
    if (path.endsWith('.onnx')) {
      res.writeHead(302, { Location: `${hub.url}/cdn/${parts[0]}/${parts[1]}/${path}?expires=1` }).end();
      return;
    }
    return sendFile(hub, req, res, dir, path);
  }
  return fail(res, 404);
}

function fail(res: ServerResponse, status: number, errorCode?: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...(errorCode ? { 'X-Error-Code': errorCode } : {}) });
  res.end(JSON.stringify({ error: errorCode ?? `HTTP ${status}` }));
}

function sendTree(hub: FakeHub, res: ServerResponse, url: URL, entries: Entry[]): void {
  const size = hub.faults.pageSize ?? entries.length;
  const cursor = Number(url.searchParams.get('cursor') ?? 0);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (cursor + size < entries.length) {
    const next = new URL(url);
    next.searchParams.set('cursor', String(cursor + size));
    headers.Link = `<${next.toString()}>; rel="next"`;
  }
  res.writeHead(200, headers).end(JSON.stringify(entries.slice(cursor, cursor + size)));
}

async function listEntries(dir: string): Promise<Entry[]> {
  const names = (await readdir(dir, { recursive: true })).map((n) => n.split(sep).join('/')).sort();
  const entries: Entry[] = [];
  for (const path of names) {
    if (path.split('/').some((p) => p.startsWith('.'))) continue;
    const info = await stat(join(dir, path));
    if (info.isDirectory()) {
      entries.push({ type: 'directory', path, size: 0, oid: gitBlobId(Buffer.from(path)) });
      continue;
    }
    const bytes = await readFile(join(dir, path));
    if (!path.endsWith('.onnx')) {
      entries.push({ type: 'file', path, size: bytes.length, oid: gitBlobId(bytes) });
      continue;
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${bytes.length}\n`);
    entries.push({ type: 'file', path, size: bytes.length, oid: gitBlobId(pointer), lfs: { oid: sha256, size: bytes.length, pointerSize: pointer.length } });
  }
  return entries;
}

async function sendFile(hub: FakeHub, req: IncomingMessage, res: ServerResponse, dir: string | undefined, path: string): Promise<void> {
  const bytes = dir ? await readFile(join(dir, path)).catch(() => undefined) : undefined;
  if (!bytes || path.split('/').includes('..')) return fail(res, 404, 'EntryNotFound');
  const { faults } = hub;
  let body = bytes;
  if (faults.corrupt === path) {
    body = Buffer.from(bytes);
    body[body.length >> 1] = (body[body.length >> 1] ?? 0) ^ 0xff;
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range && !faults.ignoreRange ? Number(range[1]) : 0;
  if (start >= body.length && start > 0) return fail(res, 416);
  const slice = body.subarray(start);
  const headers: Record<string, string | number> = { 'Content-Length': slice.length, 'Accept-Ranges': 'bytes' };
  if (start > 0) headers['Content-Range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  res.writeHead(start > 0 ? 206 : 200, headers);
  if (faults.cutOnce === path || faults.stallOnce === path) {
    const cut = faults.cutOnce === path;
    delete faults[cut ? 'cutOnce' : 'stallOnce'];
    // The pause lets the client take in what was sent, as on a real line that drops after a while.
    res.write(slice.subarray(0, slice.length >> 1), () => {
      if (cut) setTimeout(() => res.socket?.destroy(), 100);
    });
    return;
  }
  res.end(slice);
}
