/**
 * Writes Referent's offline demo gallery: ~60 part photos and ~30 people, drawn as simple shapes,
 * a manifest.jsonl for `referent ingest`, and demo.json saying what was drawn (entities, their
 * descriptions, which photos are unlabelled, example queries). Made for the demo encoder
 * (test/fixtures/tiny-clip), which sees colours only: every thing has a dominant colour named by
 * one of its colour words, so colour queries and the entities' descriptions give sensible hits.
 * Deterministic: the same seed always gives the same files.
 *
 *   npx tsx scripts/make-demo-gallery.ts <outDir> [--seed N]
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { mulberry32 } from '../src/random.js';
import { drawPart, OTHER_PARTS, PART_ENTITIES, SHAPE_POSE, type Material, type Shape } from './demo/parts.js';
import { drawPerson, OTHER_PEOPLE, PERSON_ENTITIES, type Look } from './demo/people.js';
import { randomView, svgDocument, tag } from './demo/svg.js';

export const DEFAULT_SEED = 20417;

export type DemoKind = 'part' | 'person';

export interface DemoCollection {
  name: string;
  /** The kind the collection is meant to have. The manifest cannot carry it: ingest creates collections as "other". */
  kind: DemoKind;
  images: number;
}

export interface DemoEntity {
  label: string;
  kind: DemoKind;
  collection: string;
  /** What it is, in words (for people, the outfit); not given to Referent. */
  name: string;
  /** To add with `referent describe <label> "<text>" --collection <collection>`; each names only some attributes. */
  descriptions: string[];
  /** Its labelled photos (the manifest links them to the label), relative to the gallery folder. */
  images: string[];
  /** More photos of it that the manifest leaves unlabelled: what a search should find. */
  unlabelledViews: string[];
}

export interface DemoImage {
  file: string;
  collection: string;
  kind: DemoKind;
  /** What the picture shows. */
  subject: string;
  /** The entity it shows (labelled or not), or null. */
  entity: string | null;
  labelled: boolean;
  caption?: string;
}

export interface DemoGallery {
  seed: number;
  /** manifest.jsonl, relative to the gallery folder. */
  manifest: string;
  collections: DemoCollection[];
  entities: DemoEntity[];
  /** Every photo without a label in the manifest. */
  unlabelled: string[];
  images: DemoImage[];
  /** Queries that give sensible first hits with the demo encoder once the descriptions are added. */
  exampleQueries: string[];
  /** The same queries with the entity each should find first (one of its photos, often an unlabelled one). */
  examples: DemoExample[];
}

export interface DemoExample {
  query: string;
  entity: string;
}

/**
 * Each has a colour word (the demo encoder ranks photos by colour area and nothing else; words it
 * does not see as colours only match descriptions) and names the entity's main colours, so the
 * first hit is the entity on every seed tried. Details with a small area (a cap, trousers, shoes)
 * lose to look-alikes with a big area of that colour: such queries are left out.
 */
export const EXAMPLES: readonly DemoExample[] = [
  { query: 'red valve', entity: 'P-40981' },
  { query: 'grey bolt with a washer', entity: 'P-20417' },
  { query: 'golden elbow', entity: 'P-31552' },
  { query: 'pink shirt, purple backpack', entity: 'visitor-C' },
  { query: 'navy jacket and khaki trousers', entity: 'visitor-A' },
];

interface Shot {
  image: Omit<DemoImage, 'file'>;
  svg: string;
  format: 'png' | 'jpeg';
}

function lookName(l: Look): string {
  const head = l.cap ? `${l.cap} cap` : `${l.hair ?? 'dark'} hair`;
  return `${head}, ${l.top} ${l.topKind}, ${l.trousers} trousers, ${l.shoes} shoes${l.backpack ? `, ${l.backpack} backpack` : ''}`;
}

function partShots(rng: () => number): Shot[] {
  const shots: Shot[] = [];
  // The catalogued parts are photographed close up; the other parts, further away. The demo encoder
  // sees colour area only, so this is what lets a part's own photos outrank look-alikes of its colour.
  const add = (subject: string, shape: Shape, material: Material, accent: Material | undefined, views: number, size: number, extra: (v: number) => Partial<DemoImage>, tagged?: (v: number) => string | undefined) => {
    for (let v = 0; v < views; v++) {
      const pose = SHAPE_POSE[shape];
      // Views: turned a quarter-ish each time, some mirrored, plus seeded jitter.
      const view = randomView(rng, { rotate: pose.rotate + v * 67, scale: pose.scale * size, jitter: 14, offset: 10 }, v % 2 === 1);
      const label = tagged?.(v);
      const svg = svgDocument(view, drawPart(shape, material, accent, view.background), label ? tag(label) : '');
      shots.push({ image: { collection: 'parts', kind: 'part', subject, entity: null, labelled: false, ...extra(v) }, svg, format: 'png' });
    }
  };
  // The last, unlabelled view of each catalogued part has its part number on a tag: the OCR reads it,
  // so searching the number finds that photo although nobody said what it shows.
  for (const e of PART_ENTITIES) add(e.name, e.shape, e.material, e.accent, e.views, 1.08, (v) => ({ entity: e.label, labelled: v < e.labelled }), (v) => (v === e.views - 1 ? e.label : undefined));
  for (const p of OTHER_PARTS) add(p.name, p.shape, p.material, p.accent, p.views, 0.82, (v) => (v === 0 && p.caption ? { caption: p.caption } : {}));
  return shots;
}

function personShots(rng: () => number): Shot[] {
  const shots: Shot[] = [];
  const add = (look: Look, views: number, extra: (v: number) => Partial<DemoImage>) => {
    for (let v = 0; v < views; v++) {
      const view = randomView(rng, { rotate: 0, scale: 0.95, jitter: 2.5, offset: 7 }, rng() < 0.5);
      shots.push({ image: { collection: 'people', kind: 'person', subject: lookName(look), entity: null, labelled: false, ...extra(v) }, svg: svgDocument(view, drawPerson(look)), format: 'jpeg' });
    }
  };
  for (const e of PERSON_ENTITIES) add(e.look, e.views, (v) => ({ entity: e.label, labelled: v < e.labelled }));
  for (const p of OTHER_PEOPLE) add(p.look, 1, () => (p.caption ? { caption: p.caption } : {}));
  return shots;
}

function shuffle<T>(items: T[], rng: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Draws the gallery into `dir` (images/, manifest.jsonl, demo.json) and returns what it drew. */
export async function makeDemoGallery(dir: string, opts: { seed?: number } = {}): Promise<DemoGallery> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const rng = mulberry32(seed);
  const groups = [
    { folder: 'parts', stem: 'part', shots: shuffle(partShots(rng), rng) },
    { folder: 'people', stem: 'person', shots: shuffle(personShots(rng), rng) },
  ];
  const images: DemoImage[] = [];
  const lines: string[] = [];
  for (const { folder, stem, shots } of groups) {
    await fs.mkdir(path.join(dir, 'images', folder), { recursive: true });
    for (const [i, shot] of shots.entries()) {
      const file = `images/${folder}/${stem}-${String(i + 1).padStart(2, '0')}.${shot.format === 'png' ? 'png' : 'jpg'}`;
      const pipeline = sharp(Buffer.from(shot.svg));
      const bytes = await (shot.format === 'png' ? pipeline.png() : pipeline.jpeg({ quality: 92 })).toBuffer();
      await fs.writeFile(path.join(dir, file), bytes);
      images.push({ file, ...shot.image });
      const { collection, caption, entity, labelled } = shot.image;
      lines.push(JSON.stringify({ image: file, collection, ...(caption ? { caption } : {}), ...(labelled && entity ? { entity } : {}) }));
    }
  }
  const entitySpecs = [
    ...PART_ENTITIES.map((e) => ({ label: e.label, kind: 'part' as const, collection: 'parts', name: e.name, descriptions: e.descriptions })),
    ...PERSON_ENTITIES.map((e) => ({ label: e.label, kind: 'person' as const, collection: 'people', name: lookName(e.look), descriptions: e.descriptions })),
  ];
  const gallery: DemoGallery = {
    seed,
    manifest: 'manifest.jsonl',
    collections: groups.map((g) => ({ name: g.folder, kind: g.folder === 'parts' ? 'part' : 'person', images: g.shots.length })),
    entities: entitySpecs.map((e) => ({
      ...e,
      descriptions: [...e.descriptions],
      images: images.filter((i) => i.entity === e.label && i.labelled).map((i) => i.file),
      unlabelledViews: images.filter((i) => i.entity === e.label && !i.labelled).map((i) => i.file),
    })),
    unlabelled: images.filter((i) => !i.labelled).map((i) => i.file),
    images,
    exampleQueries: EXAMPLES.map((e) => e.query),
    examples: EXAMPLES.map((e) => ({ ...e })),
  };
  await fs.writeFile(path.join(dir, gallery.manifest), `${lines.join('\n')}\n`);
  await fs.writeFile(path.join(dir, 'demo.json'), `${JSON.stringify(gallery, null, 2)}\n`);
  return gallery;
}

/** The CLI commands that load the gallery into Referent (ingest, then every description). */
export function setupCommands(dir: string, gallery: DemoGallery, cli = 'referent'): string[] {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    `${cli} ingest ${quote(path.join(dir, gallery.manifest))}`,
    ...gallery.entities.flatMap((e) => e.descriptions.map((d) => `${cli} describe ${e.label} ${quote(d)} --collection ${e.collection}`)),
  ];
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string' } } });
  const out = positionals[0];
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  if (!out || positionals.length > 1 || !Number.isInteger(seed)) {
    console.error('Usage: npx tsx scripts/make-demo-gallery.ts <outDir> [--seed N]');
    process.exit(2);
  }
  const gallery = await makeDemoGallery(path.resolve(out), { seed });
  const count = (c: string) => gallery.images.filter((i) => i.collection === c).length;
  console.log(`Wrote ${count('parts')} part and ${count('people')} person images, ${gallery.entities.length} entities, manifest and demo.json to ${out}`);
  console.log('\nLoad it (with --model test/fixtures/tiny-clip for the offline demo encoder):');
  for (const line of setupCommands(out, gallery)) console.log(`  ${line}`);
  if (gallery.exampleQueries.length > 0) console.log(`\nThen try: ${gallery.exampleQueries.map((q) => `referent search "${q}"`).join(' · ')}`);
}
