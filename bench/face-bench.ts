/**
 * Face engine benchmark on real weights and real photos: the six demo photos that
 * @vladmandic/face-api ships (node_modules/@vladmandic/face-api/demo/sample1-6.jpg) and photos
 * derived from them with sharp (mirror, crop, rescale, rotate, JPEG quality, brightness). The faces
 * found on the originals are the identities; each derived photo's expected boxes are those faces'
 * boxes carried through the same transform. Prints detection recall (a face counts as found when a
 * detected box overlaps its expected box with IoU ≥ 0.5), Rank-1 and mAP of face search (each
 * derived face queried against every face; relevant = the same source face), the cosines of
 * same-face and different-face pairs, match rates at several thresholds, times, memory and the
 * packages' size on disk. Prints figures; asserts nothing.
 *
 *   npm run bench:faces [-- --quick]     (--quick: two photos, fewer transforms)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import { loadFaceEngine, SAME_FACE_COSINE, type FaceBox, type FacesFound } from '../src/faces/face-engine.js';
import { rankingMetrics, relevantPositions } from '../src/method/metrics.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const demo = path.resolve('node_modules/@vladmandic/face-api/demo');
const photos = (values.quick ? [1, 5] : [1, 2, 3, 4, 5, 6]).map((i) => ({ name: `sample${i}`, bytes: fs.readFileSync(path.join(demo, `sample${i}.jpg`)) }));

type Transform = { name: string; apply: (img: Sharp, w: number, h: number) => Promise<{ bytes: Buffer; map: (b: FaceBox) => FaceBox | null }> };
const id = (b: FaceBox) => b;
const jpeg = async (img: Sharp) => img.jpeg({ quality: 92 }).toBuffer();
const rotate = (deg: number): Transform => ({
  name: `rotate ${deg > 0 ? '+' : ''}${deg}°`,
  apply: async (img, w, h) => {
    // sharp turns clockwise for a positive angle and grows the canvas to hold the turned photo.
    const { data, info } = await img.rotate(deg, { background: '#000' }).jpeg({ quality: 92 }).toBuffer({ resolveWithObject: true });
    const a = (deg * Math.PI) / 180;
    return {
      bytes: data,
      map: (b) => {
        const dx = b.x + b.width / 2 - w / 2;
        const dy = b.y + b.height / 2 - h / 2;
        const cx = info.width / 2 + dx * Math.cos(a) - dy * Math.sin(a);
        const cy = info.height / 2 + dx * Math.sin(a) + dy * Math.cos(a);
        return { x: cx - b.width / 2, y: cy - b.height / 2, width: b.width, height: b.height };
      },
    };
  },
});
const scale = (s: number): Transform => ({
  name: `rescale ${s}×`,
  apply: async (img, w) => ({ bytes: await jpeg(img.resize(Math.round(w * s))), map: (b) => ({ x: b.x * s, y: b.y * s, width: b.width * s, height: b.height * s }) }),
});
const bright = (f: number): Transform => ({ name: `brightness ${f > 1 ? '+' : '−'}${Math.round(Math.abs(f - 1) * 100)}%`, apply: async (img) => ({ bytes: await jpeg(img.modulate({ brightness: f })), map: id }) });
const transforms: Transform[] = [
  { name: 'mirror', apply: async (img, w) => ({ bytes: await jpeg(img.flop()), map: (b) => ({ ...b, x: w - b.x - b.width }) }) },
  {
    name: 'crop 80%',
    apply: async (img, w, h) => {
      const r = { left: Math.round(w * 0.1), top: Math.round(h * 0.1), width: Math.round(w * 0.8), height: Math.round(h * 0.8) };
      // A face more than a quarter outside the crop is not expected to be found.
      const map = (b: FaceBox) => {
        const c = intersect(b, { x: r.left, y: r.top, width: r.width, height: r.height });
        return c && c.width * c.height >= 0.75 * b.width * b.height ? { ...c, x: c.x - r.left, y: c.y - r.top } : null;
      };
      return { bytes: await jpeg(img.extract(r)), map };
    },
  },
  scale(0.5),
  scale(0.75),
  rotate(5),
  rotate(-5),
  { name: 'JPEG q=40', apply: async (img) => ({ bytes: await img.jpeg({ quality: 40 }).toBuffer(), map: id }) },
  bright(1.3),
  bright(0.7),
];
const used = values.quick ? transforms.filter((t) => ['mirror', 'rescale 0.5×', 'rotate +5°', 'JPEG q=40'].includes(t.name)) : transforms;

function intersect(a: FaceBox, b: FaceBox): FaceBox | null {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  const w = Math.min(a.x + a.width, b.x + b.width) - x;
  const h = Math.min(a.y + a.height, b.y + b.height) - y;
  return w > 0 && h > 0 ? { x, y, width: w, height: h } : null;
}
const iou = (a: FaceBox, b: FaceBox) => {
  const i = intersect(a, b);
  const inter = i ? i.width * i.height : 0;
  return inter / (a.width * a.height + b.width * b.height - inter);
};
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
const ms = (x: number) => `${Math.round(x)} ms`;
const quantiles = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))]!;
  return `n=${s.length} min ${q(0).toFixed(3)} p5 ${q(0.05).toFixed(3)} median ${q(0.5).toFixed(3)} p95 ${q(0.95).toFixed(3)} max ${q(1).toFixed(3)}`;
};

// ---- load -------------------------------------------------------------------------------------
const rssBefore = process.memoryUsage().rss;
let t = performance.now();
const engine = await loadFaceEngine();
const loadMs = performance.now() - t;
const rssLoaded = process.memoryUsage().rss;
console.log(`Model load (worker start, backend, 3 networks): ${ms(loadMs)}; RSS ${mb(rssBefore)} → ${mb(rssLoaded)} (+${mb(rssLoaded - rssBefore)})`);

/** A face with its identity (source face) and where it came from. */
interface Face { identity: string; photo: string; descriptor: Float32Array; original: boolean }
const faces: Face[] = [];
const timings: Array<{ ms: number; faces: number; pixels: number }> = [];
async function detect(bytes: Buffer): Promise<FacesFound> {
  const start = performance.now();
  const found = await engine.detect(bytes);
  timings.push({ ms: performance.now() - start, faces: found.faces.length, pixels: found.width * found.height });
  return found;
}

// ---- originals: the identities -------------------------------------------------------------------
const sources: Array<{ name: string; width: number; height: number; boxes: Array<{ identity: string; box: FaceBox }> }> = [];
for (const photo of photos) {
  const found = await detect(photo.bytes);
  const boxes = found.faces.map((f, i) => ({ identity: `${photo.name}#${i + 1}`, box: f.box }));
  found.faces.forEach((f, i) => faces.push({ identity: boxes[i]!.identity, photo: photo.name, descriptor: f.descriptor, original: true }));
  sources.push({ name: photo.name, width: found.width, height: found.height, boxes });
  console.log(`${photo.name} ${found.width}×${found.height}: ${found.faces.length} faces (scores ${found.faces.map((f) => f.score.toFixed(2)).join(' ')}), ${ms(timings.at(-1)!.ms)}`);
}
const rssOriginals = process.memoryUsage().rss;
console.log(`Originals: ${faces.length} faces in ${photos.length} photos; RSS ${mb(rssOriginals)}`);

// ---- derived photos: detection recall --------------------------------------------------------------
const recall = new Map<string, { expected: number; found: number; extra: number }>();
const missed: string[] = [];
for (const source of sources) {
  const bytes = photos.find((p) => p.name === source.name)!.bytes;
  for (const tr of used) {
    const { bytes: derived, map } = await tr.apply(sharp(bytes).rotate(), source.width, source.height);
    const found = await detect(derived);
    const expected = source.boxes.flatMap((b) => {
      const box = map(b.box);
      return box ? [{ identity: b.identity, box }] : [];
    });
    const row = recall.get(tr.name) ?? { expected: 0, found: 0, extra: 0 };
    const taken = new Set<number>();
    for (const e of expected) {
      // Greedy: the unclaimed detection that overlaps this face most.
      const best = found.faces.map((f, i) => ({ i, v: taken.has(i) ? 0 : iou(e.box, f.box) })).sort((a, b) => b.v - a.v)[0];
      row.expected++;
      if (!best || best.v < 0.5) missed.push(`${source.name} ${tr.name}: ${e.identity} not found (best IoU ${(best?.v ?? 0).toFixed(2)})`);
      if (best && best.v >= 0.5) {
        taken.add(best.i);
        row.found++;
        faces.push({ identity: e.identity, photo: `${source.name} ${tr.name}`, descriptor: found.faces[best.i]!.descriptor, original: false });
      }
    }
    // Detections that match no expected face stay in the gallery as distractors.
    found.faces.forEach((f, i) => {
      if (taken.has(i)) return;
      row.extra++;
      faces.push({ identity: `unmatched ${source.name} ${tr.name} ${i}`, photo: `${source.name} ${tr.name}`, descriptor: f.descriptor, original: false });
    });
    recall.set(tr.name, row);
  }
}
const rssAfter = process.memoryUsage().rss;

console.log('\nDetection recall on derived photos (IoU ≥ 0.5 with the carried-over box):');
let allExpected = 0;
let allFound = 0;
for (const [name, r] of recall) {
  allExpected += r.expected;
  allFound += r.found;
  console.log(`  ${name.padEnd(16)} ${r.found}/${r.expected} = ${((100 * r.found) / r.expected).toFixed(1)}%   unmatched detections: ${r.extra}`);
}
console.log(`  ${'all'.padEnd(16)} ${allFound}/${allExpected} = ${((100 * allFound) / allExpected).toFixed(1)}%`);
for (const m of missed) console.log(`  miss: ${m}`);

// ---- face search ----------------------------------------------------------------------------------
const perQuery: number[][] = [];
const misses: string[] = [];
for (const q of faces) {
  if (q.original || q.identity.startsWith('unmatched')) continue;
  const ranking = faces.filter((g) => g !== q).map((g) => ({ g, s: dot(q.descriptor, g.descriptor) })).sort((a, b) => b.s - a.s);
  perQuery.push(relevantPositions(ranking, (r) => r.g.identity === q.identity));
  if (ranking[0]!.g.identity !== q.identity) misses.push(`${q.photo} ${q.identity} → ${ranking[0]!.g.identity} (${ranking[0]!.s.toFixed(3)})`);
}
const metrics = rankingMetrics(perQuery, [1, 5]);
console.log(`\nFace search: ${metrics.queries} queries (derived faces) against ${faces.length - 1} faces each`);
console.log(`  Rank-1 ${metrics.rank[1]!.toFixed(1)}%  Rank-5 ${metrics.rank[5]!.toFixed(1)}%  mAP ${metrics.mAP.toFixed(1)}%`);
for (const m of misses) console.log(`  Rank-1 miss: ${m}`);

// ---- cosine distributions and the threshold ----------------------------------------------------------
const known = faces.filter((f) => !f.identity.startsWith('unmatched'));
const same: number[] = [];
const otherSamePhotoPairs: Array<{ s: number; a: Face; b: Face }> = [];
const otherAcross: Array<{ s: number; a: Face; b: Face }> = [];
for (let i = 0; i < known.length; i++) {
  for (let j = i + 1; j < known.length; j++) {
    const a = known[i]!;
    const b = known[j]!;
    const s = dot(a.descriptor, b.descriptor);
    if (a.identity === b.identity) same.push(s);
    else if (a.identity.split('#')[0] === b.identity.split('#')[0]) otherSamePhotoPairs.push({ s, a, b });
    else otherAcross.push({ s, a, b });
  }
}
const otherSamePhoto = otherSamePhotoPairs.map((o) => o.s);
const different = [...otherSamePhoto, ...otherAcross.map((o) => o.s)];
const mirrors = faces.filter((f) => f.photo.endsWith(' mirror') && !f.identity.startsWith('unmatched'));
const mirrorCos = mirrors.map((m) => dot(m.descriptor, faces.find((f) => f.original && f.identity === m.identity)!.descriptor));
console.log(`\nCosine, same source face:             ${quantiles(same)}`);
console.log(`Cosine, face and its mirror image:     ${quantiles(mirrorCos)} (Euclidean mean ${(mirrorCos.reduce((s, c) => s + Math.sqrt(2 - 2 * c), 0) / mirrorCos.length).toFixed(3)})`);
console.log(`Cosine, different faces, same photo:   ${quantiles(otherSamePhoto)}`);
console.log(`Cosine, different faces, other photos: ${quantiles(otherAcross.map((o) => o.s))}`);
const top = (pairs: Array<{ s: number; a: Face; b: Face }>) =>
  [...pairs].sort((x, y) => y.s - x.s).filter((o, i, all) => all.findIndex((p) => p.a.identity === o.a.identity && p.b.identity === o.b.identity) === i).slice(0, 4);
console.log('Most similar different faces on one photo (certainly two people):');
for (const o of top(otherSamePhotoPairs)) console.log(`  ${o.s.toFixed(3)}  ${o.a.identity} (${o.a.photo}) ~ ${o.b.identity} (${o.b.photo})`);
console.log('Most similar different faces on two photos (possibly one person photographed twice):');
for (const o of top(otherAcross)) console.log(`  ${o.s.toFixed(3)}  ${o.a.identity} (${o.a.photo}) ~ ${o.b.identity} (${o.b.photo})`);
const rate = (xs: number[], th: number) => `${xs.filter((s) => s >= th).length}/${xs.length} = ${((100 * xs.filter((s) => s >= th).length) / xs.length).toFixed(3)}%`;
console.log('\nThreshold  same face matched   false matches: different faces, same photo | all different faces');
for (const th of [...new Set([0.9, 0.92, 0.94, 0.95, 0.96, 0.97, SAME_FACE_COSINE])].sort()) {
  const tar = same.filter((s) => s >= th).length / same.length;
  console.log(`  ${th.toFixed(2)}${th === SAME_FACE_COSINE ? '*' : ' '}     ${(100 * tar).toFixed(1).padStart(5)}%            ${rate(otherSamePhoto, th).padEnd(24)} | ${rate(different, th)}`);
}
console.log('  (* SAME_FACE_COSINE)');

// ---- time, memory, footprint ----------------------------------------------------------------------------
const n = timings.length;
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const my = mean(timings.map((t) => t.ms));
const sorted = timings.map((t) => t.ms).sort((a, b) => a - b);
console.log(`\nPer photo (${n} photos, ${Math.round(Math.sqrt(mean(timings.map((t) => t.pixels))))} px side on average): mean ${ms(my)}, p50 ${ms(sorted[Math.floor(n / 2)]!)}, max ${ms(sorted[n - 1]!)}`);
console.log(`RSS (the whole process: the worker, and this script's own sharp work): before load ${mb(rssBefore)}, after load ${mb(rssLoaded)}, after the ${photos.length} originals ${mb(rssOriginals)}, after ${n} photos ${mb(rssAfter)}`);

// Many faces in one photo: the detected faces tiled 12×12 on one 1920² image.
const tiles = await Promise.all(
  sources.flatMap((s) => s.boxes.map((b) => ({ s, b }))).map(({ s, b }) =>
    sharp(photos.find((p) => p.name === s.name)!.bytes).rotate().extract({ left: Math.round(b.box.x), top: Math.round(b.box.y), width: Math.round(b.box.width), height: Math.round(b.box.height) }).resize(160, 160, { fit: 'cover' }).toBuffer(),
  ),
);
const grid = await sharp({ create: { width: 1920, height: 1920, channels: 3, background: '#808080' } })
  .composite(Array.from({ length: 144 }, (_, i) => ({ input: tiles[i % tiles.length]!, left: (i % 12) * 160, top: Math.floor(i / 12) * 160 })))
  .jpeg({ quality: 90 })
  .toBuffer();
// The same photo with no face on it: the detector's share, so the rest is the faces' (landmarks and descriptor each).
const blank = await sharp({ create: { width: 1920, height: 1920, channels: 3, background: '#808080' } }).jpeg({ quality: 90 }).toBuffer();
t = performance.now();
await engine.detect(blank);
const blankMs = performance.now() - t;
t = performance.now();
const crowd = await engine.detect(grid);
const crowdMs = performance.now() - t;
console.log(`144 faces tiled on one 1920² photo: ${crowd.faces.length} faces described, truncated ${crowd.truncated}, ${ms(crowdMs)}; the same size with no face ${ms(blankMs)}`);
console.log(`Per face (landmarks + descriptor): ${ms((crowdMs - blankMs) / crowd.faces.length)}`);

t = performance.now();
await engine.close();
console.log(`Close: ${ms(performance.now() - t)}; RSS after close ${mb(process.memoryUsage().rss)}`);

// What the three packages brought into node_modules: their dependency closure in the lockfile, less what other dependencies also use.
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }> };
const resolve = (from: string, dep: string): string | undefined => {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
    const p = `${dir ? `${dir}/` : ''}node_modules/${dep}`;
    if (lock.packages[p]) return p;
    if (!dir) return undefined;
  }
};
const closure = (roots: string[]) => {
  const seen = new Set<string>();
  const stack = roots.flatMap((r) => resolve('', r) ?? []);
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    for (const d of Object.keys(lock.packages[p]?.dependencies ?? {})) {
      const found = resolve(p, d);
      if (found) stack.push(found);
    }
  }
  return seen;
};
const faceRoots = ['@vladmandic/face-api', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'];
const root = lock.packages['']!;
const others = closure(Object.keys({ ...root.dependencies, ...root.devDependencies }).filter((d) => !faceRoots.includes(d)));
const added = [...closure(faceRoots)].filter((p) => !others.has(p));
const outermost = added.filter((p) => !added.some((q) => q !== p && p.startsWith(`${q}/`)));
const kb = outermost.map((p) => Number(execFileSync('du', ['-sk', p], { encoding: 'utf8' }).split('\t')[0]));
const rows = outermost.map((p, i) => ({ p, kb: kb[i]! })).sort((a, b) => b.kb - a.kb);
console.log(`\nnode_modules added by ${faceRoots.join(', ')}: ${added.length} packages, ${(kb.reduce((s, x) => s + x, 0) / 1024).toFixed(0)} MB (du -sk)`);
console.log(`  largest: ${rows.slice(0, 8).map((r) => `${r.p.replace('node_modules/', '')} ${(r.kb / 1024).toFixed(0)} MB`).join(', ')}`);
const modelDir = 'node_modules/@vladmandic/face-api/model';
const usedBytes = fs.readdirSync(modelDir).filter((f) => /^(ssd_mobilenetv1|face_landmark_68|face_recognition)_model/.test(f)).reduce((s, f) => s + fs.statSync(path.join(modelDir, f)).size, 0);
console.log(`  the model weights: ${execFileSync('du', ['-sh', modelDir], { encoding: 'utf8' }).split('\t')[0]} in all, ${mb(usedBytes)} for the three networks used`);
