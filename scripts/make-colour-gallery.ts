/**
 * Writes a small gallery of coloured images and a manifest.jsonl describing them, for trying the
 * demo encoder: `npx tsx scripts/make-colour-gallery.ts <outDir> [--per-colour N]`.
 * Deterministic: the same arguments always give the same files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { solidPng } from '../src/image/image-io.js';

export const galleryColours: Record<string, [number, number, number]> = {
  red: [220, 30, 30],
  green: [30, 180, 40],
  blue: [30, 60, 220],
  yellow: [235, 215, 40],
  white: [245, 245, 245],
  black: [15, 15, 15],
};

const things = ['hex bolt', 'washer', 'elbow fitting', 'cap', 'backpack', 'jacket'];

/**
 * Writes `perColour` shades of each colour and `manifest.jsonl`; returns the manifest's path.
 * Shades and sizes differ, so every file has its own content hash.
 */
export async function makeColourGallery(outDir: string, perColour = 4, colourNames = Object.keys(galleryColours)): Promise<string> {
  fs.mkdirSync(outDir, { recursive: true });
  const lines: string[] = [];
  for (const name of colourNames) {
    const rgb = galleryColours[name];
    if (!rgb) throw new Error(`unknown colour ${name}`);
    for (let i = 0; i < perColour; i++) {
      const shade = rgb.map((c) => Math.max(0, Math.min(255, c + ((i % 9) - 4) * 4))) as [number, number, number];
      const file = `${name}-${i + 1}.png`;
      fs.writeFileSync(path.join(outDir, file), await solidPng(48 + (i % 64), 40 + Math.floor(i / 64), shade));
      const thing = things[i % things.length]!;
      lines.push(JSON.stringify({ image: file, caption: `a ${name} ${thing}`, entity: `${name.toUpperCase()}-${thing.replace(/\s+/g, '-')}` }));
    }
  }
  const manifest = path.join(outDir, 'manifest.jsonl');
  fs.writeFileSync(manifest, `${lines.join('\n')}\n`);
  return manifest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { 'per-colour': { type: 'string' } } });
  const out = positionals[0];
  if (!out) {
    console.error('Usage: npx tsx scripts/make-colour-gallery.ts <outDir> [--per-colour N]');
    process.exit(2);
  }
  const perColour = Number(values['per-colour'] ?? 4);
  const manifest = await makeColourGallery(path.resolve(out), perColour);
  console.log(`Wrote ${perColour * Object.keys(galleryColours).length} images and ${manifest}`);
}
