/**
 * The web chat's page: three files read once from adapters/web/page/ (found from the source tree or
 * from dist/), served with a strict Content-Security-Policy. Only these three paths exist.
 */
import fs from 'node:fs';
import type http from 'node:http';
import { fileURLToPath } from 'node:url';

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/static/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/static/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

const CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function pageDir(): string {
  // From adapters/web/ under tsx, or dist/adapters/web/ after a build (the page is not compiled).
  for (const rel of ['./page/', '../../../adapters/web/page/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (fs.existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error('The web chat page (adapters/web/page/) is missing from this installation.');
}

let cache: Map<string, Buffer> | undefined;

function load(): Map<string, Buffer> {
  if (!cache) {
    const dir = pageDir();
    cache = new Map(Object.entries(FILES).map(([route, { file }]) => [route, fs.readFileSync(dir + file)]));
  }
  return cache;
}

/** Serves the page's files; false for any other path. */
export async function servePage(pathname: string, res: http.ServerResponse): Promise<boolean> {
  const entry = FILES[pathname];
  if (!entry) return false;
  const body = load().get(pathname)!;
  res.writeHead(200, {
    'content-type': entry.type,
    'content-length': body.length,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cache-control': 'no-cache',
  });
  res.end(body);
  return true;
}
