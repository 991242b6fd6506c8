import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card, Reply } from '../../src/chat/reply.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, type Referent } from '../../src/open.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';
import { publicThumbnailUrl } from '../../adapters/web/media-links.js';
import { startServer as start, type TestServer } from '../support/web.js';

const TOKEN = 'a-long-enough-test-token';

describe('web chat API on 127.0.0.1', () => {
  let dir: string;
  let referent: Referent;
  let open: TestServer;
  let locked: TestServer;
  let partsOnly: TestServer;

  beforeAll(async () => {
    dir = tempDir();
    const config = testConfig(path.join(dir, 'data'), { REFERENT_MAX_IMAGE_BYTES: String(200_000) });
    referent = await openReferent(config);
    const opts = { batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 };
    await ingest(referent, await readSources(await makeColourGallery(path.join(dir, 'a'), 2, ['red', 'blue'])), { collection: 'parts', ...opts });
    await ingest(referent, await readSources(await makeColourGallery(path.join(dir, 'b'), 2, ['green'])), { collection: 'private', ...opts });
    open = await start(referent, config);
    locked = await start(referent, { ...config, chat: { ...config.chat, webToken: TOKEN } });
    partsOnly = await start(referent, { ...config, chat: { ...config.chat, webCollections: ['parts'] } });
  });
  afterAll(async () => {
    for (const s of [open, locked, partsOnly]) await s.close();
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const chat = (base: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('serves the page with a strict content security policy', async () => {
    const res = await fetch(`${open.base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'.*script-src 'self'/);
    expect(await res.text()).toContain('/static/app.js');
    expect((await fetch(`${open.base}/static/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${open.base}/static/../package.json`)).status).toBe(404);
  });

  it('answers a session, a message and a button', async () => {
    const session = (await (await fetch(`${open.base}/api/session`)).json()) as { demoEncoder: boolean; demoNotice: string; help: Reply };
    expect(session.demoEncoder).toBe(true);
    expect(session.demoNotice).toMatch(/demo encoder/);
    expect(session.help.kind).toBe('help');
    const res = await chat(open.base, { text: 'red' });
    expect(res.status).toBe(200);
    const { replies } = (await res.json()) as { replies: Reply[] };
    const top = replies[0]!.cards[0]!;
    expect((await referent.catalog.getItem(top.itemId))!.caption).toMatch(/red/);
    const more = await fetch(`${open.base}/api/action`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: top.actions[2]!.value }) });
    const answer = (await more.json()) as { replies: Reply[]; card: Card | null };
    expect(answer.card).toBeNull();
    expect(answer.replies[0]!.kind).toBe('results');
  });

  it('takes photos as base64 and bounds them', async () => {
    const photo = await sharp({ create: { width: 30, height: 30, channels: 3, background: { r: 200, g: 20, b: 20 } } }).png().toBuffer();
    const found = (await (await chat(open.base, { text: '', images: [{ name: 'x.png', type: 'image/png', data: photo.toString('base64') }] })).json()) as { replies: Reply[] };
    expect((await referent.catalog.getItem(found.replies[0]!.cards[0]!.itemId))!.caption).toMatch(/red/);
    const big = Buffer.alloc(300_000, 1).toString('base64');
    expect((await chat(open.base, { text: 'x', images: [{ data: big }] })).status).toBe(413);
    const tooMany = Array.from({ length: 5 }, () => ({ data: photo.toString('base64') }));
    expect((await chat(open.base, { text: 'x', images: tooMany })).status).toBe(400);
    const junk = (await (await chat(open.base, { text: 'find', images: [{ data: Buffer.from('not an image').toString('base64') }] })).json()) as { replies: Reply[] };
    expect(junk.replies[0]!.kind).toBe('error');
  });

  it('refuses what is not JSON, too long, or malformed, with a code and a sentence', async () => {
    const form = await fetch(`${open.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'text=red' });
    expect(form.status).toBe(400);
    expect(await form.json()).toMatchObject({ error: 'USAGE_INVALID', message: expect.any(String) });
    const broken = await fetch(`${open.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":' });
    expect(broken.status).toBe(400);
    expect((await chat(open.base, { text: 'x'.repeat(2001) })).status).toBe(400);
    expect((await chat(open.base, { text: 42 })).status).toBe(400);
    const badButton = await fetch(`${open.base}/api/action`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: '{"v":1,"a":"confirm","i":1}' }) });
    expect(((await badButton.json()) as { replies: Reply[] }).replies[0]!.kind).toBe('error');
    expect((await fetch(`${open.base}/api/chat`)).status).toBe(405);
  });

  it('sees only the configured collections, buttons included', async () => {
    const { replies } = (await (await chat(partsOnly.base, { text: 'green' })).json()) as { replies: Reply[] };
    expect(replies[0]!.cards.every((c) => c.collection === 'parts')).toBe(true);
    const green = (await (await chat(open.base, { text: 'green' })).json()) as { replies: Reply[] };
    const privateCard = green.replies[0]!.cards.find((c) => c.collection === 'private')!;
    const res = await fetch(`${partsOnly.base}/api/action`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: privateCard.actions[2]!.value }) });
    const answer = (await res.json()) as { replies: Reply[] };
    expect(answer.replies[0]!.kind).toBe('error');
    expect((await fetch(`${partsOnly.base}/api/search?q=green&collection=private`)).status).toBe(404);
  });

  it('with a token, refuses requests without it and lets the page in with a cookie', async () => {
    expect((await fetch(`${locked.base}/`)).status).toBe(401);
    expect((await chat(locked.base, { text: 'red' })).status).toBe(401);
    expect((await fetch(`${locked.base}/?token=wrong-token-of-some-length`)).status).toBe(401);
    const entry = await fetch(`${locked.base}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(entry.status).toBe(303);
    const cookie = entry.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await chat(locked.base, { text: 'red' }, { cookie: cookie.split(';')[0]! });
    expect(withCookie.status).toBe(200);
    expect((await chat(locked.base, { text: 'red' }, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('with a token, opens one thumbnail to its signed link (REFERENT_PUBLIC_URL) and nothing else', async () => {
    const twoVectors = [...await referent.catalog.itemVectors(referent.encoder.modelId, 0, 1_000_000)].slice(0, 2);
    const [key, other] = await Promise.all(twoVectors.map(async (v) => (await referent.catalog.getItem(v.itemId))!.mediaKey));
    const link = new URL(publicThumbnailUrl(locked.base, key!, TOKEN));
    const thumbnail = await fetch(link);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/jpeg');
    const sig = link.searchParams.get('sig')!;
    expect((await fetch(`${locked.base}/media/${other}/thumbnail?sig=${sig}`)).status).toBe(401);
    expect((await fetch(`${locked.base}/media/${key}/original?sig=${sig}`)).status).toBe(401);
    expect((await fetch(`${locked.base}/api/search?q=red&sig=${sig}`)).status).toBe(401);
    expect(publicThumbnailUrl('https://r.example', key!, undefined)).toBe(`https://r.example/media/${key}/thumbnail`);
  });
});

describe('web chat on an empty data folder', () => {
  it('says how to start, and lets the first "add" create a collection', async () => {
    const dir = tempDir();
    const config = testConfig(path.join(dir, 'data'));
    const referent = await openReferent(config);
    const server = await start(referent, config);
    try {
      const chat = async (body: unknown) => ((await (await fetch(`${server.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { replies: Reply[] }).replies[0]!;
      const empty = await chat({ text: 'red' });
      expect(empty.kind).toBe('error');
      expect(empty.text).toMatch(/nothing to search yet/i);
      const photo = await sharp({ create: { width: 30, height: 30, channels: 3, background: { r: 220, g: 20, b: 20 } } }).png().toBuffer();
      const added = await chat({ text: 'add CUP-1: a red cup', images: [{ data: photo.toString('base64') }] });
      expect(added.text).toMatch(/Added 1 photo of CUP-1 to default/);
      const found = await chat({ text: 'red' });
      expect(found.cards[0]!.title).toBe('CUP-1');
    } finally {
      await server.close();
      await referent.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
