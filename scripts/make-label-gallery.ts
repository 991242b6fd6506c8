/**
 * Writes a gallery of synthetic part labels for OCR: identifiers (P-20417, M8, LOT 4471-B,
 * 3/8-16 UNC, SN 00A7-991, REF 55-210…) mixed with words (HEX BOLT, ZINC…), rendered from SVG
 * in several fonts and sizes, slightly rotated, with seeded noise or a slight blur, on light
 * backgrounds; every 8th label is printed small on a white sticker inside a larger coloured
 * "photo". Also writes manifest.jsonl for `referent ingest` (entity = the label's first identifier).
 * Deterministic: the same count and seed always give the same files.
 *
 *   npx tsx scripts/make-label-gallery.ts <outDir> [--count N] [--seed S]
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { mulberry32 } from '../src/random.js';

export interface GalleryLabel {
  /** The PNG, relative to the gallery folder. */
  file: string;
  /** The identifiers printed on it, as printed ('LOT 4471-B'); compare with normalizeIdentifier. */
  identifiers: string[];
  /** The printed lines, top to bottom. */
  text: string[];
}

export const DEFAULT_COUNT = 60;
export const DEFAULT_SEED = 1;

const FONTS = ['DejaVu Sans', 'DejaVu Serif', 'DejaVu Sans Mono', 'Liberation Sans', 'Liberation Serif', 'Liberation Mono'];
const BACKGROUNDS = ['#ffffff', '#f4f1e8', '#fffbe0', '#e8f0ff', '#f0f0f0', '#fdf2e9', '#eef7ee'];
const INKS = ['#000000', '#1a1a1a', '#202060', '#402010', '#333333'];
const WORDS = ['HEX BOLT', 'ZINC', 'WASHER', 'HEX NUT', 'STAINLESS', 'BRASS', 'FLANGE NUT', 'SPRING PIN', 'RIVET', 'CARRIAGE BOLT', 'NYLON INSERT', 'CAP SCREW', 'LOCK NUT', 'GALVANISED'];
// No I, O, Q, S, Z: a printed letter O and a digit 0 look the same, and the test set asserts exact reads.
const LETTERS = 'ABCDEFHJKLMNPRTUVWXY';

type Rng = () => number;
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const digits = (rng: Rng, n: number): string => Array.from({ length: n }, () => int(rng, 0, 9)).join('');

/** One identifier in one of the shapes parts carry; `inline` ones read naturally after a word ('HEX BOLT M8'). */
const IDENTIFIERS: Array<{ make: (rng: Rng) => string; inline?: boolean }> = [
  { make: (r) => `P-${int(r, 1, 9)}${digits(r, 4)}` },
  { make: (r) => `M${pick(r, [3, 4, 5, 6, 8, 10, 12, 16])}`, inline: true },
  { make: (r) => `LOT ${int(r, 1, 9)}${digits(r, 3)}-${pick(r, [...LETTERS])}` },
  { make: (r) => pick(r, ['1/4-20 UNC', '3/8-16 UNC', '5/16-18 UNC', '1/2-13 UNC', '10-24 UNC', '1/4-28 UNF']) },
  { make: (r) => `SN ${digits(r, 2)}${pick(r, [...LETTERS])}${int(r, 1, 9)}-${digits(r, 3)}` },
  { make: (r) => `REF ${int(r, 1, 9)}${digits(r, 1)}-${digits(r, 3)}` },
  { make: (r) => `PN ${digits(r, 4)}-${digits(r, 2)}` },
  { make: (r) => `DIN ${pick(r, [912, 933, 934, 125, 985])}`, inline: true },
  { make: (r) => `${pick(r, [...LETTERS])}${int(r, 1, 9)}-${digits(r, 3)}${pick(r, [...LETTERS])}` },
];

function labelContent(rng: Rng): { lines: string[]; identifiers: string[]; words: string[] } {
  const ids = Array.from({ length: int(rng, 1, 2) }, () => pick(rng, IDENTIFIERS));
  const identifiers = [...new Set(ids.map((k) => k.make(rng)))];
  const lines = [...identifiers];
  const words = [...new Set(Array.from({ length: int(rng, 0, 2) }, () => pick(rng, WORDS)))];
  const rest = [...words];
  const inline = ids.findIndex((k) => k.inline);
  // Sometimes a word shares its line with an identifier, as on real labels ('HEX BOLT M8').
  if (rest.length > 0 && inline >= 0 && rng() < 0.6 && lines[inline] !== undefined) lines[inline] = `${rest.shift()} ${lines[inline]}`;
  lines.push(...rest);
  return { lines: rng() < 0.5 ? lines : lines.reverse(), identifiers, words };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function labelSvg(lines: string[], o: { width: number; height: number; size: number; font: string; bold: boolean; angle: number; background: string; ink: string }): Buffer {
  const lineHeight = o.size * 1.3;
  const top = o.height / 2 - (lineHeight * lines.length) / 2 + o.size * 0.95;
  const text = lines
    .map((l, i) => `<text x="${o.width / 2}" y="${(top + i * lineHeight).toFixed(1)}" font-family="${o.font}" font-size="${o.size}" font-weight="${o.bold ? 'bold' : 'normal'}" fill="${o.ink}" text-anchor="middle">${esc(l)}</text>`)
    .join('');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${o.width}" height="${o.height}"><rect width="100%" height="100%" fill="${o.background}"/>` +
      `<g transform="rotate(${o.angle.toFixed(2)} ${o.width / 2} ${o.height / 2})">${text}</g></svg>`,
  );
}

/** Soft coloured blobs over a gradient: busy enough that the sticker is not the only thing there. */
function photoSvg(rng: Rng, width: number, height: number): Buffer {
  const hues = Array.from({ length: 6 }, () => int(rng, 0, 359));
  const blobs = hues
    .map((h, i) => `<radialGradient id="g${i}"><stop offset="0" stop-color="hsl(${h},55%,${int(rng, 35, 70)}%)" stop-opacity="0.9"/><stop offset="1" stop-color="hsl(${h},55%,50%)" stop-opacity="0"/></radialGradient><ellipse cx="${int(rng, 0, width)}" cy="${int(rng, 0, height)}" rx="${int(rng, width / 5, width / 2)}" ry="${int(rng, height / 5, height / 2)}" fill="url(#g${i})"/>`)
    .join('');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hues[0]},40%,40%)"/><stop offset="1" stop-color="hsl(${hues[1]},40%,60%)"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#bg)"/>${blobs}</svg>`,
  );
}

/** Adds seeded Gaussian noise (Box–Muller) to every channel. */
async function addNoise(png: Buffer, sigma: number, rng: Rng): Promise<Buffer> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < data.length; i++) {
    const g = Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
    data[i] = Math.max(0, Math.min(255, Math.round(data[i]! + g * sigma)));
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).png().toBuffer();
}

async function renderLabel(rng: Rng, lines: string[], inPhoto: boolean): Promise<Buffer> {
  const font = pick(rng, FONTS);
  const bold = rng() < 0.5;
  const angle = (rng() * 2 - 1) * 4;
  const size = inPhoto ? int(rng, 18, 24) : int(rng, 18, 48);
  const longest = Math.max(...lines.map((l) => l.length));
  // ~0.72 em per character covers the widest font (bold DejaVu Sans), plus room for the rotation.
  const width = Math.max(inPhoto ? 160 : 320, Math.ceil(longest * size * 0.72) + (inPhoto ? 30 : 80));
  const height = Math.ceil(lines.length * size * 1.3) + (inPhoto ? 30 : 80);
  const style = { width, height, size, font, bold, angle: inPhoto ? 0 : angle, background: pick(rng, BACKGROUNDS), ink: pick(rng, INKS) };
  let png: Buffer = await sharp(labelSvg(lines, style)).removeAlpha().png().toBuffer();
  if (inPhoto) {
    const [pw, ph] = [1024, 768];
    const sticker = await sharp(png).rotate(angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } }).png().toBuffer({ resolveWithObject: true });
    const base = await sharp(photoSvg(rng, pw, ph)).removeAlpha().blur(2).png().toBuffer();
    const left = int(rng, 40, pw - sticker.info.width - 40);
    const top = int(rng, 40, ph - sticker.info.height - 40);
    png = await sharp(base).composite([{ input: sticker.data, left, top }]).removeAlpha().png().toBuffer();
  }
  const effect = rng();
  if (effect < 0.5) png = await addNoise(png, int(rng, 3, 12), rng);
  else if (effect < 0.8) png = await sharp(png).blur(0.4 + rng() * 0.6).png().toBuffer();
  return png;
}

/**
 * Renders `count` labels into `outDir`/images and writes `outDir`/manifest.jsonl.
 * Returns the manifest's absolute path and, per label, its file (relative to `outDir`).
 */
export async function makeLabelGallery(outDir: string, options: { count?: number; seed?: number } = {}): Promise<{ manifest: string; labels: GalleryLabel[] }> {
  const count = options.count ?? DEFAULT_COUNT;
  const rng = mulberry32(options.seed ?? DEFAULT_SEED);
  await fs.mkdir(path.join(outDir, 'images'), { recursive: true });
  const labels: GalleryLabel[] = [];
  const manifestLines: string[] = [];
  for (let i = 0; i < count; i++) {
    const { lines, identifiers, words } = labelContent(rng);
    const file = `images/label-${String(i + 1).padStart(3, '0')}.png`;
    await fs.writeFile(path.join(outDir, file), await renderLabel(rng, lines, i % 8 === 7));
    labels.push({ file, identifiers, text: lines });
    const caption = words.length > 0 ? { caption: `label: ${words.join(', ').toLowerCase()}` } : {};
    manifestLines.push(JSON.stringify({ image: file, ...caption, entity: identifiers[0] }));
  }
  const manifest = path.resolve(outDir, 'manifest.jsonl');
  await fs.writeFile(manifest, `${manifestLines.join('\n')}\n`);
  return { manifest, labels };
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { count: { type: 'string' }, seed: { type: 'string' } } });
  const out = positionals[0];
  const count = Number(values.count ?? DEFAULT_COUNT);
  const seed = Number(values.seed ?? DEFAULT_SEED);
  if (!out || positionals.length > 1 || !Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
    console.error('Usage: npx tsx scripts/make-label-gallery.ts <outDir> [--count N] [--seed S]');
    process.exit(2);
  }
  const { manifest, labels } = await makeLabelGallery(path.resolve(out), { count, seed });
  console.log(`Wrote ${labels.length} labels and ${manifest}; load them with: referent ingest ${manifest}`);
}
