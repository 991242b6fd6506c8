import { describe, expect, it } from 'vitest';
import { DEFAULT_PIPELINE } from '../../src/method/defaults.js';
import { mergeEntityHits, refinedRanking, type PipelineParams, type RetrievalParts } from '../../src/method/pipeline.js';
import { detailScore, entityScore, float32Vectors, profile, refine as refineWithVectors, type EntityReference, type RefineParams, type RefineQuery } from '../../src/method/refine.js';
import { groupByEntity } from '../../src/search/search.js';
import { normalize } from '../../src/vectors.js';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));

/** refine() on hand-made candidates that carry their vectors. */
function refine(query: RefineQuery, cands: ReadonlyArray<{ itemId: number; vector: Float32Array; entityId: number | null }>, entities: EntityReference[], p: RefineParams) {
  const vectors = float32Vectors(new Map(cands.map((c) => [c.itemId, c.vector])));
  return refineWithVectors(query, cands.map(({ itemId, entityId }) => ({ itemId, entityId })), vectors, entities, p);
}

// The defaults, with a low "none" level and small depths so hand-made examples stay small.
const params: PipelineParams = { ...DEFAULT_PIPELINE, noneLevel: 1, minCandidates: 2, referenceDepth: 4, imagesPerEntity: 4 };

describe('entity score terms', () => {
  it('detail coverage is the mean over query details of the best entity detail', () => {
    const q = [v(1, 0, 0), v(0, 1, 0)];
    const e = [v(1, 0, 0), v(0, 0.6, 0.8)];
    expect(detailScore(q, e)).toBeCloseTo((1 + 0.6) / 2, 6);
    expect(detailScore([], e)).toBeNaN();
    expect(detailScore(q, [])).toBeNaN();
  });

  it('is the weighted mean of the terms the entity has', () => {
    const query = { vector: v(1, 0, 0), details: [] };
    const both: EntityReference = { entityId: 1, text: v(1, 0, 0), image: v(0, 1, 0), details: [] };
    expect(entityScore(query, both, { textWeight: 3, imageWeight: 1, detailWeight: 1 })).toBeCloseTo(3 / 4, 6);
    const photoOnly: EntityReference = { entityId: 2, text: null, image: v(0.6, 0.8, 0), details: [] };
    expect(entityScore(query, photoOnly, { textWeight: 3, imageWeight: 1, detailWeight: 1 })).toBeCloseTo(0.6, 6);
    expect(entityScore(query, { entityId: 3, text: null, image: null, details: [] }, params)).toBeNaN();
  });

  it('profiles keep the top k and leave the rest of the mass to "none"', () => {
    const p = profile([3, 0, 2, NaN], 2, 1, 0);
    expect([...p.keys()]).toEqual([0, 2]);
    const total = [...p.values()].reduce((a, b) => a + b, 0);
    const expected = (Math.exp(3) + Math.exp(2)) / (Math.exp(3) + Math.exp(2) + Math.exp(0));
    expect(total).toBeCloseTo(expected, 10);
  });
});

describe('refine', () => {
  it('with no references, keeps the plain cosine order', () => {
    const q = { vector: v(1, 0, 0), details: [] };
    const cands = [v(0.5, 1, 0), v(1, 0.1, 0), v(1, 0.5, 0)].map((vector, i) => ({ itemId: i, vector, entityId: null }));
    const out = refine(q, cands, [], params);
    expect(out.map((c) => c.itemId)).toEqual([1, 2, 0]);
    expect(out.every((c) => c.contributions.entity === 0 && c.contributions.refspace === 0 && c.entityId === null)).toBe(true);
  });

  it('lifts an unlabelled photo of an entity whose reference matches the query over a closer look-alike', () => {
    // Query: text side. Entity 7: description matches the query; its photo reference is "look A".
    const q = { vector: v(1, 0, 0, 0), details: [v(1, 0, 0, 0)] };
    const entities: EntityReference[] = [
      { entityId: 7, text: v(1, 0, 0, 0), image: v(0, 0, 1, 0.1), details: [v(1, 0, 0, 0)] },
      { entityId: 8, text: v(0, 1, 0, 0), image: v(0, 0, 0.1, 1), details: [v(0, 1, 0, 0)] },
    ];
    const target = { itemId: 1, vector: v(0.3, 0, 1, 0.1), entityId: null }; // looks like entity 7's photos
    const lookAlike = { itemId: 2, vector: v(0.35, 0, 0.1, 1), entityId: null }; // slightly closer to the query, looks like 8
    const others = [3, 4, 5, 6].map((id) => ({ itemId: id, vector: v(0.1, 1, 0.3 * (id % 2), 0.3), entityId: null }));
    const plain = refine(q, [target, lookAlike, ...others], [], params);
    expect(plain[0]!.itemId).toBe(2);
    const out = refine(q, [target, lookAlike, ...others], entities, params);
    expect(out[0]!.itemId).toBe(1);
    expect(out[0]!.entityId).toBe(7);
    expect(out[0]!.linked).toBe(false);
    expect(out[0]!.contributions.entity + out[0]!.contributions.refspace).toBeGreaterThan(0);
  });

  it('gives a linked photo its entity and leaves a photo unlike every entity unattributed', () => {
    const q = { vector: v(1, 0, 0), details: [] };
    const entities: EntityReference[] = [
      { entityId: 1, text: v(1, 0, 0), image: v(0, 1, 0), details: [] },
      { entityId: 2, text: v(0, 0, 1), image: v(0, 0, 1), details: [] },
    ];
    const cands = [
      { itemId: 10, vector: v(0.2, 1, 0), entityId: 1 },
      { itemId: 11, vector: v(0.2, -0.2, -1), entityId: null },
      { itemId: 12, vector: v(0.1, 0.1, 1), entityId: null },
    ];
    const out = refine(q, cands, entities, { ...params, noneLevel: 5 });
    const byId = new Map(out.map((c) => [c.itemId, c]));
    expect(byId.get(10)!.entityId).toBe(1);
    expect(byId.get(10)!.linked).toBe(true);
    expect(byId.get(11)!.entityId).toBeNull();
  });
});

describe('refined ranking pipeline', () => {
  it('brings in the images of entities whose reference matches, even past the cosine candidates', () => {
    const images = new Map([
      [1, v(1, 0.2, 0)],
      [2, v(1, 0.3, 0)],
      [3, v(0.1, 0, 1)], // far from the query by cosine, but entity 5's photo
    ]);
    const parts: RetrievalParts = {
      searchImages: () => [1, 2].map((itemId) => ({ itemId, score: 0.9 })),
      searchEntities: () => [5],
      imageVectors: (ids) => float32Vectors(new Map(ids.flatMap((id) => (images.has(id) ? [[id, images.get(id)!] as const] : [])))),
      linkedEntity: (id) => (id === 3 ? 5 : null),
      reference: (id) => (id === 5 ? { entityId: 5, text: v(1, 0, 0), image: v(0.1, 0, 1), details: [] } : undefined),
      entityImages: (id) => (id === 5 ? [3] : []),
    };
    const out = refinedRanking(parts, { vector: v(1, 0, 0), details: [] }, 1, params);
    expect(out.map((c) => c.itemId).sort()).toEqual([1, 2, 3]);
    expect(out.find((c) => c.itemId === 3)!.entityId).toBe(5);
  });

  it('merges text and photo reference hits alternately without repeats', () => {
    expect(mergeEntityHits([1, 2, 3], [2, 4], 10)).toEqual([1, 2, 4, 3]);
    expect(mergeEntityHits([1, 2, 3], [4, 5], 3)).toEqual([1, 4, 2]);
  });

  it('groups linked images by entity and keeps unlinked ones apart', () => {
    const ranked = [
      { itemId: 1, entityId: 9, linked: true },
      { itemId: 2, entityId: 9, linked: false },
      { itemId: 3, entityId: 9, linked: true },
      { itemId: 4, entityId: null, linked: false },
      { itemId: 5, entityId: 8, linked: true },
    ];
    expect(groupByEntity(ranked, 10).map((g) => [g.hit.itemId, g.more])).toEqual([
      [1, [3]],
      [2, []],
      [4, []],
      [5, []],
    ]);
    expect(groupByEntity(ranked, 2).map((g) => g.hit.itemId)).toEqual([1, 2]);
  });
});
