/**
 * Unknown faces, grouped so a team can name them. A face is unknown when its image is linked to no
 * entity and it matches no labelled person's face reference (src/faces/face-match.ts) at
 * SAME_FACE_COSINE. Unknown faces are grouped by single linkage at the same threshold: two faces at or
 * above it are in one group, and so is everything linked to them through such pairs. That is
 * deterministic (the order faces are read in changes nothing) and explainable ("each face is within
 * 0.96 of another in its group"); its known weakness is chaining, where a run of close pairs joins
 * two people, which the high threshold keeps rare (see docs/faces.md, Measured).
 *
 * All pairs are compared: O(n²) in the unknown faces, so at most MAX_UNKNOWN_FACES faces of a
 * collection's unlabelled photos are read (by face id, oldest first), and the answer says when there
 * were more.
 *
 * A group's id is its smallest face id: stable across calls while its faces stay, so a group listed
 * once can be named by that id later. Naming links every image of the group to the label's entity,
 * after which its faces are no longer unknown.
 */
import type { EntityCatalog, FaceBox, FaceCatalog, StoredFace } from '../catalog/catalog.js';
import { ErrorCode, ReferentError } from '../errors.js';
import { dot } from '../vectors.js';
import { SAME_FACE_COSINE } from './face-engine.js';
import { entityFaceReference } from './face-match.js';

/**
 * Unknown faces grouped per collection at most. The pairs are compared on the thread that answers chat:
 * 3,000 faces are 4.5 million dot products of 128 numbers: 0.7 s on the 2-core development machine,
 * shared and loaded (load average 6), and 5,000 took 2.3 s there.
 */
export const MAX_UNKNOWN_FACES = 3000;
/** Faces read per catalogue page. */
const PAGE = 500;

export interface GroupFace {
  faceId: number;
  itemId: number;
  box: FaceBox;
  score: number;
}

export interface FaceGroup {
  /** The smallest face id in the group. */
  id: number;
  collectionId: number;
  /** By face id. */
  faces: GroupFace[];
  /** The face the detector was surest of (ties: the smaller face id): the group's picture. */
  sample: GroupFace;
  /** Distinct images the group's faces are on, ascending. */
  itemIds: number[];
}

/**
 * Groups faces by single linkage at `threshold` (unit descriptors; cosine = dot), leaving out every
 * face within `threshold` of one of `known` (labelled people's face references). Largest groups
 * first (by images, then faces), ties by id.
 */
export function groupFaces(faces: readonly StoredFace[], known: readonly Float32Array[] = [], threshold = SAME_FACE_COSINE): FaceGroup[] {
  const unknown = [...faces].filter((f) => !known.some((r) => dot(f.descriptor, r) >= threshold)).sort((a, b) => a.id - b.id);
  const parent = unknown.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let i = 0; i < unknown.length; i++) {
    for (let j = i + 1; j < unknown.length; j++) {
      if (dot(unknown[i]!.descriptor, unknown[j]!.descriptor) < threshold) continue;
      const [a, b] = [root(i), root(j)];
      // The smaller index stays the root: the root is the group's smallest face id.
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  }
  const members = new Map<number, StoredFace[]>();
  unknown.forEach((f, i) => {
    const r = root(i);
    members.set(r, [...(members.get(r) ?? []), f]);
  });
  const groups = [...members.values()].map((list): FaceGroup => {
    const faces = list.map((f) => ({ faceId: f.id, itemId: f.itemId, box: f.box, score: f.score }));
    const sample = faces.reduce((best, f) => (f.score > best.score ? f : best));
    return { id: faces[0]!.faceId, collectionId: list[0]!.collectionId, faces, sample, itemIds: [...new Set(faces.map((f) => f.itemId))].sort((a, b) => a - b) };
  });
  return groups.sort((a, b) => b.itemIds.length - a.itemIds.length || b.faces.length - a.faces.length || a.id - b.id);
}

export interface UnknownFaces {
  groups: FaceGroup[];
  /** Unknown faces grouped. */
  faces: number;
  /** True when the collection held more than MAX_UNKNOWN_FACES unknown faces: the rest wait for these to be named. */
  truncated: boolean;
}

type Catalog = Pick<FaceCatalog, 'facesIn' | 'facesOf' | 'searchFaces' | 'faceCollectionIds'> & Pick<EntityCatalog, 'entityItems'>;

/**
 * The unknown faces of one collection, grouped. Reads the collection's faces a page at a time; the
 * faces on labelled images name the people whose references unknown faces are checked against.
 * (A store query for "faces of unlabelled images" would save reading the labelled ones.)
 */
export async function unknownFaceGroups(catalog: Catalog, collectionId: number, options: { maxFaces?: number; threshold?: number } = {}): Promise<UnknownFaces> {
  const max = options.maxFaces ?? MAX_UNKNOWN_FACES;
  const unlabelled: StoredFace[] = [];
  const people = new Set<number>();
  let truncated = false;
  for (let after = 0; ; ) {
    const page = await catalog.facesIn(collectionId, after, PAGE);
    for (const f of page) {
      if (f.entityId !== null) people.add(f.entityId);
      else if (unlabelled.length < max) unlabelled.push(f);
      else truncated = true;
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.id;
  }
  const known: Float32Array[] = [];
  for (const id of [...people].sort((a, b) => a - b)) {
    const reference = await entityFaceReference(catalog, id);
    if (reference) known.push(reference);
  }
  const groups = groupFaces(unlabelled, known, options.threshold);
  return { groups, faces: groups.reduce((n, g) => n + g.faces.length, 0), truncated };
}

/**
 * Names a group: links each of its images to the label's entity in the group's collection (made when
 * new), one entity change per image as every link. NOT_FOUND when no unknown group has this id now
 * (named already, or its faces changed).
 */
export async function nameFaceGroup(
  catalog: Catalog & Pick<EntityCatalog, 'ensureEntity' | 'linkItem'>,
  collectionId: number,
  groupId: number,
  label: string,
): Promise<{ group: FaceGroup; entityId: number }> {
  const group = (await unknownFaceGroups(catalog, collectionId)).groups.find((g) => g.id === groupId);
  if (!group) throw new ReferentError(ErrorCode.NotFound, `There is no unknown face group ${groupId} here now (named already, or its photos changed): list them again.`);
  const entity = await catalog.ensureEntity(collectionId, label);
  for (const itemId of group.itemIds) await catalog.linkItem(itemId, entity.id);
  return { group, entityId: entity.id };
}
