import { describe, expect, it } from 'vitest';
import type { EntityMaterial } from '../../src/catalog/catalog.js';
import { buildReference } from '../../src/method/reference.js';
import type { ReferenceEntry } from '../../src/references/references.js';
import { carrier, explain } from '../../src/search/explain.js';
import { normalize } from '../../src/vectors.js';

const v = (...xs: number[]) => normalize(Float32Array.from(xs));

/** A washer: two photos, one description, and a detail phrase that matches everything white. */
function washer(): ReferenceEntry {
  const material: EntityMaterial = {
    entity: { id: 7, collectionId: 1, label: 'P-70112', kind: 'part', createdAt: 0 },
    images: [
      { itemId: 4, vector: v(1, 0.2, 0) },
      { itemId: 14, vector: v(1, 0.1, 0.1) },
    ],
    texts: [{ textId: 1, body: 'white nylon washer', source: 'describe', vector: v(0.6, 0, 1) }],
    phrases: [{ textId: 1, body: 'a white washer', vector: v(0.9, 0, 1) }],
  };
  const fusion = { tau: 0.1, rounds: 2 };
  return { entity: material.entity, material, ref: buildReference({ entityId: 7, images: material.images.map((i) => i.vector), texts: material.texts.map((t) => t.vector) }, fusion) };
}

const base = { initial: 0.93, linked: true, feedback: 0, itemId: 99 };

describe('explain', () => {
  it('explains a photo query by the entity\'s photos, never by a description or a detail', () => {
    const why = explain({ ...base, query: v(1, 0.1, 0.12), photoOnly: true, carriedBy: 'entity', entry: washer() });
    expect(why.description).toBeNull();
    expect(why.photo?.itemId).toBe(14);
    expect(why.summary).toBe(`is P-70112; its photo #14 matches (${why.photo!.score.toFixed(2)})`);
    expect(why.summary).not.toMatch(/detail|description|washer/);
  });

  it('names the matching description for a text query its entity carried', () => {
    const why = explain({ ...base, query: v(0.6, 0, 1), photoOnly: false, carriedBy: 'entity', entry: washer() });
    expect(why.summary).toBe('is P-70112; its description "white nylon washer" matches');
    expect(why).not.toHaveProperty('detail');
  });

  it('credits the image itself when its own similarity carried it', () => {
    const why = explain({ ...base, query: v(1, 0.2, 0), photoOnly: true, carriedBy: 'similarity', entry: washer(), itemId: 4 });
    expect(why.summary).toBe('is P-70112; the image itself matches (0.93)');
    expect(why.photo?.itemId).toBe(14);
  });

  it('calls a hit carried by similarity when the references add less than its own share', () => {
    expect(carrier({ initial: 2, entity: 0, feedback: 0 })).toBe('similarity');
    expect(carrier({ initial: 2, entity: 1.5, feedback: 0 })).toBe('similarity');
    expect(carrier({ initial: 0.5, entity: 1.5, feedback: 0 })).toBe('entity');
    expect(carrier({ initial: 0.5, entity: 1.5, feedback: 3 })).toBe('feedback');
  });
});
