/**
 * The chat's `who is this` with a photo: for each face on it (left to right), the labelled person of
 * the person collections this conversation sees with faces on whose face reference matches it at or
 * above SAME_FACE_COSINE (src/faces/face-match.ts), or nobody: a calibrated threshold, never a forced
 * guess. A person query: the caller's `audit` records each collection before a face is compared.
 */
import type { Catalog } from '../catalog/catalog.js';
import { ErrorCode, ReferentError } from '../errors.js';
import { SAME_FACE_COSINE } from '../faces/face-engine.js';
import { whoIsThis } from '../faces/face-match.js';
import { facePlace, type FaceSearchDeps } from '../search/face-search.js';
import type { Visible } from './access.js';
import { cardActions, cardTitle } from './cards.js';
import { PHOTO_NOTE } from './assistant.js';
import type { Card, Reply } from './reply.js';

export async function whoIsThisReply(
  deps: { catalog: Catalog; faces?: FaceSearchDeps },
  visible: Visible,
  image: Uint8Array,
  audit: (collectionId: number) => Promise<void>,
): Promise<Reply> {
  const { catalog } = deps;
  if (!deps.faces) throw new ReferentError(ErrorCode.UsageInvalid, 'Face recognition is not running here, so I cannot tell who this is.');
  const on = new Set(await catalog.faceCollectionIds());
  const collections = visible.collections.filter((c) => c.kind === 'person' && on.has(c.id));
  if (collections.length === 0) throw new ReferentError(ErrorCode.NotFound, 'No person collection with faces on is shared with this conversation, so I cannot tell who this is.');
  for (const c of collections) await audit(c.id);
  const found = await deps.faces.runtime.detect(image);
  if (found.faces.length === 0) return { kind: 'info', text: 'I see no face on that photo.', cards: [] };
  const collectionIds = new Set(collections.map((c) => c.id));
  const faces = [...found.faces].sort((a, b) => a.box.x - b.box.x);
  const lines: string[] = [];
  const cards: Card[] = [];
  for (const face of faces) {
    const who = await whoIsThis(catalog, face.descriptor, { collectionIds });
    const entity = who ? await catalog.getEntity(who.entityId) : null;
    const where = faces.length > 1 ? `The face at ${facePlace(face.box, found.width)}` : 'This';
    if (!who || !entity) {
      lines.push(`${where}: nobody known matches this face (no labelled person's face is within ${SAME_FACE_COSINE.toFixed(2)}).`);
      continue;
    }
    lines.push(`${where} is ${entity.label} (face matches, ${who.similarity.toFixed(2)}).`);
    const [photo] = await catalog.entityItems(entity.id);
    if (photo && !cards.some((c) => c.itemId === photo.id)) {
      const why = `face matches (${who.similarity.toFixed(2)})`;
      const base = { itemId: photo.id, entityId: entity.id, band: null, why };
      const actions = cardActions(base, { text: PHOTO_NOTE, typed: false }).filter((a) => a.kind === 'more');
      cards.push({ itemId: photo.id, mediaKey: photo.mediaKey, title: cardTitle(photo), collection: visible.byId.get(entity.collectionId)?.name ?? '', why, more: 0, actions });
    }
  }
  return { kind: cards.length ? 'results' : 'info', text: lines.join('\n'), cards };
}
