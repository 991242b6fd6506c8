/**
 * Several servers, one truth: two `npm start` servers (adapters/main.ts, child processes) and the
 * `referent ingest` CLI on one PostgreSQL database, sharing the data folder's media as servers behind
 * a load balancer share a network volume, each with its own index snapshots. What one process writes,
 * the others answer with on their next request: no restart, no waiting.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { makeColourGallery, tempDir, tinyModelDir } from '../support/fixtures.js';
import { dropSchema, freshSchema, type PgEngine, postgresEngines } from '../support/postgres.js';
import { runCli } from '../support/run-cli.js';
import { type ServerProcess, startServerProcess } from '../support/server-process.js';

async function say(base: string, text: string, images: Buffer[] = []): Promise<Reply> {
  const body = { text, images: images.map((b) => ({ name: 'photo.png', type: 'image/png', data: b.toString('base64') })) };
  const res = await fetch(`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { replies: Reply[] }).replies[0]!;
}

const firstTitle = async (base: string, text: string) => (await say(base, text)).cards[0]?.title;

for (const engine of postgresEngines()) {
  describe(`two servers and the CLI on one PostgreSQL (${engine.name})`, () => {
    let pg: PgEngine;
    let dir: string;
    let env: Record<string, string>;
    const children: ChildProcess[] = [];
    const servers: ServerProcess[] = [];
    const schema = freshSchema('referent_multi');

    beforeAll(async () => {
      pg = await engine.start();
      dir = tempDir();
      env = {
        REFERENT_DATABASE_URL: pg.url,
        REFERENT_DATABASE_SCHEMA: schema,
        REFERENT_DATA_DIR: path.join(dir, 'data'),
        REFERENT_MODEL: tinyModelDir,
        REFERENT_OCR: 'false',
      };
      const first = await runCli(['ingest', await makeColourGallery(path.join(dir, 'first'), 3, ['red', 'blue']), '--collection', 'parts'], { ...env, REFERENT_INDEX_DIR: path.join(dir, 'index-cli') });
      expect(first.code, first.stderr).toBe(0);
      for (const name of ['a', 'b']) servers.push(await startServerProcess({ ...env, REFERENT_INDEX_DIR: path.join(dir, `index-${name}`) }, { children }));
    }, 120_000);

    afterAll(async () => {
      await Promise.all(
        children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((resolve) => (c.once('exit', resolve), c.kill('SIGTERM'))) : undefined)),
      );
      if (pg) {
        await dropSchema(pg.url, schema);
        await pg.stop();
      }
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('both servers answer from the catalogue the CLI wrote', async () => {
      // The catalogue, the image index and the reference index are all in PostgreSQL: the shared data
      // folder holds the media, and no process wrote index files of its own.
      expect(fs.readdirSync(path.join(dir, 'data'))).toEqual(['media']);
      const written = fs.readdirSync(dir).filter((f) => f.startsWith('index-')).flatMap((f) => fs.readdirSync(path.join(dir, f), { recursive: true }).map(String));
      expect(written.filter((f) => /\.(hnsw|json)$/.test(f))).toEqual([]);
      for (const server of servers) expect(await firstTitle(server.base, 'red')).toMatch(/^RED-/);
    });

    it('an ingest run while both serve is found by both on their next request', async () => {
      for (const server of servers) expect(await firstTitle(server.base, 'green')).not.toMatch(/^GREEN-/);
      const more = await runCli(['ingest', await makeColourGallery(path.join(dir, 'more'), 2, ['green']), '--collection', 'parts'], { ...env, REFERENT_INDEX_DIR: path.join(dir, 'index-cli') });
      expect(more.code, more.stderr).toBe(0);
      for (const server of servers) expect(await firstTitle(server.base, 'green')).toMatch(/^GREEN-/);
    });

    it('what one server is taught, the other answers with', async () => {
      const [a, b] = servers as [ServerProcess, ServerProcess];
      const teal = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 0, g: 128, b: 128 } } }).png().toBuffer();
      const taught = await say(a.base, 'add TEAL-7 in parts: a teal widget', [teal]);
      expect(taught.text).toMatch(/TEAL-7/);
      expect(await firstTitle(b.base, 'TEAL-7')).toBe('TEAL-7');
      const shown = await say(b.base, 'show TEAL-7');
      expect(shown.text).toMatch(/a teal widget/);
    });
  });
}
