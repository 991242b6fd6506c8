/**
 * Load: 50 concurrent chat requests on 127.0.0.1 (searches, and photos taught with "add") while a
 * bulk ingest runs in the same process. Everything is answered and nothing acknowledged is lost.
 * No timing is asserted.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, type Referent } from '../../src/open.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';
import { startServer, type TestServer } from '../support/web.js';

describe('web chat under load while an ingest runs', () => {
  let dir: string;
  let referent: Referent;
  let server: TestServer;

  beforeAll(async () => {
    dir = tempDir();
    const config = testConfig(path.join(dir, 'data'));
    referent = await openReferent(config);
    await ingest(referent, await readSources(await makeColourGallery(path.join(dir, 'first'), 4, ['red', 'blue'])), { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });
    server = await startServer(referent, config);
  });
  afterAll(async () => {
    await server.close();
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers all 50 and keeps every item', async () => {
    const before = await referent.catalog.countItems();
    const bulk = await readSources(await makeColourGallery(path.join(dir, 'bulk'), 15, ['green', 'yellow', 'white', 'black']));
    const ingesting = ingest(referent, bulk, { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 500 });

    const photo = (i: number) => sharp({ create: { width: 32 + i, height: 32, channels: 3, background: { r: 10 * i, g: 200, b: 255 - 5 * i } } }).png().toBuffer();
    const requests = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const adds = i % 5 === 0;
        const body = adds
          ? { text: `add LOAD-${i}: test part number ${i}`, images: [{ name: `load-${i}.png`, type: 'image/png', data: (await photo(i)).toString('base64') }] }
          : { text: ['red', 'blue', 'green', 'yellow'][i % 4]!, images: [] };
        return { i, adds, body };
      }),
    );
    const answers = await Promise.all(
      requests.map(async ({ i, adds, body }) => {
        const res = await fetch(`${server.base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { i, adds, status: res.status, replies: ((await res.json()) as { replies: Reply[] }).replies };
      }),
    );
    const summary = await ingesting;

    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    for (const a of answers) {
      expect(a.replies[0]!.kind, `request ${a.i}: ${a.replies[0]!.text}`).toBe(a.adds ? 'info' : 'results');
      if (!a.adds) expect(a.replies[0]!.cards.length).toBeGreaterThan(0);
    }
    expect(summary).toMatchObject({ added: 60, skipped: 0, failed: [] });
    // Nothing acknowledged was lost: the bulk and every taught photo are in the catalogue and the index.
    const taught = answers.filter((a) => a.adds).map((a) => `LOAD-${a.i}`);
    expect(taught).toHaveLength(10);
    for (const label of taught) expect(await referent.catalog.findEntities(label), label).toHaveLength(1);
    expect(await referent.catalog.countItems()).toBe(before + 60 + 10);
    await referent.index.catchUp();
    expect(await referent.index.count()).toBe(await referent.catalog.countItems());
  }, 120_000);
});
