/**
 * A person collection with faces on, for the chat's tests of unknown face groups: real photos in the
 * media store (so every platform can show their thumbnails) and synthetic faces written through
 * catalog.putFaces (what is under test is grouping, naming and access, not the face engine).
 */
import sharp from 'sharp';
import type { Grant } from '../../src/catalog/catalog.js';
import { FACE_MODEL_ID } from '../../src/faces/face-engine.js';
import type { Referent } from '../../src/open.js';
import { syntheticFace } from './synthetic-faces.js';

export interface FacePhoto<N extends string = string> {
  /** A name for the test (the key of `ids`). */
  name: N;
  /** Synthetic people on the photo (their axes): more than one makes a group photo. */
  people: number[];
}

let shade = 0;
let faceSeq = 0;

/**
 * Makes (or reuses) person collection `collection`, enabled for person search with faces on, granted
 * as `grants` say (collectionId filled in), and adds one photo per entry with its faces. Returns the
 * collection's id and each photo's item id by name.
 */
export async function addFacePeople<N extends string>(
  referent: Referent,
  collection: string,
  photos: ReadonlyArray<FacePhoto<N>>,
  grants: ReadonlyArray<Omit<Grant, 'collectionId'>> = [],
): Promise<{ collectionId: number; ids: Record<N, number> }> {
  const { catalog, media, encoder } = referent;
  const collectionId = (await catalog.ensureCollection(collection, 'person')).id;
  await catalog.setCollectionEnabled(collectionId, true);
  await catalog.setFacesEnabled(collectionId, true);
  for (const grant of grants) await catalog.grant({ ...grant, collectionId });
  const ids = {} as Record<N, number>;
  for (const photo of photos) {
    // A distinct picture per photo: the media store keys photos by their bytes.
    const grey = 40 + ((shade += 37) % 180);
    const bytes = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: grey, g: 255 - grey, b: (grey * 7) % 256 } } }).png().toBuffer();
    const stored = await media.put(bytes);
    const vector = new Float32Array(encoder.dim);
    vector[shade % encoder.dim] = 1;
    const item = await catalog.addItem({ collectionId, hash: stored.key, mediaKey: stored.key, width: stored.width, height: stored.height }, { modelId: encoder.modelId, data: vector });
    ids[photo.name] = item.id;
    if (!(await catalog.putFaces(item.id, FACE_MODEL_ID, photo.people.map((p) => syntheticFace(p, faceSeq++))))) throw new Error(`faces of ${photo.name} were not stored`);
  }
  return { collectionId, ids };
}
