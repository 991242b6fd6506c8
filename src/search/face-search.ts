/**
 * Faces in search (docs/faces.md, "Using it"). Two things, both only over person collections with
 * faces on, and only when the process was given a face runtime (SearchDeps.faces):
 *
 * - A posted photo's faces are found and each is searched on its own (a group photo gives one
 *   candidate per face). An image showing one of them at or above SAME_FACE_COSINE is a face match:
 *   face matches come first, best cosine first (one card per labelled person, their other matching
 *   photos folded into it), then the rest of the ranking as it was. Below the threshold a face is
 *   no evidence, and the ranking is left alone. More like this on an image does the same with the
 *   image's faces as stored (likedFaces): no engine runs, so it needs no face runtime loaded.
 * - An image nobody labelled whose face matches a labelled person's face reference (face-match.ts)
 *   names that person as a suggestion on its card ("looks like Ana by face (0.97)"), so That's it
 *   links it as it links any suggested entity. A photo on which two known people match suggests
 *   nobody: That's it would link the whole photo to one of them.
 *
 * Both are person queries; auditing them is the caller's (src/chat/assistant.ts audits before searching).
 */
import type { Catalog, Item } from '../catalog/catalog.js';
import { type DetectedFace, type FaceBox, type FacesFound, SAME_FACE_COSINE } from '../faces/face-engine.js';
import { matchingFaces, whoIsThis } from '../faces/face-match.js';
import type { SearchHit } from './search.js';

/** What search needs of the face runtime (FaceRuntime): the faces on a posted photo. */
export interface FaceSearchDeps {
  runtime: { detect(image: Uint8Array): Promise<FacesFound> };
}

/** Where a face sits across its photo, for a card that has no picture of its box. */
export type FacePlace = 'left' | 'centre' | 'right';

/** A face searched for: one of a posted photo's (as detected) or of a liked image's (as stored). */
export type QueryFace = Pick<DetectedFace, 'box' | 'descriptor'>;

export interface FaceEvidence {
  /** Cosine of the two face descriptors (or of the face and the person's face reference). */
  cosine: number;
  /**
   * Which face of the query matched (a posted photo's, in the order detected; a liked image's, in
   * the order stored), or null for a suggestion by face reference.
   */
  queryFace: number | null;
  /** The query's face that matched, in the query image's pixels; null for a suggestion. */
  queryBox: FaceBox | null;
  /** The matching face on this image, in the image's pixels (as an upright viewer sees it). */
  itemFace: FaceBox;
  /** Where that face is on the image, when the image shows more than one face; else null. */
  place: FacePlace | null;
}

const round = (x: number) => Number(x.toFixed(3));

export function facePlace(box: FaceBox, width: number): FacePlace {
  const centre = (box.x + box.width / 2) / Math.max(1, width);
  return centre < 1 / 3 ? 'left' : centre > 2 / 3 ? 'right' : 'centre';
}

/** The person collections among those searched (all when absent) that have faces on. */
export async function faceCollectionsOf(catalog: Catalog, collectionIds: ReadonlySet<number> | undefined): Promise<Set<number>> {
  const on = await catalog.faceCollectionIds();
  return new Set(collectionIds ? on.filter((id) => collectionIds.has(id)) : on);
}

/** "face matches (0.97), the face at left" */
export function faceSummary(face: FaceEvidence): string {
  return `face matches (${face.cosine.toFixed(2)})${face.place ? `, the face at ${face.place}` : ''}`;
}

async function evidence(catalog: Catalog, item: Item, itemFace: FaceBox, cosine: number, query: { index: number; box: FaceBox } | null): Promise<FaceEvidence> {
  const several = (await catalog.facesOf(item.id)).length > 1;
  return { cosine: round(cosine), queryFace: query?.index ?? null, queryBox: query?.box ?? null, itemFace, place: several ? facePlace(itemFace, item.width) : null };
}

/**
 * The faces of an image as the catalogue stores them (none when its collection has faces off or it
 * was not processed yet): More like this searches with them, without running the engine.
 */
export async function likedFaces(catalog: Pick<Catalog, 'facesOf'>, itemId: number): Promise<QueryFace[]> {
  return (await catalog.facesOf(itemId)).map((f) => ({ box: f.box, descriptor: f.descriptor }));
}

/**
 * The hits with the images showing the query's faces put first (see the top of the file). `hits`
 * is the ranking without faces, best first; the answer has at most `limit` hits. `exclude` (the
 * liked image of More like this, whose own faces match it best) is never a hit nor among `more`.
 */
export async function withFaceMatches(
  catalog: Catalog,
  queryFaces: readonly QueryFace[],
  collections: ReadonlySet<number>,
  hits: SearchHit[],
  limit: number,
  exclude?: number,
): Promise<SearchHit[]> {
  if (queryFaces.length === 0 || collections.size === 0) return hits;
  const matches = (await matchingFaces(catalog, queryFaces.map((f) => f.descriptor), { collectionIds: collections })).filter((m) => m.similarity >= SAME_FACE_COSINE && m.face.itemId !== exclude);
  if (matches.length === 0) return hits;
  const items = await catalog.getItems(matches.map((m) => m.face.itemId));
  const byItem = new Map(hits.map((h) => [h.itemId, h]));
  const first: SearchHit[] = [];
  const byEntity = new Map<number, SearchHit>();
  const taken = new Set<number>(exclude === undefined ? [] : [exclude]);
  for (const m of matches) {
    const item = items.get(m.face.itemId);
    if (!item) continue;
    taken.add(item.id);
    const group = item.entityId === null ? undefined : byEntity.get(item.entityId);
    if (group) {
      group.more.push(item.id);
      continue;
    }
    const face = await evidence(catalog, item, m.face.box, m.similarity, { index: m.queryFace, box: queryFaces[m.queryFace]!.box });
    const seen = byItem.get(item.id);
    const base = seen?.why ?? { carriedBy: 'similarity' as const, entity: null, description: null, photo: null, feedback: null, summary: '' };
    const rest = seen?.why?.summary;
    const hit: SearchHit = {
      itemId: item.id,
      score: seen?.score ?? m.similarity,
      item,
      components: seen?.components ?? null,
      why: { ...base, carriedBy: 'face', face, summary: rest ? `${faceSummary(face)}; ${rest}` : faceSummary(face) },
      more: [],
    };
    first.push(hit);
    if (item.entityId !== null) byEntity.set(item.entityId, hit);
  }
  // The rest as ranked, less what the face matches took (a matched person's other photos join their card).
  const rest: SearchHit[] = [];
  for (const h of hits) {
    if (taken.has(h.itemId)) continue;
    const group = h.item.entityId === null ? undefined : byEntity.get(h.item.entityId);
    const more = h.more.filter((id) => !taken.has(id));
    if (group) {
      group.more.push(h.itemId, ...more.filter((id) => !group.more.includes(id)));
      continue;
    }
    rest.push(more.length === h.more.length ? h : { ...h, more });
  }
  return [...first, ...rest].slice(0, limit);
}

/**
 * Images nobody labelled, in collections with faces on, whose face is a labelled person's (their
 * face reference at or above SAME_FACE_COSINE): the person is suggested on the card ("looks like
 * Ana by face"), so That's it links the image to them. Other hits are returned as they are.
 */
export async function withFaceSuggestions(catalog: Catalog, collections: ReadonlySet<number>, hits: SearchHit[]): Promise<SearchHit[]> {
  if (collections.size === 0) return hits;
  const out: SearchHit[] = [];
  const reading = remembered(catalog);
  for (const hit of hits) {
    if (hit.item.entityId !== null || !collections.has(hit.item.collectionId)) {
      out.push(hit);
      continue;
    }
    const faces = await catalog.facesOf(hit.itemId);
    let best: { entityId: number; similarity: number; box: FaceBox } | null = null;
    const people = new Set<number>();
    for (const f of faces) {
      const who = await whoIsThis(reading, f.descriptor, { collectionIds: collections });
      if (who) people.add(who.entityId);
      if (who && (!best || who.similarity > best.similarity)) best = { ...who, box: f.box };
    }
    // A photo showing two known people is not one person's photo: nothing is suggested for it.
    const entity = best && people.size === 1 ? await catalog.getEntity(best.entityId) : null;
    if (!best || !entity) {
      out.push(hit);
      continue;
    }
    const face = hit.why?.face && hit.why.face.queryFace !== null ? hit.why.face : { cosine: round(best.similarity), queryFace: null, queryBox: null, itemFace: best.box, place: faces.length > 1 ? facePlace(best.box, hit.item.width) : null };
    const says = `looks like ${entity.label} by face (${best.similarity.toFixed(2)})${faces.length > 1 && face.queryFace === null ? `, the face at ${face.place}` : ''}`;
    const base = hit.why ?? { carriedBy: 'face' as const, entity: null, description: null, photo: null, feedback: null, summary: '' };
    // What the image's look said about another entity gives way to what its face says.
    const parts = base.summary.split('; ').filter((p) => p && !/^(looks like|is) /.test(p));
    parts.splice(parts[0]?.startsWith('face matches') ? 1 : 0, 0, says);
    out.push({ ...hit, why: { ...base, entity: { id: entity.id, label: entity.label, linked: false }, face, summary: parts.join('; ') } });
  }
  return out;
}

/** The catalogue's faces and entity photos, each read once per search (every hit's faces meet the same people's references). */
function remembered(catalog: Catalog): Pick<Catalog, 'searchFaces' | 'faceCollectionIds' | 'facesOf' | 'entityItems'> {
  const faces = new Map<number, ReturnType<Catalog['facesOf']>>();
  const photos = new Map<number, ReturnType<Catalog['entityItems']>>();
  let on: ReturnType<Catalog['faceCollectionIds']> | undefined;
  return {
    searchFaces: (descriptor, k, collectionIds) => catalog.searchFaces(descriptor, k, collectionIds),
    faceCollectionIds: () => (on ??= catalog.faceCollectionIds()),
    facesOf: (itemId) => faces.get(itemId) ?? faces.set(itemId, catalog.facesOf(itemId)).get(itemId)!,
    entityItems: (entityId) => photos.get(entityId) ?? photos.set(entityId, catalog.entityItems(entityId)).get(entityId)!,
  };
}
