import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/ingest.js';
import { readSources } from '../../src/ingest/sources.js';
import { openReferent, type Referent } from '../../src/open.js';
import { makeColourGallery, tempDir, testConfig } from '../support/fixtures.js';
import { startServer, type TestServer } from '../support/web.js';

describe('HTTP API on 127.0.0.1', () => {
  let dir: string;
  let referent: Referent;
  let server: TestServer;
  let base: string;

  beforeAll(async () => {
    dir = tempDir();
    const config = testConfig(path.join(dir, 'data'));
    referent = await openReferent(config);
    const manifest = await makeColourGallery(path.join(dir, 'img'), 2, ['red', 'blue']);
    await ingest(referent, await readSources(manifest), { collection: 'parts', batchSize: 4, maxImageBytes: 1 << 20, maxTextChars: 100 });
    server = await startServer(referent, config);
    base = server.base;
  });
  afterAll(async () => {
    await server.close();
    await referent.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports health with the encoder and the item count', async () => {
    const res = await fetch(`${base}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, items: 4, model: 'referent/tiny-clip-demo', demoEncoder: true });
  });

  it('searches and links thumbnails that are served as JPEG', async () => {
    const res = await fetch(`${base}/api/search?q=red&limit=2`);
    const { hits } = (await res.json()) as { hits: Array<{ caption: string; media: { thumbnail: string } }> };
    expect(hits.map((h) => h.caption.split(' ')[1])).toEqual(['red', 'red']);
    const thumb = await fetch(`${base}${hits[0]!.media.thumbnail}`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await thumb.arrayBuffer());
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('answers bad requests with codes, never a crash', async () => {
    expect((await fetch(`${base}/api/search`)).status).toBe(400);
    expect((await fetch(`${base}/api/search?q=red&limit=0`)).status).toBe(400);
    expect((await fetch(`${base}/api/search?q=${'x'.repeat(2001)}`)).status).toBe(413);
    expect((await fetch(`${base}/api/search?q=red&collection=secret`)).status).toBe(404);
    expect((await fetch(`${base}/api/search?q=red`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('serves media by id only: traversal attempts and unknown ids are 404', async () => {
    for (const p of ['/media/../../etc/passwd', '/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd/thumbnail', `/media/${'0'.repeat(64)}/thumbnail`, '/media/ABC/thumbnail']) {
      const res = await fetch(`${base}${p}`);
      expect(res.status, p).toBe(404);
    }
  });

  it('records a search that reaches a person collection in the audit log, one entry per person collection, and a refused one not at all', async () => {
    const staff = await referent.catalog.ensureCollection('staff', 'person');
    const before = (await referent.catalog.listAudit(100)).length;
    // Off until an admin enables it: the API does not reach it, and nothing is recorded.
    expect((await fetch(`${base}/api/search?q=red&collection=staff`)).status).toBe(404);
    expect(await referent.catalog.listAudit(100)).toHaveLength(before);
    await referent.catalog.setCollectionEnabled(staff.id, true);
    try {
      // A part search records nothing; a refused one neither.
      expect((await fetch(`${base}/api/search?q=red&collection=parts`)).status).toBe(200);
      expect((await fetch(`${base}/api/search?q=red&limit=0`)).status).toBe(400);
      expect(await referent.catalog.listAudit(100)).toHaveLength(before);
      expect((await fetch(`${base}/api/search?q=red%20cap`)).status).toBe(200);
      expect((await fetch(`${base}/api/search?q=blue&collection=staff`)).status).toBe(200);
      const log = (await referent.catalog.listAudit(100)).slice(0, -before || undefined);
      expect(log.map((e) => ({ user: e.user, platform: e.platform, scope: e.scope, collectionId: e.collectionId, query: e.query }))).toEqual([
        { user: 'web:api', platform: 'web', scope: 'web:local/chat', collectionId: staff.id, query: 'blue' },
        { user: 'web:api', platform: 'web', scope: 'web:local/chat', collectionId: staff.id, query: 'red cap' },
      ]);
    } finally {
      await referent.catalog.setCollectionEnabled(staff.id, false);
    }
  });
});
