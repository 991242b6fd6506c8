/**
 * Closed by default (issue 16), through real HTTP on 127.0.0.1: requests must name this server in
 * their Host header (DNS rebinding), the web user is an admin only on loopback unless
 * REFERENT_ADMINS names it, and signed image links expire. The refusal to start on a non-loopback
 * HOST without a token is in test/cli/start-errors.int.test.ts (it needs the real process).
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mount } from '../../adapters/web/http-server.js';
import { mediaSignature, publicThumbnailUrl } from '../../adapters/web/media-links.js';
import type { Reply } from '../../src/chat/reply.js';
import type { Config } from '../../src/config.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, type Referent } from '../../src/open.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';
import { startServer, type TestServer } from '../support/web.js';

const TOKEN = 'a-long-enough-test-token';
const TTL = 60;

/** A GET with the Host header the test chooses (fetch sets its own), to 127.0.0.1. */
function getWithHost(base: string, pathname: string, host: string | null, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, headers: { ...headers, ...(host === null ? {} : { host }) }, setHost: host !== null, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP/1.0 request with no Host header at all (node's client always sends one). */
function getWithoutHost(base: string, pathname: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(`GET ${pathname} HTTP/1.0\r\n\r\n`));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('closed by default: Host names, admins, link expiry', () => {
  let dir: string;
  let referent: Referent;
  let config: Config;
  let open: TestServer;
  let publicServer: TestServer;
  let locked: TestServer;
  let label: string;
  let key: string;
  const mountHits: string[] = [];

  beforeAll(async () => {
    dir = tempDir();
    config = testConfig(path.join(dir, 'data'));
    referent = await openReferent(config);
    await ingest(referent, await readSources(await makeColourGallery(path.join(dir, 'img'), 2, ['red', 'blue'])), { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
    const item = (await referent.catalog.getItem([...await referent.catalog.itemVectors(referent.encoder.modelId, 0, 1_000_000)][0]!.itemId))!;
    key = item.mediaKey;
    label = (await referent.catalog.getEntity(item.entityId!))!.label;
    // Two platform-style endpoints: one that authenticates its requests itself, one that does not.
    const mount = (pathname: string, anyHost: boolean): Mount => ({
      matches: (p) => p === pathname,
      anyHost,
      handle: async (_req, res) => {
        mountHits.push(pathname);
        res.writeHead(204).end();
      },
    });
    open = await startServer(referent, config, { mounts: [mount('/signed-platform', true), mount('/local-platform', false)] });
    publicServer = await startServer(referent, testConfig(config.dataDir, { REFERENT_PUBLIC_URL: 'https://Referent.Example.com/', REFERENT_WEB_TOKEN: TOKEN }));
    locked = await startServer(referent, testConfig(config.dataDir, { REFERENT_WEB_TOKEN: TOKEN, REFERENT_LINK_TTL_SECONDS: String(TTL) }));
  });
  afterAll(async () => {
    for (const s of [open, publicServer, locked]) await s?.close();
    await referent?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers under its own names: loopback names and HOST, with or without the port', async () => {
    const port = new URL(open.base).port;
    for (const host of ['127.0.0.1', `127.0.0.1:${port}`, 'localhost', `LOCALHOST:${port}`, '[::1]', `[::1]:${port}`]) {
      expect((await getWithHost(open.base, '/api/health', host)).status, host).toBe(200);
    }
  });

  it('refuses another name (a DNS-rebinding page) on every route, with a short JSON error', async () => {
    const thumbnail = `/media/${key}/thumbnail`;
    for (const host of ['evil.example', `evil.example:${new URL(open.base).port}`, '127.0.0.1.evil.example', 'referent.example.com', 'localhost@evil.example', 'a b']) {
      for (const route of ['/', '/api/health', '/api/search?q=red', thumbnail, '/api/session']) {
        const answer = await getWithHost(open.base, route, host);
        expect(answer.status, `${host} ${route}`).toBe(421);
        expect(JSON.parse(answer.body)).toMatchObject({ error: 'WRONG_HOST' });
      }
    }
    expect(await getWithoutHost(open.base, '/api/health')).toMatch(/^HTTP\/1\.[01] 421 /);
  });

  it("answers under REFERENT_PUBLIC_URL's host (a reverse proxy that keeps the name), and still wants the token there", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await getWithHost(publicServer.base, '/api/health', 'referent.example.com', auth)).status).toBe(200);
    expect((await getWithHost(publicServer.base, '/api/health', 'referent.example.com:443', auth)).status).toBe(200);
    expect((await getWithHost(publicServer.base, '/api/health', 'referent.example.com')).status).toBe(401);
    expect((await getWithHost(publicServer.base, '/api/health', 'other.example.com', auth)).status).toBe(421);
  });

  it('lets only endpoints that authenticate each request (Slack, Teams with an app id) take any Host', async () => {
    mountHits.length = 0;
    expect((await getWithHost(open.base, '/signed-platform', 'tunnel.example')).status).toBe(204);
    expect((await getWithHost(open.base, '/local-platform', 'tunnel.example')).status).toBe(421);
    expect((await getWithHost(open.base, '/local-platform', '127.0.0.1')).status).toBe(204);
    expect(mountHits).toEqual(['/signed-platform', '/local-platform']);
  });

  it('makes the web user an admin on loopback only, unless REFERENT_ADMINS names it', async () => {
    expect(testConfig(config.dataDir).chat.admins).toEqual(['web:local']);
    expect(testConfig(config.dataDir, { HOST: 'localhost' }).chat.admins).toEqual(['web:local']);
    expect(testConfig(config.dataDir, { HOST: '0.0.0.0' }).chat.admins).toEqual([]);
    expect(testConfig(config.dataDir, { HOST: '192.168.1.20' }).chat.admins).toEqual([]);
    expect(testConfig(config.dataDir, { HOST: '127.0.0.1.example.com' }).chat.admins).toEqual([]);
    expect(testConfig(config.dataDir, { HOST: '0.0.0.0', REFERENT_ADMINS: 'web:local, slack:U1' }).chat.admins).toEqual(['web:local', 'slack:U1']);
    // And the chat acts on it: the same "forget" from the page, as the operator on loopback and as a visitor elsewhere.
    const exposed = await startServer(referent, testConfig(config.dataDir, { HOST: '0.0.0.0', REFERENT_WEB_TOKEN: TOKEN }));
    try {
      const forget = async (server: TestServer, headers: Record<string, string>) => {
        const res = await fetch(`${server.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ text: `forget ${label}` }) });
        expect(res.status).toBe(200);
        return ((await res.json()) as { replies: Reply[] }).replies[0]!;
      };
      const visitor = await forget(exposed, { authorization: `Bearer ${TOKEN}` });
      expect(visitor.kind).toBe('error');
      expect(visitor.text).toMatch(/only an admin/i);
      const operator = await forget(open, {});
      expect(operator.kind).not.toBe('error');
      expect(operator.text).toContain(label);
    } finally {
      await exposed.close();
    }
  });

  it('opens a thumbnail by a fresh signed link, says 410 once it is older than REFERENT_LINK_TTL_SECONDS, and takes no forged time', async () => {
    const thumbnail = (sig: string, headers: Record<string, string> = {}) => fetch(`${locked.base}/media/${key}/thumbnail?sig=${sig}`, { headers });
    const fresh = await fetch(publicThumbnailUrl(locked.base, key, TOKEN));
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('content-type')).toBe('image/jpeg');
    expect((await thumbnail(mediaSignature(TOKEN, key, Date.now() - (TTL - 5) * 1000))).status).toBe(200);
    const old = await thumbnail(mediaSignature(TOKEN, key, Date.now() - (TTL + 5) * 1000));
    expect(old.status).toBe(410);
    expect(await old.json()).toMatchObject({ error: 'LINK_EXPIRED' });
    // The page itself (with the token) still sees the image an old link names.
    expect((await thumbnail(mediaSignature(TOKEN, key, Date.now() - (TTL + 5) * 1000), { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    // A later time pasted onto an old signature, a link from the far future, a link of another secret: not this server's.
    const mac = mediaSignature(TOKEN, key, Date.now() - (TTL + 5) * 1000).slice(8);
    expect((await thumbnail(`${Math.floor(Date.now() / 1000).toString(16).padStart(8, '0')}${mac}`)).status).toBe(401);
    expect((await thumbnail(mediaSignature(TOKEN, key, Date.now() + 24 * 3600 * 1000))).status).toBe(401);
    expect((await thumbnail(mediaSignature('another-secret-of-some-length', key))).status).toBe(401);
  });

  it('gives signed links a lifetime of days by default, and keeps the setting within bounds', () => {
    expect(testConfig(config.dataDir).chat.linkTtlSeconds).toBe(7 * 24 * 3600);
    expect(() => testConfig(config.dataDir, { REFERENT_LINK_TTL_SECONDS: '5' })).toThrow(/REFERENT_LINK_TTL_SECONDS/);
  });
});
