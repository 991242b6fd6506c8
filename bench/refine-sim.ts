/**
 * A simulation of ambiguous, incomplete descriptions, written in the embeddings JSONL format that
 * `referent eval` reads. It is a simulation, not a real dataset: vectors are made, not encoded.
 *
 * - Attributes: `slots` kinds (cap, shoes, bag …), each with `values` possible values; every value has
 *   a random concept direction.
 * - Entities: one value per slot plus an appearance of their own that no description mentions. They
 *   come in look-alike families that share all but one or two attributes.
 * - Images: the entity's attributes and appearance plus view noise. Descriptions: a subset of the
 *   attributes, drawn by how salient each is for that entity (people mention what stands out), sometimes
 *   one of them wrong, plus wording noise; each mentioned attribute is also a detail phrase.
 * - Modality gap: images and texts get different constant offsets, and both share a domain direction,
 *   so cross-modal cosines are low and close together (about 0.3 for a match, 0.2 otherwise) and
 *   same-modality cosines high, as with CLIP.
 * - Roles: a share of the entities have references (photos and descriptions a team posted); every
 *   entity has unlabelled gallery photos; queries are fresh descriptions, mostly short (ambiguous).
 */
import { mulberry32 } from '../src/random.js';
import { normalize } from '../src/vectors.js';

export interface SimOptions {
  seed: number;
  dim: number;
  entities: number;
  slots: number;
  values: number;
  familySize: number;
  /** Share of entities with references. */
  referenced: number;
  galleryPerEntity: [number, number];
  referenceImages: [number, number];
  referenceTexts: [number, number];
  queriesPerEntity: number;
  /** Attributes a query mentions: from..to; up to `ambiguousUpTo` counts as ambiguous. */
  queryMentions: [number, number];
  ambiguousUpTo: number;
  referenceMentions: [number, number];
  wrongAttribute: number;
  appearance: number;
  viewNoise: number;
  textNoise: number;
  gap: number;
  /** Spread of how salient each attribute is per entity (0: descriptions pick attributes uniformly). */
  salience: number;
  /** Weight of a direction shared by both modalities (everything is "a person", "a part"). */
  domain: number;
}

export const DEFAULT_SIM: SimOptions = {
  seed: 1,
  dim: 128,
  entities: 600,
  slots: 8,
  values: 10,
  familySize: 4,
  referenced: 0.5,
  galleryPerEntity: [2, 5],
  referenceImages: [1, 3],
  referenceTexts: [1, 3],
  queriesPerEntity: 2,
  queryMentions: [1, 4],
  ambiguousUpTo: 2,
  referenceMentions: [2, 4],
  wrongAttribute: 0.1,
  appearance: 0.5,
  viewNoise: 0.6,
  textNoise: 0.3,
  gap: 0.8,
  salience: 1.5,
  domain: 0.5,
};

export interface SimRecord {
  id: string;
  identity: string;
  kind: 'image' | 'text';
  role: 'gallery' | 'query' | 'reference';
  vector: number[];
  details?: number[][];
  group?: string;
}

export function simulate(o: SimOptions): SimRecord[] {
  const rand = mulberry32(o.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const randomUnit = () => normalize(Float32Array.from({ length: o.dim }, gauss));
  const between = ([a, b]: [number, number]) => a + Math.floor(rand() * (b - a + 1));
  const concepts = Array.from({ length: o.slots }, () => Array.from({ length: o.values }, randomUnit));
  const imageGap = randomUnit();
  const textGap = randomUnit();
  const domain = randomUnit();
  const mix = (parts: Array<[number, Float32Array]>, noise: number) => {
    const v = new Float32Array(o.dim);
    for (const [w, p] of parts) for (let d = 0; d < o.dim; d++) v[d]! += w * p[d]!;
    for (let d = 0; d < o.dim; d++) v[d]! += (noise * gauss()) / Math.sqrt(o.dim);
    return normalize(v);
  };
  const withGap = (v: Float32Array, gap: Float32Array) => Array.from(mix([[1, v], [o.gap, gap], [o.domain, domain]], 0));

  // Entities in look-alike families: the family shares a base; each member changes 1–2 slots.
  const entities: Array<{ attrs: number[]; appearance: Float32Array; salience: number[] }> = [];
  while (entities.length < o.entities) {
    const base = Array.from({ length: o.slots }, () => Math.floor(rand() * o.values));
    for (let m = 0; m < o.familySize && entities.length < o.entities; m++) {
      const attrs = [...base];
      if (m > 0) for (let c = between([1, 2]); c > 0; c--) attrs[Math.floor(rand() * o.slots)] = Math.floor(rand() * o.values);
      entities.push({ attrs, appearance: randomUnit(), salience: attrs.map(() => Math.exp(o.salience * gauss())) });
    }
  }
  const image = (e: (typeof entities)[number]) =>
    withGap(mix([...e.attrs.map((a, s): [number, Float32Array] => [1 / Math.sqrt(o.slots), concepts[s]![a]!]), [o.appearance, e.appearance]], o.viewNoise), imageGap);
  const describe = (e: (typeof entities)[number], mentions: number) => {
    // People mention what stands out: slots are drawn by the entity's salience, without repeats.
    const weights = [...e.salience];
    const slots: number[] = [];
    while (slots.length < mentions) {
      let r = rand() * weights.reduce((a, b) => a + b, 0);
      const s = weights.findIndex((w) => (r -= w) < 0);
      const slot = s < 0 ? weights.findLastIndex((w) => w > 0) : s;
      slots.push(slot);
      weights[slot] = 0;
    }
    const said = slots.map((s) => {
      const value = rand() < o.wrongAttribute ? Math.floor(rand() * o.values) : e.attrs[s]!;
      return concepts[s]![value]!;
    });
    const vector = withGap(mix(said.map((c): [number, Float32Array] => [1, c]), o.textNoise), textGap);
    const details = said.map((c) => withGap(mix([[1, c]], o.textNoise / 2), textGap));
    return { vector, details };
  };

  const records: SimRecord[] = [];
  let n = 0;
  entities.forEach((e, i) => {
    const identity = `e${i}`;
    if (rand() < o.referenced) {
      for (let k = between(o.referenceImages); k > 0; k--) records.push({ id: `i${n++}`, identity, kind: 'image', role: 'reference', vector: image(e) });
      for (let k = between(o.referenceTexts); k > 0; k--) {
        const t = describe(e, between(o.referenceMentions));
        records.push({ id: `t${n++}`, identity, kind: 'text', role: 'reference', vector: t.vector, details: t.details });
      }
    }
    for (let k = between(o.galleryPerEntity); k > 0; k--) records.push({ id: `i${n++}`, identity, kind: 'image', role: 'gallery', vector: image(e) });
    for (let k = 0; k < o.queriesPerEntity; k++) {
      const mentions = between(o.queryMentions);
      const t = describe(e, mentions);
      records.push({ id: `q${n++}`, identity, kind: 'text', role: 'query', vector: t.vector, details: t.details, group: mentions <= o.ambiguousUpTo ? 'ambiguous' : 'detailed' });
    }
  });
  return records;
}
