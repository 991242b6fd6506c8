/**
 * Checks and orderings both catalogue engines share for faces (the FaceCatalog of catalog.ts is
 * served by sqlite-faces.ts and postgres/pg-face-store.ts; test/catalog/face-catalog.contract.ts runs
 * it on both), so they refuse the same input with the same error and order ties alike.
 */
import { ErrorCode, ReferentError } from '../../errors.js';
import type { Collection, FaceHit, NewFace } from '../catalog.js';
import { checkVector } from './item-store.js';

/** Length of a face descriptor (face-api's recognition net). PostgreSQL's column is vector(128). */
export const FACE_DIM = 128;

/** Faces stored per image at most: a crowd photo is still one image, and search stays bounded. */
export const MAX_FACES_PER_IMAGE = 200;

/** Descriptors FACE_DIM finite numbers (MODEL_MISMATCH), boxes and scores finite (USAGE_INVALID). */
export function checkFaces(faces: readonly NewFace[]): void {
  if (faces.length > MAX_FACES_PER_IMAGE) {
    throw new ReferentError(ErrorCode.UsageInvalid, `An image may keep at most ${MAX_FACES_PER_IMAGE} faces, not ${faces.length}.`, { details: { faces: faces.length } });
  }
  for (const face of faces) {
    checkVector(FACE_DIM, face.descriptor, 'face descriptor');
    const { x, y, width, height } = face.box;
    if (![x, y, width, height, face.score].every(Number.isFinite)) {
      throw new ReferentError(ErrorCode.UsageInvalid, 'A face box or score is not a finite number.', { details: { box: face.box, score: face.score } });
    }
  }
}

/** Faces are for people: a switch on any other collection is refused (USAGE_INVALID). */
export function checkPersonCollection(collection: Pick<Collection, 'name' | 'kind'>): void {
  if (collection.kind !== 'person') {
    throw new ReferentError(ErrorCode.UsageInvalid, `Faces are only for person collections: "${collection.name}" is of kind ${collection.kind}.`, {
      details: { collection: collection.name, kind: collection.kind },
    });
  }
}

/** Best first; equal similarities by face id. */
export const bySimilarity = (a: FaceHit, b: FaceHit): number => b.similarity - a.similarity || a.id - b.id;
