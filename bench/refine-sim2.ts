/**
 * A second simulation for the refinement, built differently from refine-sim.ts on purpose, so the
 * method is judged on data its defaults were not chosen on. Vectors are made, not encoded.
 *
 * - Geometry: identities are sparse mixtures of a shared pool of feature directions (3–6 each, with
 *   their own weights) around one of a few category directions, plus an appearance no description
 *   can name. About half come with a look-alike twin that differs in one feature (hard negatives),
 *   and whether a twin has references is drawn independently, so a described twin can steal.
 * - Each identity has its own photo noise (some are always photographed alike, some never).
 * - Modality gap: texts are mapped through a partly rotated copy of the image space (alignment < 1)
 *   and both modalities get their own offset, so text↔photo cosines are low and noisy.
 * - Counts vary: a referenced identity has 0–5 posted photos and 0–3 descriptions (at least one of
 *   either), 1–8 gallery photos; some gallery photos have a near-duplicate in the gallery, and some
 *   posted photos were also posted to the gallery.
 * - Queries of four kinds: a fresh description (1–4 features), a fresh photo, a near-duplicate of an
 *   existing photo, and a near-copy of a posted description.
 */
import type { EvalDataset } from '../src/eval/dataset.js';
import { mulberry32 } from '../src/random.js';
import { normalize } from '../src/vectors.js';

export interface Sim2Options {
  seed: number;
  dim: number;
  identities: number;
  categories: number;
  features: number;
  featuresPerIdentity: [number, number];
  twinShare: number;
  referenced: number;
  postedPhotos: [number, number];
  postedTexts: [number, number];
  galleryPhotos: [number, number];
  /** Share of gallery photos with a near-duplicate in the gallery, and of posted photos also in the gallery. */
  duplicates: number;
  postedInGallery: number;
  appearance: number;
  /** Photo noise: per identity, viewNoise · exp(viewSpread · N(0,1)). */
  viewNoise: number;
  viewSpread: number;
  textNoise: number;
  copyNoise: number;
  alignment: number;
  gap: number;
  mentions: [number, number];
}

export const DEFAULT_SIM2: Sim2Options = {
  seed: 1,
  dim: 96,
  identities: 480,
  categories: 12,
  features: 48,
  featuresPerIdentity: [3, 6],
  twinShare: 0.5,
  referenced: 0.4,
  postedPhotos: [0, 5],
  postedTexts: [0, 3],
  galleryPhotos: [1, 8],
  duplicates: 0.15,
  postedInGallery: 0.2,
  appearance: 0.45,
  viewNoise: 1,
  viewSpread: 0.4,
  textNoise: 0.5,
  copyNoise: 0.05,
  alignment: 0.75,
  gap: 1,
  mentions: [1, 4],
};

export type QueryKind = 'text' | 'photo' | 'photo: near-duplicate' | 'text: copy of a posted description' | 'text: copy of a posted description, no posted photo';

export interface Sim2Record {
  id: string;
  identity: string;
  kind: 'image' | 'text';
  role: 'gallery' | 'query' | 'reference';
  vector: Float32Array;
  /** Queries only. */
  query?: QueryKind;
}

interface Identity {
  category: number;
  features: Array<[number, number]>;
  appearance: Float32Array;
  noise: number;
}

type Rand = () => number;

function tools(o: Sim2Options, rand: Rand) {
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const unit = () => normalize(Float32Array.from({ length: o.dim }, gauss));
  const between = ([a, b]: [number, number]) => a + Math.floor(rand() * (b - a + 1));
  /** Σ w·v plus isotropic noise of norm ≈ `noise`, unit length. */
  const mix = (parts: ReadonlyArray<readonly [number, Float32Array]>, noise: number) => {
    const v = new Float32Array(o.dim);
    for (const [w, p] of parts) for (let d = 0; d < o.dim; d++) v[d]! += w * p[d]!;
    for (let d = 0; d < o.dim; d++) v[d]! += (noise * gauss()) / Math.sqrt(o.dim);
    return normalize(v);
  };
  return { gauss, unit, between, mix };
}

function makeIdentities(o: Sim2Options, rand: Rand, t: ReturnType<typeof tools>): Identity[] {
  const out: Identity[] = [];
  const fresh = (): Identity => {
    const count = t.between(o.featuresPerIdentity);
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(Math.floor(rand() * o.features));
    return { category: Math.floor(rand() * o.categories), features: [...chosen].map((f) => [f, 0.5 + rand()]), appearance: t.unit(), noise: o.viewNoise * Math.exp(o.viewSpread * t.gauss()) };
  };
  while (out.length < o.identities) {
    const a = fresh();
    out.push(a);
    if (out.length < o.identities && rand() < o.twinShare) {
      // The twin: the same category and features but one, its own appearance and photo noise.
      const features = a.features.map(([f, w]): [number, number] => [f, w]);
      features[Math.floor(rand() * features.length)]![0] = Math.floor(rand() * o.features);
      out.push({ ...fresh(), category: a.category, features });
    }
  }
  return out;
}

/** The vector makers of one simulated world: photos and descriptions of identities, and near-copies. */
function makers(o: Sim2Options, rand: Rand, t: ReturnType<typeof tools>) {
  const categories = Array.from({ length: o.categories }, t.unit);
  const features = Array.from({ length: o.features }, t.unit);
  const rotated = Array.from({ length: o.features + o.categories }, t.unit);
  const imageGap = t.unit();
  const textGap = t.unit();
  // Texts see the concepts through a partly different map: the aligned direction mixed with a fixed
  // rotated one (a modality gap beyond a constant offset).
  const textConcept = (i: number, v: Float32Array) => t.mix([[o.alignment, v], [1 - o.alignment, rotated[i]!]], 0);
  const photo = (e: Identity) => {
    const semantic = t.mix([[0.8, categories[e.category]!], ...e.features.map(([f, w]) => [w / Math.sqrt(e.features.length), features[f]!] as const), [o.appearance, e.appearance]], e.noise);
    return t.mix([[1, semantic], [o.gap, imageGap]], 0);
  };
  const describe = (e: Identity) => {
    const said = [...e.features].sort(() => rand() - 0.5).slice(0, Math.min(e.features.length, t.between(o.mentions)));
    const parts = [[0.8, textConcept(o.features + e.category, categories[e.category]!)] as const, ...said.map(([f, w]) => [w, textConcept(f, features[f]!)] as const)];
    return t.mix([[1, t.mix(parts, o.textNoise)], [o.gap, textGap]], 0);
  };
  const copy = (v: Float32Array) => t.mix([[1, v]], o.copyNoise);
  return { photo, describe, copy };
}

type Add = (kind: 'image' | 'text', role: Sim2Record['role'], vector: Float32Array, query?: QueryKind) => void;

/** One identity's posted material (if referenced), gallery photos and queries. */
function identityRecords(e: Identity, o: Sim2Options, rand: Rand, t: ReturnType<typeof tools>, m: ReturnType<typeof makers>, add: Add): void {
  const photos: Float32Array[] = [];
  const texts: Float32Array[] = [];
  if (rand() < o.referenced) {
    let p = t.between(o.postedPhotos);
    let d = t.between(o.postedTexts);
    if (p + d === 0) rand() < 0.5 ? (p = 1) : (d = 1);
    for (; p > 0; p--) photos.push(m.photo(e));
    for (; d > 0; d--) texts.push(m.describe(e));
    for (const v of photos) add('image', 'reference', v);
    for (const v of texts) add('text', 'reference', v);
    for (const v of photos) if (rand() < o.postedInGallery) add('image', 'gallery', m.copy(v));
  }
  const gallery: Float32Array[] = [];
  for (let k = t.between(o.galleryPhotos); k > 0; k--) gallery.push(m.photo(e));
  for (const v of gallery) {
    add('image', 'gallery', v);
    if (rand() < o.duplicates) add('image', 'gallery', m.copy(v));
  }
  add('text', 'query', m.describe(e), 'text');
  add('image', 'query', m.photo(e), 'photo');
  const seen = [...photos, ...gallery];
  add('image', 'query', m.copy(seen[Math.floor(rand() * seen.length)]!), 'photo: near-duplicate');
  // Without a posted photo no image is linked to the identity: the copy can only find it through
  // unlabelled photos that resemble nothing posted, so it is reported apart.
  const copyKind = photos.length > 0 ? 'text: copy of a posted description' : 'text: copy of a posted description, no posted photo';
  if (texts.length > 0) add('text', 'query', m.copy(texts[Math.floor(rand() * texts.length)]!), copyKind);
}

export function simulate2(o: Sim2Options): Sim2Record[] {
  const rand = mulberry32(o.seed);
  const t = tools(o, rand);
  const m = makers(o, rand, t);
  const identities = makeIdentities(o, rand, t);
  const records: Sim2Record[] = [];
  identities.forEach((e, i) => {
    const identity = `id${i}`;
    identityRecords(e, o, rand, t, m, (kind, role, vector, query) => records.push({ id: `${kind[0]}${records.length}`, identity, kind, role, vector, ...(query ? { query } : {}) }));
  });
  return records;
}

/**
 * The records as an evaluation dataset. `referent eval`'s queries are texts; the photo queries go in
 * beside them, marked `photo` (evaluate.ts then asks them as photos, as the product does).
 */
export function toDataset2(records: readonly Sim2Record[]): EvalDataset {
  const images = records.filter((r) => r.kind === 'image' && r.role !== 'query').map((r) => ({ id: r.id, identity: r.identity, role: r.role as 'reference' | 'gallery', vector: r.vector }));
  const texts = records
    .filter((r) => r.role === 'query' || r.kind === 'text')
    .map((r) => ({ id: r.id, identity: r.identity, role: r.role as 'reference' | 'query', vector: r.vector, details: [], ...(r.query ? { group: r.query } : {}), ...(r.kind === 'image' ? { photo: true } : {}) }));
  return { dim: records[0]!.vector.length, images, texts };
}
