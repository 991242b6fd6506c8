/**
 * Faces as evidence for search and "who is this", over what the catalogue stores (FaceCatalog):
 *
 * - A labelled person's face reference: the faces of the person's photos, fused as every reference
 *   is (src/method/fusion.ts: a consistency-weighted centre, so one odd photo counts little). On a
 *   photo with one face that face is the person; on a group photo, the face nearest the centre of
 *   the one-face photos; a person with group photos only has no reference, since nothing says which
 *   face is theirs (that photo's faces still match one by one in `matchingFaces`).
 * - Who is this: the labelled person whose reference is nearest the face, when it is at least the
 *   calibrated SAME_FACE_COSINE; otherwise nobody (null), never a forced guess.
 * - Which images show a face like the query's: every face is a candidate of its own (a group photo
 *   matches through the face that matches), and each image keeps its best pair.
 *
 * These read faces only: auditing the person query they answer is the caller's (as every person
 * query is audited where it is asked: src/chat/assistant.ts).
 */
import type { EntityCatalog, FaceCatalog, FaceHit } from '../catalog/catalog.js';
import { fuse } from '../method/fusion.js';
import { dot } from '../vectors.js';
import { SAME_FACE_COSINE } from './face-engine.js';

type Faces = Pick<FaceCatalog, 'searchFaces' | 'facesOf' | 'faceCollectionIds'>;

/** Nearest faces looked at per query face: the people they belong to are the candidates. */
const CANDIDATE_FACES = 32;

/**
 * The person's face from the faces of each of their photos (one array per photo, unit descriptors);
 * null when no photo says which face is theirs.
 */
export function faceReference(photos: ReadonlyArray<readonly Float32Array[]>): Float32Array | null {
  const single = photos.filter((faces) => faces.length === 1).map((faces) => faces[0]!);
  const seed = fuse(single);
  if (!seed) return null;
  const chosen = photos.flatMap((faces) => (faces.length === 0 ? [] : faces.length === 1 ? [faces[0]!] : [nearest(faces, seed.centre)]));
  return fuse(chosen)!.centre;
}

function nearest(faces: readonly Float32Array[], to: Float32Array): Float32Array {
  return faces.reduce((best, f) => (dot(f, to) > dot(best, to) ? f : best));
}

/** The face reference of a labelled person, from the faces stored for their live photos. */
export async function entityFaceReference(catalog: Faces & Pick<EntityCatalog, 'entityItems'>, entityId: number): Promise<Float32Array | null> {
  const photos = [];
  for (const item of await catalog.entityItems(entityId)) photos.push((await catalog.facesOf(item.id)).map((f) => f.descriptor));
  return faceReference(photos);
}

/** The collections among `collectionIds` (all when absent) that have faces on. */
async function faceCollections(catalog: Faces, collectionIds?: ReadonlySet<number>): Promise<Set<number>> {
  const on = await catalog.faceCollectionIds();
  return new Set(collectionIds ? on.filter((id) => collectionIds.has(id)) : on);
}

export interface Identified {
  entityId: number;
  /** Cosine of the face and the person's face reference. */
  similarity: number;
}

/**
 * The labelled person the face belongs to, among the collections given that have faces on: the one
 * whose face reference is nearest, when at least `threshold` (default SAME_FACE_COSINE); else null.
 */
export async function whoIsThis(
  catalog: Faces & Pick<EntityCatalog, 'entityItems'>,
  descriptor: Float32Array,
  options: { collectionIds?: ReadonlySet<number>; threshold?: number } = {},
): Promise<Identified | null> {
  const collections = await faceCollections(catalog, options.collectionIds);
  if (collections.size === 0) return null;
  const hits = await catalog.searchFaces(descriptor, CANDIDATE_FACES, collections);
  const candidates = [...new Set(hits.flatMap((h) => (h.entityId === null ? [] : [h.entityId])))];
  let best: Identified | null = null;
  for (const entityId of candidates) {
    const reference = await entityFaceReference(catalog, entityId);
    if (!reference) continue;
    const similarity = dot(descriptor, reference);
    if (!best || similarity > best.similarity || (similarity === best.similarity && entityId < best.entityId)) best = { entityId, similarity };
  }
  return best && best.similarity >= (options.threshold ?? SAME_FACE_COSINE) ? best : null;
}

export interface FaceMatch {
  /** The image's face that matched best, with its box and the image's entity. */
  face: FaceHit;
  /** Which of the query's faces it matched (their order as given). */
  queryFace: number;
  similarity: number;
}

/**
 * Images of the collections given (with faces on) showing a face like one of the query's, each with
 * its best pair, best first; at most `k` nearest faces per query face are looked at.
 */
export async function matchingFaces(catalog: Faces, queryFaces: readonly Float32Array[], options: { collectionIds?: ReadonlySet<number>; k?: number } = {}): Promise<FaceMatch[]> {
  const collections = await faceCollections(catalog, options.collectionIds);
  if (collections.size === 0) return [];
  const best = new Map<number, FaceMatch>();
  for (const [queryFace, descriptor] of queryFaces.entries()) {
    for (const face of await catalog.searchFaces(descriptor, options.k ?? CANDIDATE_FACES, collections)) {
      const seen = best.get(face.itemId);
      if (!seen || face.similarity > seen.similarity) best.set(face.itemId, { face, queryFace, similarity: face.similarity });
    }
  }
  return [...best.values()].sort((a, b) => b.similarity - a.similarity || a.face.itemId - b.face.itemId);
}
