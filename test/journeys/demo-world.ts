/**
 * The journeys' world: the demo gallery `npm run demo` shows (drawn, ingested and described the
 * same way), opened as Referent opens it, with the web chat's server on 127.0.0.1. Journeys speak
 * only through a surface (the web chat's HTTP API here) and assert what a person sees.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Card, Reply } from '../../src/chat/reply.js';
import type { Config } from '../../src/config.js';
import { openReferent, type Referent } from '../../src/open.js';
import { buildDemo } from '../../scripts/demo/build.js';
import type { DemoGallery } from '../../scripts/make-demo-gallery.js';
import { tempDir, testConfig } from '../support/fixtures.js';
import { startServer, type TestServer } from '../support/web.js';

export interface DemoWorld {
  dir: string;
  config: Config;
  gallery: DemoGallery;
  referent: Referent;
  server: TestServer;
  /** A gallery photo's bytes, by its file name in demo.json. */
  photo(file: string): Buffer;
  /** The item a gallery photo became. */
  itemOf(file: string): Promise<{ id: number; entityLabel: string | null }>;
  close(): Promise<void>;
}

export async function demoWorld(env: Record<string, string> = {}): Promise<DemoWorld> {
  const dir = tempDir('referent-journey-');
  const config = testConfig(path.join(dir, 'data'), { REFERENT_BATCH_SIZE: '8', ...env });
  const gallery = await buildDemo(config, path.join(dir, 'gallery'), () => {}, true);
  const referent = await openReferent(config);
  const server = await startServer(referent, config);
  const photo = (file: string) => fs.readFileSync(path.join(dir, 'gallery', file));
  return {
    dir,
    config,
    gallery,
    referent,
    server,
    photo,
    async itemOf(file) {
      const image = gallery.images.find((i) => i.file === file)!;
      const collection = (await referent.catalog.findCollection(image.collection))!;
      const item = (await referent.catalog.findLiveItemByHash(collection.id, createHash('sha256').update(photo(file)).digest('hex')))!;
      return { id: item.id, entityLabel: item.entityLabel };
    },
    async close() {
      await server.close();
      await referent.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A new photo nobody has seen: a flat square of one colour (the demo encoder sees colours). */
export const flatPhoto = (rgb: [number, number, number], size = 96) =>
  sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();

/** What /api/action answers (the assistant's ActionResult, as JSON). */
export interface ActionAnswer {
  replies: Reply[];
  card: Card | null;
  update?: Reply;
  askLabel?: { itemId: number; prompt: string; value: string };
}

/** The web chat's API, as the page uses it. */
export function webChat(base: string) {
  const post = async (route: string, body: unknown) => {
    const res = await fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`${route} answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  return {
    async say(text: string, photos: Buffer[] = []): Promise<Reply> {
      const body = (await post('/api/chat', { text, images: photos.map((p, i) => ({ name: `photo-${i + 1}.png`, type: 'image/png', data: p.toString('base64') })) })) as { replies: Reply[] };
      if (body.replies.length !== 1) throw new Error(`expected one reply, got ${body.replies.length}`);
      return body.replies[0]!;
    },
    async press(value: string, label?: string): Promise<ActionAnswer> {
      return (await post('/api/action', label === undefined ? { value } : { value, label })) as ActionAnswer;
    },
  };
}

export const button = (card: Card, kind: 'confirm' | 'reject' | 'more') => card.actions.find((a) => a.kind === kind)!.value;
