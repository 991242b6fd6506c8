/**
 * OCR benchmark: renders a synthetic label gallery (scripts/make-label-gallery.ts), reads every
 * label with PaddleOcr and prints model load time, per-image read time (first call, mean, p50,
 * p95) and identifier recall: a printed identifier counts as found when containsIdentifier finds
 * its normalised form in the lines read. Prints figures and misses; asserts nothing.
 *
 *   npx tsx bench/ocr-bench.ts [--count N] [--seed S] [--keep DIR]
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { probeImage } from '../src/image/image-io.js';
import { containsIdentifier, identifiersIn, normalizeIdentifier } from '../src/ocr/identifiers.js';
import { PaddleOcr } from '../src/ocr/paddle-ocr.js';
import { makeLabelGallery } from '../scripts/make-label-gallery.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '60' }, seed: { type: 'string', default: '1' }, keep: { type: 'string' } } });
const count = Number(values.count);
const seed = Number(values.seed);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
  console.error('Usage: npx tsx bench/ocr-bench.ts [--count N] [--seed S] [--keep DIR]');
  process.exit(2);
}

const dir = values.keep ? path.resolve(values.keep) : await fs.mkdtemp(path.join(os.tmpdir(), 'referent-ocr-bench-'));
const t0 = performance.now();
const gallery = await makeLabelGallery(dir, { count, seed });
console.log(`Rendered ${count} labels (seed ${seed}) in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${dir}`);

const loadStart = performance.now();
const ocr = await PaddleOcr.create();
const loadMs = performance.now() - loadStart;

const times: number[] = [];
const inPhoto: boolean[] = [];
let printed = 0;
let found = 0;
let foundAsQuery = 0;
const misses: string[] = [];
try {
  for (const label of gallery.labels) {
    const bytes = await fs.readFile(path.join(dir, label.file));
    const start = performance.now();
    const lines = await ocr.read(bytes);
    times.push(performance.now() - start);
    inPhoto.push((await probeImage(bytes)).width >= 1024); // the stickers inside a 1024×768 photo
    const text = lines.map((l) => l.text).join('\n');
    for (const id of label.identifiers) {
      printed++;
      // As a search would: the printed identifier typed as a query, any of its forms ('LOT 4471-B' → LOT4471B, 4471B).
      if (identifiersIn(id).some((form) => containsIdentifier(form, text))) foundAsQuery++;
      if (containsIdentifier(normalizeIdentifier(id), text)) found++;
      else misses.push(`  ${label.file}: ${JSON.stringify(id)} not in ${JSON.stringify(lines.map((l) => l.text))} (printed ${JSON.stringify(label.text)})`);
    }
  }
} finally {
  await ocr.close();
  if (!values.keep) await fs.rm(dir, { recursive: true, force: true });
}

const ms = (v: number | undefined): string => (v === undefined ? '-' : `${Math.round(v)} ms`);
function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number | undefined => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return `mean ${ms(values.reduce((a, b) => a + b, 0) / values.length)}, p50 ${ms(at(0.5))}, p95 ${ms(at(0.95))}, max ${ms(sorted.at(-1))}`;
}
console.log(`\nEngine: ${ocr.modelId}; ${os.availableParallelism()} cores; Node ${process.version}`);
console.log(`Model load (worker start + models + warm-up): ${ms(loadMs)}`);
console.log(`Per image (${times.length}): first ${ms(times[0])}, ${summary(times)}`);
const labelsAlone = times.filter((_, i) => !inPhoto[i]);
const photos = times.filter((_, i) => inPhoto[i]);
if (labelsAlone.length > 0) console.log(`  labels alone (${labelsAlone.length}): ${summary(labelsAlone)}`);
if (photos.length > 0) console.log(`  small label in a 1024×768 photo (${photos.length}): ${summary(photos)}`);
const pct = (n: number): string => `${n}/${printed} = ${((100 * n) / printed).toFixed(1)}%`;
console.log(`Identifier recall: ${pct(found)} (exact: the whole normalised identifier, containsIdentifier)`);
console.log(`  as a query: ${pct(foundAsQuery)} (any form identifiersIn gives, e.g. the value without its LOT/SN/REF keyword)`);
console.log(misses.length > 0 ? `Misses:\n${misses.join('\n')}` : 'Misses: none');
