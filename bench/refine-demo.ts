/**
 * Direct matches on the demo gallery, refined and plain. Every gallery image is asked as a photo:
 * does that very image (or its entity's card, which folds the image in) come first? Every posted
 * description is asked as a text: does its entity come first? A refinement that buries an exact
 * match shows up here at once.
 *
 *   npx tsx scripts/demo.ts --no-serve --data /tmp/demo
 *   npx tsx bench/refine-demo.ts --data /tmp/demo [--verbose] [--params '{"entityWeight":1}']
 *
 * `--verbose` prints each query whose match is not first; `--params` overrides method parameters.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../adapters/env.js';
import { openReferent, type Referent } from '../src/open.js';
import { searchItems, type SearchHit, type SearchRequest } from '../src/search/search.js';

const { values } = parseArgs({ options: { data: { type: 'string', default: 'demo-data' }, verbose: { type: 'boolean' }, params: { type: 'string' } } });
// The demo's encoder (scripts/demo.ts), named here so this bench does not load the web server.
const DEMO_MODEL = fileURLToPath(new URL('../test/fixtures/tiny-clip', import.meta.url));
const dataDir = path.resolve(values.data!);
const config = loadConfig({ REFERENT_DATA_DIR: path.join(dataDir, 'data'), REFERENT_MODEL: DEMO_MODEL, REFERENT_OFFLINE: '1' });
const gallery = path.join(dataDir, 'gallery');
const readJson = <T>(file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const manifest = fs.readFileSync(path.join(gallery, 'manifest.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { image: string });
const entities = readJson<{ entities: Array<{ label: string; descriptions: string[] }> }>(path.join(gallery, 'demo.json')).entities;

interface Tally {
  asked: number;
  refined: number;
  plain: number;
}

/** Asks one query both ways; `isMatch` says whether a first hit is the direct match. */
async function ask(referent: Referent, request: Omit<SearchRequest, 'limit'>, isMatch: (hit: SearchHit | undefined) => boolean, tally: Tally, name: string): Promise<void> {
  const refined = await searchItems(referent, { ...request, limit: 5 }, config);
  const plain = await searchItems(referent, { ...request, limit: 5, refine: false }, config);
  tally.asked++;
  if (isMatch(refined[0])) tally.refined++;
  if (isMatch(plain[0])) tally.plain++;
  if (values.verbose && !isMatch(refined[0])) console.log(`${name}: first #${refined[0]?.itemId} ${refined[0]?.item.entityLabel ?? ''}: ${refined[0]?.why?.summary}`);
}

const referent = await openReferent(config);
if (values.params) Object.assign(referent.method.pipeline, JSON.parse(values.params));
try {
  const byHash = new Map<string, number>();
  for (const item of (await referent.catalog.getItems(Array.from({ length: (await referent.index.count()) + 1000 }, (_, i) => i + 1))).values()) byHash.set(item.hash, item.id);
  const photos: Tally = { asked: 0, refined: 0, plain: 0 };
  for (const { image } of manifest) {
    const bytes = fs.readFileSync(path.join(gallery, image));
    const itemId = byHash.get(createHash('sha256').update(bytes).digest('hex'));
    if (itemId !== undefined) await ask(referent, { image: bytes }, (h) => h !== undefined && (h.itemId === itemId || h.more.includes(itemId)), photos, image);
  }
  const texts: Tally = { asked: 0, refined: 0, plain: 0 };
  for (const e of entities) for (const text of e.descriptions) await ask(referent, { text }, (h) => h?.item.entityLabel === e.label, texts, `"${text}" (${e.label})`);
  console.log(`Demo photo queries: the image itself (or its entity's card) first for ${photos.refined}/${photos.asked} refined, ${photos.plain}/${photos.asked} plain.`);
  console.log(`Demo description queries: the described entity first for ${texts.refined}/${texts.asked} refined, ${texts.plain}/${texts.asked} plain.`);
} finally {
  await referent.shutdown();
}
