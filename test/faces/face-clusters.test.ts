/**
 * Grouping unknown faces, on synthetic unit descriptors whose cosines are set exactly: who is
 * grouped at SAME_FACE_COSINE and who is not, chains, stable ids whatever the order, samples, and
 * faces of labelled people left out.
 */
import { describe, expect, it } from 'vitest';
import type { StoredFace } from '../../src/catalog/catalog.js';
import { SAME_FACE_COSINE } from '../../src/faces/face-engine.js';
import { groupFaces } from '../../src/faces/face-clusters.js';

const DIM = 128;

/** A unit vector at cosine `c` from axis `axis` (its other part along axis + 64, orthogonal to every axis below 64). */
function near(axis: number, c: number, side = 0): Float32Array {
  const v = new Float32Array(DIM);
  v[axis] = c;
  v[64 + side] = Math.sqrt(1 - c * c);
  return v;
}

let nextId = 1;
function face(descriptor: Float32Array, itemId: number, score = 0.9, id = nextId++): StoredFace {
  return { id, itemId, collectionId: 7, entityId: null, box: { x: id, y: 0, width: 40, height: 40 }, score, descriptor };
}

describe('groupFaces', () => {
  it('groups faces at or above SAME_FACE_COSINE and keeps others apart, largest first', () => {
    nextId = 1;
    const a = [face(near(0, 1), 10), face(near(0, 0.99, 1), 11), face(near(0, 0.985, 2), 12)];
    const b = [face(near(1, 1), 20), face(near(1, 0.99, 3), 21)];
    const lone = face(near(2, 1), 30);
    const groups = groupFaces([lone, ...b, ...a]);
    expect(groups.map((g) => g.faces.map((f) => f.faceId))).toEqual([[1, 2, 3], [4, 5], [6]]);
    expect(groups.map((g) => g.itemIds)).toEqual([[10, 11, 12], [20, 21], [30]]);
    expect(groups.every((g) => g.collectionId === 7)).toBe(true);
  });

  it('puts the threshold itself inside a group and just under it outside', () => {
    nextId = 1;
    // Two axes' worth: x·y = c exactly for x = e0, y = c e0 + s e64.
    const x = face(near(0, 1), 1);
    const at = face(near(0, SAME_FACE_COSINE + 1e-6), 2);
    const under = face(near(0, SAME_FACE_COSINE - 0.001), 3);
    expect(groupFaces([x, at]).map((g) => g.faces.length)).toEqual([2]);
    expect(groupFaces([x, under]).map((g) => g.faces.length)).toEqual([1, 1]);
    // A lower threshold given explicitly joins them.
    expect(groupFaces([x, under], [], 0.9).map((g) => g.faces.length)).toEqual([2]);
  });

  it('links through a chain (single linkage), whatever order the faces come in', () => {
    nextId = 1;
    // p·q and q·r are 0.97; p·r is about 0.88: single linkage makes one group of three.
    const theta = Math.acos(0.97);
    const at = (t: number) => {
      const v = new Float32Array(DIM);
      v[0] = Math.cos(t);
      v[1] = Math.sin(t);
      return v;
    };
    const p = face(at(0), 1, 0.7);
    const q = face(at(theta), 2, 0.95);
    const r = face(at(2 * theta), 3, 0.8);
    for (const order of [[p, q, r], [r, q, p], [q, r, p]]) {
      const [group, ...rest] = groupFaces(order);
      expect(rest).toEqual([]);
      expect(group!.id).toBe(1);
      expect(group!.sample.faceId).toBe(2);
    }
  });

  it('gives each group its smallest face id, stable when faces are added or the order changes', () => {
    nextId = 100;
    const faces = [face(near(3, 1), 1), face(near(3, 0.99, 1), 2), face(near(4, 1), 3)];
    const before = groupFaces(faces).map((g) => g.id);
    const later = face(near(3, 0.98, 2), 4, 0.9, 500);
    const after = groupFaces([later, ...faces].reverse()).map((g) => g.id);
    expect(before).toEqual([100, 102]);
    expect(after).toEqual([100, 102]);
  });

  it('samples the face the detector was surest of, and counts a photo once', () => {
    nextId = 1;
    const [g] = groupFaces([face(near(0, 1), 5, 0.6), face(near(0, 0.99, 1), 5, 0.99), face(near(0, 0.98, 2), 6, 0.8)]);
    expect(g!.sample).toMatchObject({ faceId: 2, itemId: 5, score: 0.99 });
    expect(g!.itemIds).toEqual([5, 6]);
  });

  it("leaves out faces within the threshold of a labelled person's reference", () => {
    nextId = 1;
    const known = face(near(0, 0.99), 1);
    const stranger = face(near(1, 1), 2);
    const unsure = face(near(0, SAME_FACE_COSINE - 0.01), 3);
    const groups = groupFaces([known, stranger, unsure], [near(0, 1)]);
    expect(groups.map((g) => g.id).sort()).toEqual([2, 3]);
  });

  it('answers nothing for no faces', () => {
    expect(groupFaces([])).toEqual([]);
  });
});
