import { describe, expect, it } from 'vitest';
import { DEFAULT_PIPELINE } from '../../src/method/defaults.js';
import { mergeEntityHits, refinedRanking, type PipelineParams, type RetrievalParts } from '../../src/method/pipeline.js';
import { float32Vectors } from '../../src/method/refine.js';
import { groupByEntity } from '../../src/search/search.js';
import { normalize } from '../../src/vectors.js';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));
const params: PipelineParams = { ...DEFAULT_PIPELINE, minCandidates: 2, referenceDepth: 4, imagesPerEntity: 4 };

describe('refined ranking pipeline', () => {
  it('brings in the images of entities whose reference matches, even past the cosine candidates', async () => {
    const images = new Map([
      [1, v(1, 0.2, 0)],
      [2, v(1, 0.3, 0)],
      [3, v(0.1, 0, 1)], // far from the query by cosine, but entity 5's photo
    ]);
    const parts: RetrievalParts = {
      searchImages: async () => [1, 2].map((itemId) => ({ itemId, score: 0.9 })),
      searchEntities: async () => [5],
      imageVectors: async (ids) => float32Vectors(new Map(ids.flatMap((id) => (images.has(id) ? [[id, images.get(id)!] as const] : [])))),
      linkedEntity: (id) => (id === 3 ? 5 : null),
      reference: (id) => (id === 5 ? { entityId: 5, text: v(1, 0, 0), image: v(0.1, 0, 1) } : undefined),
      entityImages: (id) => (id === 5 ? [3] : []),
    };
    const out = await refinedRanking(parts, { vector: v(1, 0, 0) }, 1, params);
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
