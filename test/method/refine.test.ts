import { describe, expect, it } from 'vitest';
import { DEFAULT_PIPELINE } from '../../src/method/defaults.js';
import type { PipelineParams } from '../../src/method/pipeline.js';
import { profile } from '../../src/method/profile.js';
import { entityTerms, float32Vectors, referentEvidence, refine as refineWithVectors, type EntityReference, type RefineParams, type RefineQuery } from '../../src/method/refine.js';
import { normalize } from '../../src/vectors.js';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

type Cand = { itemId: number; vector: Float32Array; entityId: number | null };

/** refine() on hand-made candidates that carry their vectors. */
function refine(query: RefineQuery, cands: readonly Cand[], entities: EntityReference[], p: RefineParams = params) {
  const vectors = float32Vectors(new Map(cands.map((c) => [c.itemId, c.vector])));
  return refineWithVectors(query, cands.map(({ itemId, entityId }) => ({ itemId, entityId })), vectors, entities, p);
}
const order = (out: ReadonlyArray<{ itemId: number }>) => out.map((c) => c.itemId);

// The defaults, with small depths so hand-made examples stay small.
const params: PipelineParams = { ...DEFAULT_PIPELINE, minCandidates: 2, referenceDepth: 4, imagesPerEntity: 4 };

/** Population mean and deviation, written out here so the tests do not lean on the code they check. */
function stats(xs: readonly number[]) {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length) };
}

describe('entity terms', () => {
  it('measures a photo reference on the candidates\' scale and a description over the entities', () => {
    const q = v(1, 0, 0);
    const entities: EntityReference[] = [
      { entityId: 1, text: v(1, 1, 0), image: v(1, 0, 1) },
      { entityId: 2, text: v(0, 1, 0), image: null },
      { entityId: 3, text: null, image: v(0, 0, 1) },
    ];
    const scale = { mean: 0.2, std: 0.4 };
    const terms = entityTerms({ vector: q }, entities, scale);
    expect(terms.photo[0]).toBeCloseTo((Math.SQRT1_2 - 0.2) / 0.4, 6);
    expect(terms.photo[1]).toBeNaN();
    expect(terms.photo[2]).toBeCloseTo((0 - 0.2) / 0.4, 6);
    const d = stats([Math.SQRT1_2, 0]);
    expect(terms.description[0]).toBeCloseTo((Math.SQRT1_2 - d.mean) / d.std, 6);
    expect(terms.description[1]).toBeCloseTo((0 - d.mean) / d.std, 6);
    expect(terms.description[2]).toBeNaN();
  });

  it('leaves descriptions out for a photo query', () => {
    const terms = entityTerms({ vector: v(1, 0), photoOnly: true }, [{ entityId: 1, text: v(1, 0), image: v(0.6, 0.8) }], { mean: 0, std: 1 });
    expect(terms.description[0]).toBeNaN();
    expect(terms.photo[0]).toBeCloseTo(0.6, 6);
  });

  it('a referent\'s evidence: weighted mean of its terms, its photo term never below the image\'s own', () => {
    const terms = { photo: Float64Array.from([1, NaN, 2]), description: Float64Array.from([3, 0.5, NaN]) };
    const w = { textWeight: 3, imageWeight: 1 };
    expect(referentEvidence(terms, 0, 0.5, w)).toBeCloseTo((1 * 1 + 3 * 3) / 4, 10);
    expect(referentEvidence(terms, 0, 1.5, w)).toBeCloseTo((1 * 1.5 + 3 * 3) / 4, 10);
    // No photo reference: the image is the entity's photo.
    expect(referentEvidence(terms, 1, 0.2, w)).toBeCloseTo((0.2 + 3 * 0.5) / 4, 10);
    // No description: the photo term alone.
    expect(referentEvidence(terms, 2, 0.5, w)).toBeCloseTo(2, 10);
    expect(referentEvidence(terms, 2, 2.5, w)).toBeCloseTo(2.5, 10);
    // The image as its own referent: its own photo, nothing else.
    expect(referentEvidence(terms, -1, -0.7, w)).toBeCloseTo(-0.7, 10);
    expect(referentEvidence(terms, 0, 0.5, { textWeight: 0, imageWeight: 1 })).toBeCloseTo(1, 10);
  });

  it('profiles keep the top k and leave the rest of the mass to "none"', () => {
    const p = profile([3, 0, 2, NaN], 2, 1, 0);
    expect([...p.keys()]).toEqual([0, 2]);
    const total = [...p.values()].reduce((a, b) => a + b, 0);
    const expected = (Math.exp(3) + Math.exp(2)) / (Math.exp(3) + Math.exp(2) + Math.exp(0));
    expect(total).toBeCloseTo(expected, 10);
  });
});

describe('refine: the score, term by term', () => {
  // A text query, two entities, a linked image of each and one unlinked image that looks like no
  // entity (its profile is all "none" at a high none level), so every value can be worked by hand.
  const q = v(1, 0, 0, 0);
  const entities: EntityReference[] = [
    { entityId: 1, text: v(1, 0.2, 0, 0), image: v(0.3, 0, 1, 0) },
    { entityId: 2, text: v(0.2, 1, 0, 0), image: v(0.5, 0, 0, 1) },
  ];
  const cands: Cand[] = [
    { itemId: 10, vector: v(0.2, 0, 1, 0.1), entityId: 1 },
    { itemId: 20, vector: v(0.6, 0, 0.1, 1), entityId: 2 },
    { itemId: 30, vector: v(0.5, 1, 0, 0), entityId: null },
  ];
  const p = { ...params, noneLevel: 50, textWeight: 2, imageWeight: 1, entityWeight: 3 };

  it('is 2·(z + λ·evidence)/(1 + λ), with the evidence worked out as the header says', () => {
    const cos = cands.map((c) => dot(q, c.vector));
    const s = stats(cos);
    const z = cos.map((c) => (c - s.mean) / s.std);
    const photo = entities.map((e) => (dot(q, e.image!) - s.mean) / s.std);
    const texts = entities.map((e) => dot(q, e.text!));
    const t = stats(texts);
    const description = texts.map((x) => (x - t.mean) / t.std);
    const linked = (j: number, own: number) => (1 * Math.max(photo[j]!, own) + 2 * description[j]!) / 3;
    const evidence = [linked(0, z[0]!), linked(1, z[1]!), z[2]!];
    const expected = evidence.map((e, i) => (2 * (z[i]! + 3 * e)) / 4);
    const out = refine({ vector: q }, cands, entities, p);
    for (const [i, c] of cands.entries()) {
      const hit = out.find((h) => h.itemId === c.itemId)!;
      expect(hit.components.initial).toBeCloseTo(cos[i]!, 6);
      expect(hit.components.entity).toBeCloseTo(evidence[i]!, 6);
      expect(hit.final).toBeCloseTo(expected[i]!, 6);
      expect(hit.contributions.initial + hit.contributions.entity).toBeCloseTo(hit.final, 10);
    }
    // The image no entity claims gains nothing from the references: its contribution is 0.
    expect(out.find((h) => h.itemId === 30)!.contributions.entity).toBeCloseTo(0, 10);
    expect(out.find((h) => h.itemId === 30)!.entityId).toBeNull();
  });
});

describe('refine: behaviour', () => {
  it('with no references, keeps the plain cosine order', () => {
    const q = { vector: v(1, 0, 0) };
    const cands = [v(0.5, 1, 0), v(1, 0.1, 0), v(1, 0.5, 0)].map((vector, i) => ({ itemId: i, vector, entityId: null }));
    const out = refine(q, cands, []);
    expect(order(out)).toEqual([1, 2, 0]);
    expect(out.every((c) => c.contributions.entity === 0 && c.entityId === null)).toBe(true);
  });

  it('puts an image identical to a photo query first, linked or not, over an entity whose photos and description match it closely', () => {
    // Entity 5's photos are all near the query and its description is the query's direction (a hub
    // across the modality gap); the query is a photo of something else: item 1, or item 2.
    const query = v(1, 0.1, 0, 0);
    const entities: EntityReference[] = [
      { entityId: 5, text: v(1, 0.1, 0, 0), image: v(1, 0.2, 0.05, 0) },
      { entityId: 6, text: v(0, 0, 1, 0), image: v(0.3, 1, 0, 0.6) },
    ];
    const lookAlikes = [3, 4].map((id) => ({ itemId: id, vector: v(1, 0.2, 0.05 * id, 0), entityId: 5 }));
    const others = [7, 8, 9].map((id) => ({ itemId: id, vector: v(0.2, 0.1 * id, 1, 0.5), entityId: null }));
    for (const entityId of [null, 6]) {
      const identical = { itemId: 1, vector: query, entityId };
      const out = refine({ vector: query, photoOnly: true }, [...lookAlikes, identical, ...others], entities);
      expect(out[0]!.itemId).toBe(1);
      expect(out[0]!.contributions.entity).toBeCloseTo(0, 10);
    }
  });

  it('does not lift an entity for a photo query by its description', () => {
    // Entity 5's description points at the query photo; its photo reference does not. As a text
    // (the description term counts) its image comes first; as a photo, the closer photo wins.
    const query = v(1, 0, 0, 0);
    const entities: EntityReference[] = [
      { entityId: 5, text: v(1, 0, 0, 0), image: v(0.5, 1, 0, 0) },
      { entityId: 6, text: v(0, 0, 1, 0), image: v(0.6, 0, 0, 1) },
      { entityId: 7, text: v(0, 0, 0.3, 1), image: v(0, 0, 1, 0.2) },
    ];
    const cands = [
      { itemId: 1, vector: v(0.5, 1, 0, 0), entityId: 5 },
      { itemId: 2, vector: v(0.6, 0, 0, 1), entityId: 6 },
      { itemId: 3, vector: v(0, 0, 1, 0.2), entityId: 7 },
    ];
    expect(order(refine({ vector: query }, cands, entities))[0]).toBe(1);
    expect(order(refine({ vector: query, photoOnly: true }, cands, entities))[0]).toBe(2);
  });

  it('puts the entity whose description equals a text query first, over an image closer by cosine', () => {
    const query = v(1, 0, 0, 0);
    const entities: EntityReference[] = [
      { entityId: 5, text: v(1, 0, 0, 0), image: v(0.2, 1, 0, 0) },
      { entityId: 6, text: v(0.5, 0, 1, 0), image: v(0.3, 0, 0, 1) },
      { entityId: 7, text: v(0.3, 0, 0.2, 1), image: v(0.25, 0, 1, 0) },
    ];
    const cands = [
      { itemId: 1, vector: v(0.2, 1, 0, 0), entityId: 5 },
      { itemId: 2, vector: v(0.3, 0, 0, 1), entityId: 6 },
      { itemId: 3, vector: v(0.25, 0, 1, 0), entityId: 7 },
      { itemId: 4, vector: v(0.35, 0.3, 0.6, 0.6), entityId: null },
    ];
    expect(order(refine({ vector: query }, cands, [])).indexOf(1)).toBeGreaterThan(0);
    expect(order(refine({ vector: query }, cands, entities))[0]).toBe(1);
    // Without the description term nothing lifts it.
    expect(order(refine({ vector: query }, cands, entities, { ...params, textWeight: 0 }))[0]).not.toBe(1);
  });

  it('takes cosines that differ by less than the index\'s rounding for ties, not for evidence', () => {
    // Every image is equally far from the query but for 1e-6 of rounding (the demo encoder does this
    // for words that name no colour); entity 5's description is the query itself.
    const query = v(1, 0, 0, 0);
    const tilt = (eps: number, ...rest: number[]) => normalize(Float32Array.from([eps, ...rest]));
    const entities: EntityReference[] = [
      { entityId: 5, text: v(1, 0, 0, 0), image: v(0, 1, 0, 0) },
      { entityId: 6, text: v(0.1, 0, 1, 0), image: v(0, 0, 1, 0) },
      { entityId: 7, text: v(0.2, 0, 0, 1), image: v(0, 0, 0, 1) },
    ];
    const cands: Cand[] = [
      { itemId: 1, vector: tilt(0, 1, 0, 0), entityId: 5 },
      { itemId: 2, vector: tilt(1e-6, 0, 0.6, 0.8), entityId: null },
      ...Array.from({ length: 12 }, (_, k) => ({ itemId: 10 + k, vector: tilt(0, 0, 0.8, 0.6 - 0.01 * k), entityId: null })),
    ];
    expect(order(refine({ vector: query }, cands, entities))[0]).toBe(1);
  });

  it('lifts a poor photo of an entity by the entity\'s photo reference, for a photo query', () => {
    // Item 1 is a bad view of entity 5, whose other photos (the reference) are near the query photo.
    const query = v(1, 0, 0, 0);
    const entities: EntityReference[] = [{ entityId: 5, text: null, image: v(1, 0.15, 0, 0) }];
    const cands = [
      { itemId: 1, vector: v(1, 0.6, 0.3, 0), entityId: 5 },
      { itemId: 2, vector: v(1, 0, 0.55, 0.2), entityId: null },
      ...[3, 4, 5].map((id) => ({ itemId: id, vector: v(0.3, 0, 1, 0.2 * id), entityId: null })),
    ];
    expect(order(refine({ vector: query, photoOnly: true }, cands, []))[0]).toBe(2);
    expect(order(refine({ vector: query, photoOnly: true }, cands, entities))[0]).toBe(1);
  });

  it('lifts an unlabelled photo of an entity whose description matches the query over a closer look-alike', () => {
    // Entity 7's description matches the query; its photos look like item 1, which nobody labelled.
    const q = { vector: v(1, 0, 0, 0) };
    const entities: EntityReference[] = [
      { entityId: 7, text: v(1, 0, 0, 0), image: v(0, 0, 1, 0.1) },
      { entityId: 8, text: v(0, 1, 0, 0), image: v(0, 0, 0.1, 1) },
    ];
    const target = { itemId: 1, vector: v(0.3, 0, 1, 0.1), entityId: null };
    const lookAlike = { itemId: 2, vector: v(0.35, 0, 0.1, 1), entityId: null };
    const others = [3, 4, 5, 6].map((id) => ({ itemId: id, vector: v(0.1, 1, 0.3 * (id % 2), 0.3), entityId: null }));
    const p = { ...params, noneLevel: 1 };
    expect(refine(q, [target, lookAlike, ...others], [], p)[0]!.itemId).toBe(2);
    const out = refine(q, [target, lookAlike, ...others], entities, p);
    expect(out[0]!.itemId).toBe(1);
    expect(out[0]!.entityId).toBe(7);
    expect(out[0]!.linked).toBe(false);
    // It is the references that moved it: they gave it more than they gave the look-alike.
    expect(out[0]!.contributions.entity).toBeGreaterThan(out.find((c) => c.itemId === 2)!.contributions.entity);
  });

  it('gives a linked photo its entity and leaves a photo unlike every entity unattributed', () => {
    const q = { vector: v(1, 0, 0) };
    const entities: EntityReference[] = [
      { entityId: 1, text: v(1, 0, 0), image: v(0, 1, 0) },
      { entityId: 2, text: v(0, 0, 1), image: v(0, 0, 1) },
    ];
    const cands = [
      { itemId: 10, vector: v(0.2, 1, 0), entityId: 1 },
      { itemId: 11, vector: v(0.2, -0.2, -1), entityId: null },
      { itemId: 12, vector: v(0.1, 0.1, 1), entityId: null },
    ];
    const byId = new Map(refine(q, cands, entities, { ...params, noneLevel: 5 }).map((c) => [c.itemId, c]));
    expect(byId.get(10)!.entityId).toBe(1);
    expect(byId.get(10)!.linked).toBe(true);
    expect(byId.get(11)!.entityId).toBeNull();
  });
});
